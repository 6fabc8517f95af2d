"""Admission at the WebSocket handshake: identity, subprotocol, Basic Auth, replacement."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from csms import CsmsApp
from tests.conftest import csms_config, eventually

from .client import RawClient


def status_of(exc: pytest.ExceptionInfo[InvalidStatus]) -> int:
    return exc.value.response.status_code


async def test_offered_ocpp16_is_chosen(csms_app: CsmsApp) -> None:
    await csms_app.services.chargers.register("CP-1")
    async with await RawClient.open(
        f"{csms_app.ocpp_url}/CP-1", subprotocols=["ocpp0.1", "ocpp1.6"]
    ) as client:
        assert client.ws.subprotocol == "ocpp1.6"
        assert (await client.boot())["status"] == "Accepted"


@pytest.mark.parametrize("offered", [[], ["ocpp0.1", "ocpp2.0.1x"]])
async def test_no_supported_subprotocol_completes_handshake_then_closes(
    csms_app: CsmsApp, offered: list[str]
) -> None:
    await csms_app.services.chargers.register("CP-1")
    client = await RawClient.open(f"{csms_app.ocpp_url}/CP-1", subprotocols=offered)
    assert client.ws.subprotocol is None
    assert client.ws.response is not None
    assert "Sec-WebSocket-Protocol" not in client.ws.response.headers
    with pytest.raises(ConnectionClosed) as closed:
        await client.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1002


async def test_unsupported_subprotocol_is_logged_counted_and_registers_nobody(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A station that speaks only OCPP 2.1 (not spoken here): refused with 1002, a warning
    naming it and what it offered, a count in /metrics, and no auto-registration."""
    async with CsmsApp(csms_config(tmp_path, auto_register=True)) as app:
        with caplog.at_level(logging.WARNING, logger="csms.server"):
            client = await RawClient.open(f"{app.ocpp_url}/V21-1", subprotocols=["ocpp2.1"])
            with pytest.raises(ConnectionClosed) as closed:
                await client.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1002
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert any("V21-1" in text and "ocpp2.1" in text for text in warnings), warnings
        assert await app.services.chargers.store.get("V21-1") is None
        metrics = app.metrics.exposition().decode()
        assert 'ocpp_handshakes_refused_total{reason="subprotocol"} 1.0' in metrics
        async with await RawClient.open(f"{app.ocpp_url}/V16-1") as accepted:
            assert (await accepted.boot())["status"] == "Accepted"
        assert await app.services.chargers.store.get("V16-1") is not None


async def test_a_charger_offering_both_versions_gets_the_newest_unless_registered_for_one(
    csms_app: CsmsApp,
) -> None:
    chargers = csms_app.services.chargers
    await chargers.register("CP-ANY")
    await chargers.register("CP-16", ocpp_version="1.6")
    await chargers.register("CP-201", ocpp_version="2.0.1")
    both = ["ocpp1.6", "ocpp2.0.1"]
    chosen_for = {"CP-ANY": "ocpp2.0.1", "CP-16": "ocpp1.6", "CP-201": "ocpp2.0.1"}
    for identity, chosen in chosen_for.items():
        async with await RawClient.open(
            f"{csms_app.ocpp_url}/{identity}", subprotocols=both
        ) as client:
            assert client.ws.subprotocol == chosen, identity
    async with await RawClient.open(f"{csms_app.ocpp_url}/CP-16", subprotocols=both) as client:
        assert (await client.boot())["status"] == "Accepted"  # spoken as 1.6


async def test_a_charger_not_offering_its_registered_version_is_closed_saying_so(
    csms_app: CsmsApp, caplog: pytest.LogCaptureFixture
) -> None:
    await csms_app.services.chargers.register("CP-201", ocpp_version="2.0.1")
    with caplog.at_level(logging.WARNING, logger="csms.server"):
        client = await RawClient.open(f"{csms_app.ocpp_url}/CP-201", subprotocols=["ocpp1.6"])
        assert client.ws.subprotocol is None
        with pytest.raises(ConnectionClosed) as closed:
            await client.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1002
    assert closed.value.rcvd.reason == "Registered for OCPP 2.0.1, not offered"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("CP-201" in text and "2.0.1" in text for text in warnings), warnings
    metrics = csms_app.metrics.exposition().decode()
    assert 'ocpp_handshakes_refused_total{reason="subprotocol"} 1.0' in metrics
    row = await csms_app.services.chargers.get("CP-201")
    assert row is not None and not row["online"] and row["connected_at"] is None


async def test_a_registered_version_must_be_one_the_csms_speaks(csms_app: CsmsApp) -> None:
    with pytest.raises(ValueError, match=r"'2\.1' is not an OCPP version the CSMS speaks"):
        await csms_app.services.chargers.register("CP-21", ocpp_version="2.1")
    assert await csms_app.services.chargers.get("CP-21") is None


