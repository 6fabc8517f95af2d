"""2.0.1 on the security profiles' listeners (TLS 1.2 or newer), and no acknowledged
TransactionEvent lost to a SIGKILL."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trustme
from websockets.exceptions import ConnectionClosed, InvalidStatus

from csms import CsmsApp
from csms.process import CsmsProcess
from csms.tls import server_context
from tests.conftest import csms_config

from .station import Station, energy, event

STATIONS = 4


@pytest.fixture
async def tls_app(tmp_path: Path) -> AsyncIterator[tuple[CsmsApp, trustme.CA]]:
    ca = trustme.CA()
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(
        str(tmp_path / "server.pem")
    )
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    config = csms_config(
        tmp_path, tls_port=0, mtls_port=0, tls_cert=tmp_path / "server.pem",
        tls_client_ca=tmp_path / "ca.pem",
    )  # fmt: skip
    async with CsmsApp(config) as app:
        await app.services.chargers.register(
            "CS-2", password="profile-two-password", security_profile=2
        )
        await app.services.chargers.register("CS-3", security_profile=3)
        yield app, ca


def context(ca: trustme.CA, name: str | None = None) -> ssl.SSLContext:
    found = ssl.create_default_context()
    ca.configure_trust(found)
    if name is not None:
        ca.issue_cert(f"{name.lower()}.example", common_name=name).configure_cert(found)
    return found


async def test_profiles_2_and_3_serve_2_0_1(tls_app: tuple[CsmsApp, trustme.CA]) -> None:
    app, ca = tls_app
    url = app.url_for_profile(2)
    async with await Station.connect(
        f"{url}/CS-2", password="profile-two-password", ssl_context=context(ca)
    ) as station:
        assert station.ws.subprotocol == "ocpp2.0.1"
        assert (await station.boot())["status"] == "Accepted"
    async with await Station.connect(
        f"{app.url_for_profile(3)}/CS-3", ssl_context=context(ca, "CS-3")
    ) as station:
        assert (await station.boot())["status"] == "Accepted"


def test_the_listeners_take_tls_1_2_or_newer_only(tmp_path: Path) -> None:
    """The same contexts serve both versions; what a client below TLS 1.2 meets (clients of
    today's OpenSSL refuse to offer 1.1 themselves, so this is read from the context)."""
    ca = trustme.CA()
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(
        str(tmp_path / "server.pem")
    )
    listener = server_context(tmp_path / "server.pem", None)
    assert listener.minimum_version == ssl.TLSVersion.TLSv1_2


async def station_loop(url: str, n: int, acknowledged: set[tuple[str, int]]) -> None:
    """Send TransactionEvents until the CSMS dies, noting each one answered."""
    with contextlib.suppress(ConnectionClosed, OSError, TimeoutError):
        station = await Station.connect(f"{url}/KILL-{n}")
        await station.boot()
        for k in range(100_000):
            tx = f"T{n}-{k // 5}"
            kind = ("Started", "Updated", "Updated", "Updated", "Ended")[k % 5]
            await station.result("TransactionEvent", event(kind, k % 5, tx, meterValue=energy(k)))
            acknowledged.add((tx, k % 5))


async def test_sigkill_loses_no_acknowledged_transaction_event(tmp_path: Path) -> None:
    db = tmp_path / "kill.db"
    csms = await asyncio.to_thread(CsmsProcess(db).start)
    acknowledged: set[tuple[str, int]] = set()
    loops = [asyncio.create_task(station_loop(csms.url, n, acknowledged)) for n in range(STATIONS)]
    try:
        for _ in range(300):
            if len(acknowledged) >= 60:
                break
            await asyncio.sleep(0.05)
        await asyncio.to_thread(csms.kill)
    finally:
        csms.stop()
        await asyncio.wait_for(asyncio.gather(*loops), 30)
    assert len(acknowledged) >= 60, f"too little traffic before the kill: {len(acknowledged)}"
    with sqlite3.connect(db) as connection:
        stored = set(
            connection.execute(
                "SELECT t.station_transaction_id, e.seq_no FROM transaction_events AS e"
                " JOIN transactions AS t ON t.id = e.transaction_id"
            ).fetchall()
        )
        ended = {
            row[0]
            for row in connection.execute(
                "SELECT station_transaction_id FROM transactions WHERE status = 'Completed'"
            )
        }
    assert acknowledged <= stored, f"lost: {sorted(acknowledged - stored)[:10]}"
    assert {tx for tx, seq_no in acknowledged if seq_no == 4} <= ended


async def refusal(url: str, **options: object) -> int:
    """The HTTP status a station's handshake at `url` is refused with (0: admitted)."""
    try:
        async with await Station.connect(url, **options):  # type: ignore[arg-type]
            return 0
    except InvalidStatus as exc:
        return exc.response.status_code


async def test_a_network_profile_of_a_higher_security_profile_is_kept_once_it_connects(
    tls_app: tuple[CsmsApp, trustme.CA],
) -> None:
    """A05: an accepted SetNetworkProfile of profile 2 lets the profile-1 station connect
    over TLS too; the first such connection makes profile 2 its own, and profile 1 is
    refused from then on. Until then it keeps profile 1 (a station that could not connect
    with the new profile falls back to the old one, and is still admitted)."""
    app, ca = tls_app
    chargers = app.services.chargers
    password = "upgrading-station-password"
    await chargers.register("CS-UP", password=password, security_profile=1)
    connection = {
        "ocppVersion": "OCPP20",
        "ocppTransport": "JSON",
        "ocppCsmsUrl": f"{app.url_for_profile(2)}/CS-UP",
        "messageTimeout": 30,
        "securityProfile": 2,
        "ocppInterface": "Wired0",
    }
    plain, tls = f"{app.ocpp_url}/CS-UP", f"{app.url_for_profile(2)}/CS-UP"
    assert await refusal(tls, password=password, ssl_context=context(ca)) == 403
    async with await Station.connect(plain, password=password) as station:
        assert (await station.boot())["status"] == "Accepted"
        request = {"configurationSlot": 1, "connectionData": connection}
        sent = app.operations.send("CS-UP", "SetNetworkProfile", request, 5)
        await asyncio.gather(sent, station.answer("SetNetworkProfile", {"status": "Accepted"}))
    row = await chargers.get("CS-UP")
    assert row is not None and row["security_profile"] == 1
    assert await refusal(plain, password=password) == 0  # the fallback is still admitted
    assert await refusal(tls, password="not-the-stations-password", ssl_context=context(ca)) == 401
    async with await Station.connect(tls, password=password, ssl_context=context(ca)) as station:
        assert (await station.boot())["status"] == "Accepted"  # served: the upgrade is kept
    row = await chargers.get("CS-UP")
    assert row is not None and row["security_profile"] == 2
    assert [e["detail"] for e in await chargers.events("CS-UP", "SecurityProfileUpgraded")] == ["2"]
    assert await refusal(plain, password=password) == 403
