"""The simulator against a misbehaving CSMS: tiny servers that answer with CALLERRORs, never
answer, send garbage, close the connection, or never accept the boot. The charge point survives,
retries as OCPP 1.6 says (boot again after the interval, reconnect with back-off), and says
what happened."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from simulator import NotConnected, create_charge_point
from tests.conftest import eventually

from .conftest import fast_spec

Behaviour = Callable[[ServerConnection, list[Any]], Awaitable[None]]


class TinyCsms:
    """Calls `behaviour(websocket, frame)` for every frame received; records them all."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.received: list[list[Any]] = []
        self.connections = 0

    async def handler(self, websocket: ServerConnection) -> None:
        self.connections += 1
        try:
            async for raw in websocket:
                frame = json.loads(raw)
                self.received.append(frame)
                await self.behaviour(websocket, frame)
        except ConnectionClosed:
            return

    def actions(self) -> list[str]:
        return [f[2] for f in self.received if f[0] == 2]


@asynccontextmanager
async def tiny_csms(behaviour: Behaviour) -> AsyncIterator[tuple[TinyCsms, str]]:
    csms = TinyCsms(behaviour)
    async with serve(
        csms.handler, "127.0.0.1", 0, subprotocols=["ocpp1.6"], compression=None
    ) as server:  # type: ignore[list-item]
        port = server.sockets[0].getsockname()[1]
        yield csms, f"ws://127.0.0.1:{port}/ocpp"


def accepted(frame: list[Any]) -> str:
    now = datetime.now(UTC).isoformat()
    return json.dumps([3, frame[1], {"status": "Accepted", "currentTime": now, "interval": 60}])


async def answer_normally(websocket: ServerConnection, frame: list[Any]) -> None:
    if frame[0] != 2:
        return
    if frame[2] == "BootNotification":
        await websocket.send(accepted(frame))
    elif frame[2] == "Heartbeat":
        await websocket.send(json.dumps([3, frame[1], {"currentTime": "2026-11-24T10:00:00Z"}]))
    else:
        await websocket.send(json.dumps([3, frame[1], {}]))


async def test_callerrors_to_the_boot_are_retried_and_reported() -> None:
    async def refuse(websocket: ServerConnection, frame: list[Any]) -> None:
        await websocket.send(json.dumps([4, frame[1], "InternalError", "database down", {}]))

    async with tiny_csms(refuse) as (csms, url):
        cp = create_charge_point(fast_spec(boot_retry_s=0.05), url)
        with pytest.raises(NotConnected, match=r"not booted within 0\.5 s"):
            await cp.start(timeout=0.5)
        await cp.close()
    assert csms.actions().count("BootNotification") >= 3
    assert set(csms.actions()) == {"BootNotification"}  # nothing else before acceptance
    errors = [e for e in cp.transcript if e.direction == "in" and e.frame is not None]
    assert errors and all(getattr(e.frame, "code", None) == "InternalError" for e in errors)


async def test_a_csms_that_never_answers_gets_the_boot_again_after_a_timeout() -> None:
    async def ignore(websocket: ServerConnection, frame: list[Any]) -> None:
        return

    async with tiny_csms(ignore) as (csms, url):
        cp = create_charge_point(fast_spec(call_timeout_s=0.1, boot_retry_s=0.05), url)
        with pytest.raises(NotConnected, match="registration Pending"):
            await cp.start(timeout=0.8)
        await cp.close()
    assert csms.actions().count("BootNotification") >= 2
    assert csms.connections == 1  # a missing answer is no reason to reconnect


async def test_garbage_from_the_csms_gets_callerrors_and_the_link_lives_on() -> None:
    async def garbage_first(websocket: ServerConnection, frame: list[Any]) -> None:
        if frame[0] == 2 and frame[2] == "BootNotification":
            await websocket.send("this is not json")
            await websocket.send(b"\x00\x01binary")
            await websocket.send(json.dumps([3, "never-asked", {}]))  # an answer to nothing
            await websocket.send(json.dumps([2, "x1", "NoSuchAction", {}]))
            await websocket.send(json.dumps([2, "x2", "Reset", {"type": "Sideways"}]))
        await answer_normally(websocket, frame)

    async with tiny_csms(garbage_first) as (csms, url):
        cp = create_charge_point(fast_spec(), url)
        await cp.start(timeout=3)
        assert cp.registration == "Accepted"
        await cp.plug_in(1)  # the link still carries calls

        async def answered() -> bool:
            return len([f for f in csms.received if f[0] == 4]) >= 4

        await eventually(answered)
        await cp.close()
    errors = {(f[1], f[2]) for f in csms.received if f[0] == 4}
    assert ("-1", "FormationViolation") in errors  # not JSON; binary
    assert ("x1", "NotImplemented") in errors
    assert ("x2", "PropertyConstraintViolation") in errors
    assert not any(f[1] == "never-asked" for f in csms.received)  # ignored, not answered


async def test_closed_connections_are_retried_with_back_off() -> None:
    async def hang_up(websocket: ServerConnection, frame: list[Any]) -> None:
        if csms_ref[0].connections < 3:
            await websocket.close(1011, "going away")
        else:
            await answer_normally(websocket, frame)

    csms_ref: list[TinyCsms] = []
    async with tiny_csms(hang_up) as (csms, url):
        csms_ref.append(csms)
        cp = create_charge_point(fast_spec(), url)
        await cp.start(timeout=5)
        assert csms.connections == 3 and cp.registration == "Accepted"
        assert len(cp.reconnect_delays) >= 2
        await cp.close()


async def test_refused_connections_are_retried_and_reported() -> None:
    async with tiny_csms(answer_normally) as (_, url):
        pass  # the port is closed again: nothing listens
    cp = create_charge_point(fast_spec(), url)
    with pytest.raises(NotConnected, match=r"ConnectionRefusedError|OSError"):
        await cp.start(timeout=0.6)
    await cp.close()
    assert len(cp.connect_attempts) >= 3
    delays = cp.reconnect_delays
    assert delays == sorted(delays) or max(delays) <= 0.2 + 0.02  # growing up to the maximum


async def test_a_csms_that_never_accepts_the_boot() -> None:
    async def reject(websocket: ServerConnection, frame: list[Any]) -> None:
        now = datetime.now(UTC).isoformat()
        answer = {"status": "Rejected", "currentTime": now, "interval": 1}
        await websocket.send(json.dumps([3, frame[1], answer]))

    async with tiny_csms(reject) as (csms, url):
        cp = create_charge_point(fast_spec(time_scale=0.1), url)
        with pytest.raises(NotConnected, match="registration Rejected"):
            await cp.start(timeout=0.8)
        await cp.close()
    boots = csms.actions()
    assert set(boots) == {"BootNotification"}  # silent but for the boot while Rejected
    assert 3 <= len(boots) <= 12  # every interval (1 s at time scale 0.1), not in a tight loop