async def test_identity_is_last_path_segment_percent_decoded(csms_app: CsmsApp) -> None:
    await csms_app.services.chargers.register("CP 1é")
    port = csms_app.ocpp_port
    for path in ("/ocpp/CP%201%C3%A9", "/CP%201%C3%A9", "/a/b/CP%201%C3%A9/"):
        async with await RawClient.open(f"ws://127.0.0.1:{port}{path}") as client:
            assert (await client.boot())["status"] == "Accepted"
    row = await csms_app.services.chargers.store.get("CP 1é")
    assert row is not None and row["vendor"] == "Test"


@pytest.mark.parametrize(
    ("path", "status"),
    [("/", 400), ("/ocpp/" + "X" * 49, 400), ("/ocpp/a%3Ab", 400), ("/ocpp/a%2Fb", 400)],
)
async def test_bad_identity_refused(csms_app: CsmsApp, path: str, status: int) -> None:
    with pytest.raises(InvalidStatus) as refused:
        await RawClient.open(f"ws://127.0.0.1:{csms_app.ocpp_port}{path}")
    assert status_of(refused) == status


async def test_unknown_identity_refused_with_404(csms_app: CsmsApp) -> None:
    with pytest.raises(InvalidStatus) as refused:
        await RawClient.open(f"{csms_app.ocpp_url}/NOBODY")
    assert status_of(refused) == 404
    assert await csms_app.services.chargers.store.get("NOBODY") is None


async def test_auto_register_admits_and_stores_unknown_identity(tmp_path: Path) -> None:
    async with CsmsApp(csms_config(tmp_path, auto_register=True)) as app:
        async with await RawClient.open(f"{app.ocpp_url}/NEW-1") as client:
            assert (await client.boot())["status"] == "Accepted"
        assert await app.services.chargers.store.get("NEW-1") is not None


async def test_disabled_charger_refused(csms_app: CsmsApp) -> None:
    await csms_app.services.chargers.register("CP-OFF", enabled=False)
    with pytest.raises(InvalidStatus) as refused:
        await RawClient.open(f"{csms_app.ocpp_url}/CP-OFF")
    assert status_of(refused) == 403


async def test_never_connected_charger_is_admitted(csms_app: CsmsApp) -> None:
    """The reference design refused chargers stored OFFLINE, i.e. all of them. Not us."""
    await csms_app.services.chargers.register("CP-NEW")
    row = await csms_app.services.chargers.store.get("CP-NEW")
    assert row is not None and row["online"] == 0
    async with await RawClient.open(f"{csms_app.ocpp_url}/CP-NEW") as client:
        assert (await client.boot())["status"] == "Accepted"


class TestBasicAuth:
    async def test_right_password_admitted(self, csms_app: CsmsApp) -> None:
        await csms_app.services.chargers.register("CP-S", password="s3cret-password-1")
        url = f"{csms_app.ocpp_url}/CP-S"
        async with await RawClient.open(url, password="s3cret-password-1") as client:
            assert (await client.boot())["status"] == "Accepted"

    @pytest.mark.parametrize(
        ("username", "password"),
        [(None, None), (None, "wrong"), ("OTHER", "s3cret-password-1"), (None, "")],
    )
    async def test_wrong_or_missing_credentials_get_401(
        self, csms_app: CsmsApp, username: str | None, password: str | None
    ) -> None:
        await csms_app.services.chargers.register("CP-S", password="s3cret-password-1")
        with pytest.raises(InvalidStatus) as refused:
            await RawClient.open(f"{csms_app.ocpp_url}/CP-S", password=password, username=username)
        assert status_of(refused) == 401
        assert "WWW-Authenticate" in refused.value.response.headers

    async def test_password_is_stored_salted_and_hashed(self, csms_app: CsmsApp) -> None:
        await csms_app.services.chargers.register("CP-A", password="same-password-16")
        await csms_app.services.chargers.register("CP-B", password="same-password-16")
        a = await csms_app.services.chargers.store.get("CP-A")
        b = await csms_app.services.chargers.store.get("CP-B")
        assert a and b
        assert "same-password-16" not in a["password_hash"]
        assert a["password_hash"] != b["password_hash"]

    async def test_charger_without_password_needs_no_credentials(self, csms_app: CsmsApp) -> None:
        await csms_app.services.chargers.register("CP-LAB")
        async with await RawClient.open(f"{csms_app.ocpp_url}/CP-LAB") as client:
            assert (await client.boot())["status"] == "Accepted"


async def test_second_connection_replaces_the_first(csms_app: CsmsApp) -> None:
    await csms_app.services.chargers.register("CP-1")
    first = await RawClient.open(f"{csms_app.ocpp_url}/CP-1")
    await first.boot()
    second = await RawClient.open(f"{csms_app.ocpp_url}/CP-1")
    with pytest.raises(ConnectionClosed) as closed:
        await first.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1000
    # The accepted boot is remembered: no SecurityError on the new connection.
    assert set(await second.result("Heartbeat", {})) == {"currentTime"}
    assert csms_app.registry.get("CP-1") is not None
    row = await csms_app.services.chargers.store.get("CP-1")
    assert row is not None and row["online"] == 1
    await second.close()

    async def offline() -> bool:
        row = await csms_app.services.chargers.store.get("CP-1")
        return row is not None and row["online"] == 0

    await eventually(offline)
