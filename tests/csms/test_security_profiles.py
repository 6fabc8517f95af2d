"""Security profiles 2 (TLS + Basic Auth) and 3 (mutual TLS): one profile per listener."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trustme
from websockets.exceptions import InvalidMessage, InvalidStatus

from csms import CsmsApp, CsmsConfig
from csms.process import CsmsProcess
from csms.services import Services
from csms.store import Database
from ocppj import V16, RpcSession
from tests.conftest import csms_config

from .client import RawClient


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
async def app(tmp_path: Path, ca: trustme.CA) -> AsyncIterator[CsmsApp]:
    server = ca.issue_cert("127.0.0.1", "localhost")
    server.private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "server.pem"))
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    config = csms_config(
        tmp_path,
        tls_port=0,
        mtls_port=0,
        tls_cert=tmp_path / "server.pem",
        tls_client_ca=tmp_path / "ca.pem",
    )
    async with CsmsApp(config) as app:
        chargers = app.services.chargers
        await chargers.register("CP-1", password="profile-one-password")
        await chargers.register("CP-2", password="profile-two-password", security_profile=2)
        await chargers.register("CP-3", security_profile=3)
        yield app


def client_context(ca: trustme.CA, common_name: str | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    if common_name is not None:
        ca.issue_cert(
            f"{common_name.lower()}.chargers.example", common_name=common_name
        ).configure_cert(context)
    return context


async def refused(url: str, **options: object) -> int:
    with pytest.raises(InvalidStatus) as refusal:
        await RawClient.open(url, **options)  # type: ignore[arg-type]
    return refusal.value.response.status_code


async def test_profile_2_over_tls_with_password(app: CsmsApp, ca: trustme.CA) -> None:
    url = app.url_for_profile(2)
    assert url.startswith("wss://")
    async with await RawClient.open(
        f"{url}/CP-2", password="profile-two-password", ssl_context=client_context(ca)
    ) as client:
        assert (await client.boot())["status"] == "Accepted"
    assert await refused(f"{url}/CP-2", ssl_context=client_context(ca)) == 401
    assert await refused(f"{app.ocpp_url}/CP-2", password="profile-two-password") == 403


async def test_profile_3_binds_identity_to_client_certificate(app: CsmsApp, ca: trustme.CA) -> None:
    url = app.url_for_profile(3)
    async with await RawClient.open(f"{url}/CP-3", ssl_context=client_context(ca, "CP-3")) as c:
        assert (await c.boot())["status"] == "Accepted"
    assert await refused(f"{url}/CP-3", ssl_context=client_context(ca, "CP-OTHER")) == 403
    assert await refused(f"{app.url_for_profile(2)}/CP-3", ssl_context=client_context(ca)) == 403
    with pytest.raises((OSError, InvalidMessage)):  # no client certificate: TLS refuses it
        await RawClient.open(f"{url}/CP-3", ssl_context=client_context(ca))


async def test_a_charger_is_refused_on_another_profiles_listener(
    app: CsmsApp, ca: trustme.CA
) -> None:
    tls = app.url_for_profile(2)
    options = {"password": "profile-one-password", "ssl_context": client_context(ca)}
    assert await refused(f"{tls}/CP-1", **options) == 403
    async with await RawClient.open(f"{app.ocpp_url}/CP-1", password="profile-one-password") as c:
        assert (await c.boot())["status"] == "Accepted"


async def test_upgrading_the_security_profile_takes_effect_when_accepted(
    app: CsmsApp, ca: trustme.CA
) -> None:
    """TC_083: ChangeConfiguration SecurityProfile=2, accepted; from then on only wss://."""
    client = await RawClient.open(f"{app.ocpp_url}/CP-1", password="profile-one-password")
    await client.boot()
    session = RpcSession(
        client.ws,
        V16,
        {"ChangeConfiguration": _accept},  # type: ignore[dict-item]
    )
    runner = asyncio.create_task(session.run())
    try:
        answer = await app.operations.send(
            "CP-1", "ChangeConfiguration", {"key": "SecurityProfile", "value": "2"}
        )
        assert answer == {"status": "Accepted"}
    finally:
        await client.close()
        await runner
    assert await refused(f"{app.ocpp_url}/CP-1", password="profile-one-password") == 403
    async with await RawClient.open(
        f"{app.url_for_profile(2)}/CP-1",
        password="profile-one-password",
        ssl_context=client_context(ca),
    ) as c:
        assert "currentTime" in await c.result("Heartbeat", {})


