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
from websockets.exceptions import ConnectionClosed

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


async def test_a_reset_after_a_higher_network_profile_raises_the_security_profile(
    csms_app: CsmsApp,
) -> None:
    """A05: SetNetworkProfile (profile 2 in slot 1), the priority "1,0", Reset: once the
    Reset is accepted the charger is registered with profile 2."""
    await csms_app.services.chargers.register("CS-UP")
    connection = {
        "ocppVersion": "OCPP20",
        "ocppTransport": "JSON",
        "ocppCsmsUrl": "wss://127.0.0.1:1/ocpp",
        "messageTimeout": 30,
        "securityProfile": 2,
        "ocppInterface": "Wired0",
    }
    priority = {
        "component": {"name": "OCPPCommCtrlr"},
        "variable": {"name": "NetworkConfigurationPriority"},
    }
    steps = [
        (
            "SetNetworkProfile",
            {"configurationSlot": 1, "connectionData": connection},
            {"status": "Accepted"},
        ),
        (
            "SetVariables",
            {"setVariableData": [{**priority, "attributeValue": "1,0"}]},
            {"setVariableResult": [{**priority, "attributeStatus": "RebootRequired"}]},
        ),
        ("Reset", {"type": "OnIdle"}, {"status": "Accepted"}),
    ]
    async with await Station.connect(f"{csms_app.ocpp_url}/CS-UP") as station:
        assert (await station.boot())["status"] == "Accepted"
        for action, payload, answer in steps:
            row = await csms_app.services.chargers.get("CS-UP")
            assert row is not None and row["security_profile"] is None, action
            sent = csms_app.operations.send("CS-UP", action, payload, 5)
            await asyncio.gather(sent, station.answer(action, answer))
    row = await csms_app.services.chargers.get("CS-UP")
    assert row is not None and row["security_profile"] == 2
    events = await csms_app.services.chargers.events("CS-UP", "SecurityProfileUpgraded")
    assert [e["detail"] for e in events] == ["2"]
