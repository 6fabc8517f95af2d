"""RpcSession's after-reply hook, over an in-memory transport (no socket): work a handler
leaves runs once its answer is on the wire, only after a CALLRESULT, in a task group."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosedOK

from ocppj import V16, ConnectionLost, FollowUp, RpcSession
from ocppj.errors import InternalError


class Peer:
    """The other end of the session's transport: what it sent, and frames to send it."""

    def __init__(self) -> None:
        self.to_session: asyncio.Queue[str | None] = asyncio.Queue()
        self.sent: list[list[Any]] = []
        self.changed = asyncio.Event()

    async def recv(self) -> str:
        text = await self.to_session.get()
        if text is None:
            raise ConnectionClosedOK(None, None)
        return text

    async def send(self, message: str) -> None:
        self.sent.append(json.loads(message))
        self.changed.set()

    async def answer_to(self, message_id: str) -> list[Any]:
        async with asyncio.timeout(5):
            while True:
                for frame in self.sent:
                    if frame[0] in (3, 4) and frame[1] == message_id:
                        return frame
                self.changed.clear()
                await self.changed.wait()


Handler = Callable[[RpcSession], Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]]


@asynccontextmanager
async def session(
    handler: Handler, start_follow_up: Callable[[FollowUp, str], None] | None = None
) -> AsyncIterator[tuple[RpcSession, Peer, asyncio.Task[None]]]:
    peer = Peer()
    handlers: dict[str, Any] = {}
    rpc = RpcSession(peer, V16, handlers, start_follow_up=start_follow_up)
    handlers["Reset"] = handler(rpc)
    runner = asyncio.create_task(rpc.run())
    try:
        yield rpc, peer, runner
    finally:
        peer.to_session.put_nowait(None)
        await asyncio.wait_for(runner, 5)


def reset(message_id: str) -> str:
    return json.dumps([2, message_id, "Reset", {"type": "Soft"}])


async def test_the_work_runs_once_the_answer_is_on_the_wire() -> None:
    seen: list[list[list[Any]]] = []
    done = asyncio.Event()

    def handler(rpc: RpcSession) -> Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]:
        async def on_reset(_: dict[str, Any]) -> dict[str, Any]:
            async def later() -> None:
                seen.append(list(peer.sent))
                done.set()

            rpc.after_reply(later)
            return {"status": "Accepted"}

        return on_reset

    async with session(handler) as (_, peer, _runner):
        peer.to_session.put_nowait(reset("r1"))
        await asyncio.wait_for(done.wait(), 5)
    assert seen == [[[3, "r1", {"status": "Accepted"}]]]  # the answer was sent first


async def test_the_work_is_dropped_when_the_answer_is_a_callerror() -> None:
    ran: list[str] = []

    def handler(rpc: RpcSession) -> Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]:
        async def on_reset(_: dict[str, Any]) -> dict[str, Any]:
            async def later() -> None:
                ran.append("later")

            rpc.after_reply(later)
            raise InternalError("refused")

        return on_reset

    async with session(handler) as (_, peer, _runner):
        peer.to_session.put_nowait(reset("r1"))
        assert (await peer.answer_to("r1"))[2] == "InternalError"
        peer.to_session.put_nowait(json.dumps([2, "h1", "Heartbeat", {}]))  # not handled here
        assert (await peer.answer_to("h1"))[0] == 4  # the worker went on: nothing was started
    assert ran == []


async def test_a_failing_work_is_logged_and_costs_the_session_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def handler(rpc: RpcSession) -> Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]:
        async def on_reset(_: dict[str, Any]) -> dict[str, Any]:
            async def broken() -> None:
                raise KeyError("a bug")

            rpc.after_reply(broken)
            return {"status": "Accepted"}

        return on_reset

    with caplog.at_level(logging.ERROR, logger="ocppj.session"):
        async with session(handler) as (_, peer, runner):
            for n in (1, 2):
                peer.to_session.put_nowait(reset(f"r{n}"))
                assert (await peer.answer_to(f"r{n}"))[2] == {"status": "Accepted"}
        assert runner.exception() is None
    assert [r.message for r in caplog.records] == ["the work after Reset failed"] * 2


async def test_work_still_running_at_the_close_ends_with_the_session() -> None:
    """Its CALL to the peer fails at once with ConnectionLost (not after call_timeout)."""
    outcome: list[BaseException] = []
    calling = asyncio.Event()

    def handler(rpc: RpcSession) -> Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]:
        async def on_reset(_: dict[str, Any]) -> dict[str, Any]:
            async def later() -> None:
                calling.set()
                try:
                    await rpc.call("Heartbeat", {})
                except ConnectionLost as exc:
                    outcome.append(exc)

            rpc.after_reply(later)
            return {"status": "Accepted"}

        return on_reset

    async with session(handler) as (rpc, peer, _runner):
        rpc.call_timeout = 60.0
        peer.to_session.put_nowait(reset("r1"))
        await asyncio.wait_for(calling.wait(), 5)
    assert [type(e) for e in outcome] == [ConnectionLost]


async def test_start_follow_up_hands_the_work_to_its_owner() -> None:
    handed: list[tuple[FollowUp, str]] = []

    def handler(rpc: RpcSession) -> Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]:
        async def on_reset(_: dict[str, Any]) -> dict[str, Any]:
            async def later() -> None:
                return None

            rpc.after_reply(later)
            return {"status": "Accepted"}

        return on_reset

    async with session(handler, lambda work, action: handed.append((work, action))) as (
        _,
        peer,
        _runner,
    ):
        peer.to_session.put_nowait(reset("r1"))
        await peer.answer_to("r1")
    assert [action for _, action in handed] == ["Reset"]
