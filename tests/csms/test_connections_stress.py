"""Connections under stress: chargers that ignore pings, drop mid-transaction, reconnect in a
storm, or never read their socket. The CSMS cleans up, keeps every transaction, stays bounded
in memory, and the other chargers are unaffected."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode

from csms import CsmsApp
from ocppj import V16, RpcSession
from ocppj.session import INBOX_LIMIT
from tests.conftest import csms_config, eventually

from .client import RawClient

NOW = "2026-11-24T10:00:00Z"


async def online(app: CsmsApp, charger_id: str) -> int | None:
    row = await app.services.chargers.store.get(charger_id)
    return None if row is None else int(row["online"])


async def booted(app: CsmsApp, charger_id: str) -> RawClient:
    await app.services.chargers.register(charger_id)
    client = await RawClient.open(f"{app.ocpp_url}/{charger_id}")
    assert (await client.boot())["status"] == "Accepted"
    return client


async def test_charger_that_never_answers_pings_is_dropped(tmp_path: Path) -> None:
    config = csms_config(tmp_path, ping_interval=0.2, ping_timeout=0.3, close_timeout=0.2)
    async with CsmsApp(config) as app:
        mute = await booted(app, "CP-MUTE")
        healthy = await booted(app, "CP-OK")
        started = await mute.result(
            "StartTransaction", {"connectorId": 1, "idTag": "T", "meterStart": 0, "timestamp": NOW}
        )
        send_frame = mute.ws.protocol.send_frame

        def no_pong(frame: Frame) -> None:
            if frame.opcode is not Opcode.PONG:
                send_frame(frame)

        mute.ws.protocol.send_frame = no_pong  # type: ignore[method-assign]
        # it keeps talking, but a charger that never pongs is dropped all the same
        closed_with = None
        for _ in range(40):
            try:
                await mute.result("Heartbeat", {})
            except (ConnectionClosed, TimeoutError) as exc:
                closed_with = exc
                break
            await asyncio.sleep(0.05)
        assert isinstance(closed_with, ConnectionClosed), "not dropped within 2 s"
        assert closed_with.rcvd is None or closed_with.rcvd.code == 1011

        async def cleaned_up() -> bool:
            return app.registry.get("CP-MUTE") is None and await online(app, "CP-MUTE") == 0

        await eventually(cleaned_up)
        row = await app.services.transactions.transactions.get(started["transactionId"])
        assert row is not None and row["status"] == "Active"  # the charger reports the stop later
        # the healthy charger answered every ping meanwhile and is still there
        assert "currentTime" in await healthy.result("Heartbeat", {})
        assert await online(app, "CP-OK") == 1
        await healthy.close()


async def test_abrupt_disconnect_mid_transaction_keeps_the_transaction(
    csms_app: CsmsApp,
) -> None:
    client = await booted(csms_app, "CP-1")
    started = await client.result(
        "StartTransaction", {"connectorId": 1, "idTag": "T", "meterStart": 10, "timestamp": NOW}
    )
    tid = started["transactionId"]
    client.ws.transport.abort()  # no close frame

    async def offline() -> bool:
        return csms_app.registry.get("CP-1") is None and await online(csms_app, "CP-1") == 0

    await eventually(offline)
    row = await csms_app.services.transactions.transactions.get(tid)
    assert row is not None and row["status"] == "Active"
    # back online without a reboot: the stop it queued is accepted
    again = await RawClient.open(f"{csms_app.ocpp_url}/CP-1")
    stop = {"transactionId": tid, "meterStop": 90, "timestamp": "2026-11-24T10:30:00Z"}
    assert await again.result("StopTransaction", stop) == {}
    row = await csms_app.services.transactions.transactions.get(tid)
    assert row is not None and row["status"] == "Completed" and row["meter_stop"] == 90
    assert await online(csms_app, "CP-1") == 1
    await again.close()


CHARGERS = 300
ROUNDS = 3  # the first connection and two reconnects


async def test_reconnect_storm_ends_with_everyone_online_and_nothing_lost(
    csms_app: CsmsApp,
) -> None:
    ids = [f"STORM-{n:03d}" for n in range(CHARGERS)]
    for charger_id in ids:
        await csms_app.services.chargers.register(charger_id)
    gate = asyncio.Semaphore(100)  # connections opened at once
    clients: dict[str, RawClient] = {}
    transactions: dict[str, int] = {}

    async def life(charger_id: str, round_no: int) -> None:
        async with gate:
            client = await RawClient.open(f"{csms_app.ocpp_url}/{charger_id}")
        if round_no == 0:
            assert (await client.boot())["status"] == "Accepted"
            started = await client.result(
                "StartTransaction",
                {"connectorId": 1, "idTag": charger_id[-12:], "meterStart": 0, "timestamp": NOW},
            )
            transactions[charger_id] = started["transactionId"]
        else:
            meter = {
                "connectorId": 1,
                "transactionId": transactions[charger_id],
                "meterValue": [{"timestamp": NOW, "sampledValue": [{"value": str(round_no)}]}],
            }
            assert await client.result("MeterValues", meter) == {}
        previous = clients.get(charger_id)
        clients[charger_id] = client
        if previous is not None:
            if round_no % 2:
                previous.ws.transport.abort()  # dropped: no close frame
            else:
                await previous.close()

    async with asyncio.timeout(60):
        for round_no in range(ROUNDS):
            async with asyncio.TaskGroup() as group:
                for charger_id in ids:
                    group.create_task(life(charger_id, round_no))

        async def all_online() -> bool:
            rows = await csms_app.services.chargers.store.find(limit=10 * CHARGERS)
            return len(csms_app.registry) == CHARGERS and all(
                r["online"] == 1 for r in rows if r["id"].startswith("STORM-")
            )

        await eventually(all_online, timeout=10)
    store = csms_app.services.transactions.transactions
    assert len(set(transactions.values())) == CHARGERS
    for charger_id, tid in transactions.items():
        row = await store.get(tid)
        assert row is not None and row["charger_id"] == charger_id and row["status"] == "Active"
        assert [v["value"] for v in await store.meter_values(tid)] == ["1", "2"]
    for client in clients.values():
        await client.close()


async def test_slow_reader_keeps_csms_memory_bounded(csms_app: CsmsApp) -> None:
    """A charger pipelines CALLs and never reads. The CSMS stops reading it once its inbox
    holds INBOX_LIMIT calls; websockets keeps at most write_limit bytes buffered for the
    socket; TCP then pushes back on the charger. Nothing is lost once it reads again."""
    await csms_app.services.chargers.register("CP-SLOW")
    await csms_app.services.chargers.register("CP-OK")
    raw = socket.create_connection(("127.0.0.1", csms_app.ocpp_port))
    for option in (socket.SO_RCVBUF, socket.SO_SNDBUF):  # small kernel buffers: the test
        raw.setsockopt(socket.SOL_SOCKET, option, 4096)  # measures the CSMS's own buffers
    slow = await connect(
        f"{csms_app.ocpp_url}/CP-SLOW",
        sock=raw,
        subprotocols=["ocpp1.6"],  # type: ignore[list-item]
        compression=None,
        max_queue=1,
        write_limit=4096,
    )
    connection = csms_app.registry.get("CP-SLOW")
    assert connection is not None
    server_socket = connection.websocket.transport.get_extra_info("socket")
    for option in (socket.SO_RCVBUF, socket.SO_SNDBUF):
        server_socket.setsockopt(socket.SOL_SOCKET, option, 4096)
    boot = {"chargePointVendor": "S", "chargePointModel": "S"}
    await slow.send(json.dumps([2, "boot", "BootNotification", boot]))
    sent = 0
    limit = 3000
    with_payload: dict[str, Any] = {"vendorId": "v", "data": "x" * 8000}
    async with asyncio.timeout(20):
        while sent < limit:
            try:
                await asyncio.wait_for(
                    slow.send(json.dumps([2, f"s{sent}", "DataTransfer", with_payload])), 0.5
                )
            except TimeoutError:
                break  # TCP pushed back: the CSMS stopped reading us
            sent += 1
    assert sent < limit, "the CSMS read everything: its buffers are not bounded"
    session = connection.session
    assert session._inbox.qsize() <= INBOX_LIMIT
    buffered = connection.websocket.transport.get_write_buffer_size()
    assert buffered <= 32 * 1024 + 1024, buffered  # websockets' default write_limit
    # another charger is served meanwhile
    other = await booted(csms_app, "CP-OK")
    assert "currentTime" in await other.result("Heartbeat", {})
    await other.close()
    # reading again, every CALL gets its answer, in order
    answers = []
    async with asyncio.timeout(30):
        while len(answers) < sent + 1:
            answers.append(json.loads(await slow.recv()))
    assert [a[1] for a in answers] == ["boot"] + [f"s{n}" for n in range(sent)]
    assert all(a[0] == 3 for a in answers)
    await slow.close()


class StalledTransport:
    """A peer that sends CALLs as fast as it can and never drains our answers, until it is
    gone: then every send and recv fails as websockets does."""

    def __init__(self) -> None:
        self.gone = asyncio.Event()
        self.received = 0

    async def recv(self) -> str:
        if self.gone.is_set():
            raise ConnectionClosed(None, None)
        self.received += 1
        await asyncio.sleep(0)
        return json.dumps([2, f"c{self.received}", "Heartbeat", {}])

    async def send(self, message: str) -> None:
        await self.gone.wait()
        raise ConnectionClosed(None, None)


async def test_a_full_inbox_does_not_outlive_the_connection() -> None:
    """Gone while the inbox is full: the session still ends (the receive loop must not wait
    for room in an inbox that nobody empties any more)."""
    transport = StalledTransport()

    async def heartbeat(payload: dict[str, Any]) -> dict[str, Any]:
        return {"currentTime": NOW}

    session = RpcSession(transport, V16, {"Heartbeat": heartbeat})
    runner = asyncio.create_task(session.run())
    await eventually(_true_when(lambda: session._inbox.full()))
    assert transport.received <= INBOX_LIMIT + 2  # reading stopped
    transport.gone.set()
    await asyncio.wait_for(runner, 2)
    assert session.closed.is_set()


def _true_when(predicate: Callable[[], bool]) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return predicate()

    return check