async def _accept(payload: dict[str, object]) -> dict[str, object]:
    return {"status": "Accepted"}


async def test_auto_registration_registers_nobody_on_a_refused_handshake(
    app: CsmsApp, ca: trustme.CA
) -> None:
    """An unknown charger would be registered for profile 1: on the TLS listener it is
    refused, and left unregistered."""
    app.config.auto_register = True
    assert await refused(f"{app.url_for_profile(2)}/NEW-1", ssl_context=client_context(ca)) == 403
    assert await app.services.chargers.store.get("NEW-1") is None
    metrics = app.metrics.exposition().decode()
    assert 'ocpp_handshakes_refused_total{reason="forbidden"} 1.0' in metrics


@pytest.fixture
async def one_port(tmp_path: Path, ca: trustme.CA) -> AsyncIterator[CsmsApp]:
    """Profiles 2 and 3 on one wss:// listener (`wss_port`), no per-profile port."""
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(
        str(tmp_path / "server.pem")
    )
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    config = csms_config(
        tmp_path, wss_port=0, tls_cert=tmp_path / "server.pem", tls_client_ca=tmp_path / "ca.pem"
    )
    async with CsmsApp(config) as app:
        chargers = app.services.chargers
        await chargers.register("CP-1", password="profile-one-password")
        await chargers.register("CP-2", password="profile-two-password", security_profile=2)
        await chargers.register("CP-3", security_profile=3)
        yield app


async def test_one_tls_port_serves_profile_2_and_profile_3(
    one_port: CsmsApp, ca: trustme.CA
) -> None:
    url = one_port.wss_url
    assert one_port.url_for_profile(2) == one_port.url_for_profile(3) == url
    async with (
        await RawClient.open(
            f"{url}/CP-2", password="profile-two-password", ssl_context=client_context(ca)
        ) as basic,
        await RawClient.open(f"{url}/CP-3", ssl_context=client_context(ca, "CP-3")) as mtls,
    ):
        assert (await basic.boot())["status"] == "Accepted"
        assert (await mtls.boot())["status"] == "Accepted"
        assert sorted(one_port.registry.ids()) == ["CP-2", "CP-3"]


async def test_one_tls_port_refuses_whoever_lacks_what_its_profile_needs(
    one_port: CsmsApp, ca: trustme.CA
) -> None:
    url = one_port.wss_url
    # profile 3 without a client certificate: the TLS handshake passes, admission refuses
    assert await refused(f"{url}/CP-3", ssl_context=client_context(ca)) == 403
    assert await refused(f"{url}/CP-3", ssl_context=client_context(ca, "CP-OTHER")) == 403
    # a certificate for CP-3 does not stand in for CP-2's password
    assert await refused(f"{url}/CP-2", ssl_context=client_context(ca, "CP-2")) == 401
    # profile 1 belongs on ws://
    options = {"password": "profile-one-password", "ssl_context": client_context(ca)}
    assert await refused(f"{url}/CP-1", **options) == 403
    # a certificate from another CA fails the TLS handshake, optional or not
    stranger = client_context(ca)
    trustme.CA().issue_cert("cp-3.example", common_name="CP-3").configure_cert(stranger)
    with pytest.raises((OSError, InvalidMessage)):
        await RawClient.open(f"{url}/CP-3", ssl_context=stranger)


async def test_csms_serve_wss_port_prints_one_url_for_both_profiles(
    tmp_path: Path, ca: trustme.CA
) -> None:
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(
        str(tmp_path / "server.pem")
    )
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    db = tmp_path / "csms.db"
    database = await Database.open(db)
    try:
        services = Services.build(database, CsmsConfig(db_path=db))
        await services.chargers.register(
            "CP-2", password="profile-two-password", security_profile=2
        )
        await services.chargers.register("CP-3", security_profile=3)
    finally:
        await database.close()
    tls = ["--tls-cert", str(tmp_path / "server.pem"), "--tls-client-ca", str(tmp_path / "ca.pem")]
    with CsmsProcess(db, extra=["--wss-port", "0", *tls]) as csms:
        url = csms.profile_urls[2]
        assert url.startswith("wss://") and csms.profile_urls[3] == url
        async with await RawClient.open(
            f"{url}/CP-2", password="profile-two-password", ssl_context=client_context(ca)
        ) as basic:
            assert (await basic.boot())["status"] == "Accepted"
        async with await RawClient.open(
            f"{url}/CP-3", ssl_context=client_context(ca, "CP-3")
        ) as mtls:
            assert (await mtls.boot())["status"] == "Accepted"
