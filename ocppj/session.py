"""An OCPP-J RPC endpoint over any transport with async `recv()` and `send()`.

Used by both sides: the CSMS and the simulated charge point. Unlike the `ocpp` library's
ChargePoint, incoming CALLs are handled by a worker task apart from the receive loop, so a
handler may itself `call()` the peer without deadlocking; a CALLERROR answer raises
`CallErrorReceived`; every frame in and out is validated and reported to an observer; and a
handler can leave work to run once its answer is on the wire (`after_reply`), owned by a task
group, never fired and forgotten.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any, Protocol

from websockets.exceptions import ConnectionClosed

from . import frames
from .dialect import Dialect
from .errors import (
    CallErrorReceived,
    CallTimeout,
    ConnectionLost,
    FrameError,
    InternalError,
    InvalidResponse,
    NotImplementedAction,
    NotSupportedAction,
    OcppError,
    RpcError,
)

log = logging.getLogger(__name__)

# CALLs received and not yet answered, per session. When the inbox is full the receive loop
# stops reading: websockets' own queue (max_queue) fills, it stops reading the socket, and TCP
# pushes back on a peer that pipelines CALLs without reading our answers. OCPP-J allows one
# CALL at a time, so a well-behaved peer never comes near this.
INBOX_LIMIT = 64

Handler = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]
# observer(direction "in"/"out", raw text, decoded frame or None, action or None)
Observer = Callable[[str, str, frames.Frame | None, str | None], None]
# guard(action) runs before a CALL is handled; it raises OcppError to refuse it
Guard = Callable[[str], None]
# work left by a handler, to run once its answer is on the wire
FollowUp = Callable[[], Coroutine[Any, Any, None]]
# start_follow_up(work, action): runs `work` elsewhere than in the session's task group
FollowUpStarter = Callable[[FollowUp, str], None]


class Transport(Protocol):
    async def recv(self) -> str | bytes: ...

    async def send(self, message: str) -> None: ...


class RpcSession:
    """One OCPP-J connection: answers the peer's CALLs and sends our own."""

    def __init__(
        self,
        transport: Transport,
        dialect: Dialect,
        handlers: Mapping[str, Handler],
        *,
        observer: Observer | None = None,
        guard: Guard | None = None,
        validate: bool = True,
        call_timeout: float = 30.0,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
        start_follow_up: FollowUpStarter | None = None,
    ) -> None:
        self.transport = transport
        self.dialect = dialect
        self.handlers = handlers
        self.observer = observer
        self.guard = guard
        self.validate = validate
        self.call_timeout = call_timeout
        self.new_id = new_id
        self.start_follow_up = start_follow_up
        self._pending: dict[str, tuple[str, asyncio.Future[dict[str, Any]]]] = {}
        self._call_lock = asyncio.Lock()
        # CALLs to answer, and ready CALLERRORs for undecodable frames, kept in arrival order
        self._inbox: asyncio.Queue[frames.Call | frames.CallError] = asyncio.Queue(INBOX_LIMIT)
        self._follow_ups: list[FollowUp] = []  # left by the handler of the CALL being answered
        self._group: asyncio.TaskGroup | None = None  # while running
        self.closed = asyncio.Event()

    # -- running -----------------------------------------------------------------------------

    async def run(self) -> None:
        """Serve until the transport closes. Pending calls then fail with ConnectionLost;
        follow-up work still running in the session's task group is waited for."""
        try:
            async with asyncio.TaskGroup() as group:
                self._group = group
                worker = group.create_task(self._work())
                try:
                    await self._receive_loop()
                finally:
                    worker.cancel()
                    self._lost()  # before the group waits: follow-ups must not wait in vain
        finally:
            self._group = None
            self._lost()

    def _lost(self) -> None:
        self.closed.set()
        for action, future in self._pending.values():
            if not future.done():
                future.set_exception(ConnectionLost(f"{action}: connection closed"))
        self._pending.clear()

    def after_reply(self, work: FollowUp) -> None:
        """From a handler, while it runs: run `work` once the answer to its CALL is on the
        wire (the CALL that follows from it, say). Dropped when the answer is a CALLERROR or
        cannot be sent. It runs in this session's task group, so it ends with the session
        (its own CALLs fail with ConnectionLost once the link is gone) and its errors are
        logged; or, with `start_follow_up`, wherever that puts it (e.g. with an owner that
        outlives the link)."""
        self._follow_ups.append(work)

    async def _receive_loop(self) -> None:
        while True:
            try:
                raw = await self.transport.recv()
            except ConnectionClosed:
                return
            await self._on_message(raw)

    async def _on_message(self, raw: str | bytes) -> None:
        text = raw if isinstance(raw, str) else raw.decode("utf-8", "replace")
        try:
            frame = frames.decode(raw)
        except FrameError as exc:
            self._observe("in", text, None, None)
            await self._inbox.put(
                frames.CallError(exc.message_id, self._wire(exc), exc.description)
            )
            return
        if isinstance(frame, frames.Call):
            self._observe("in", text, frame, frame.action)
            await self._inbox.put(frame)
            return
        entry = self._pending.pop(frame.message_id, None)
        self._observe("in", text, frame, entry[0] if entry else None)
        if entry is None:
            log.warning("answer to unknown message id %s ignored", frame.message_id)
            return
        action, future = entry
        if future.done():
            return
        if isinstance(frame, frames.CallError):
            future.set_exception(
                CallErrorReceived(action, frame.code, frame.description, frame.details)
            )
        else:
            future.set_result(frame.payload)

    async def _work(self) -> None:
        lost = False
        while True:
            item = await self._inbox.get()
            if lost:  # nobody to answer: drop it, so the receive loop reaches the close
                continue
            if isinstance(item, frames.CallError):
                reply: frames.Frame = item
            else:
                reply = await self._answer(item)
            follow_ups, self._follow_ups = self._follow_ups, []
            action: str | None = getattr(item, "action", None)
            try:
                await self._send(reply, action)
            except ConnectionLost:
                lost = True
                continue
            if isinstance(reply, frames.CallResult):
                for work in follow_ups:
                    self._start(work, action or "?")

    def _start(self, work: FollowUp, action: str) -> None:
        if self.start_follow_up is not None:
            self.start_follow_up(work, action)
        elif self._group is not None:
            self._group.create_task(self._follow_up(work, action), name=f"after {action}")

    async def _follow_up(self, work: FollowUp, action: str) -> None:
        try:
            await work()
        except (RpcError, OcppError) as exc:  # the peer went away, refused, or timed out
            log.info("the work after %s failed: %r", action, exc)
        except Exception:  # a bug must cost this work, not the connection
            log.exception("the work after %s failed", action)

    async def _answer(self, call: frames.Call) -> frames.Frame:
        try:
            if call.action not in self.dialect.actions:
                raise NotImplementedAction(f"Unknown action {call.action!r}")
            handler = self.handlers.get(call.action)
            if handler is None:
                raise NotSupportedAction(f"{call.action} is not supported here")
            if self.validate:
                self.dialect.validate(call.action, call.payload)
            if self.guard is not None:
                self.guard(call.action)
            result = await handler(call.payload)
            if self.validate:
                self._check_own_result(call.action, result)
            return frames.CallResult(call.message_id, result)
        except OcppError as exc:
            return frames.CallError(call.message_id, self._wire(exc), exc.description, exc.details)
        except Exception:  # a handler bug must cost one answer, not the connection
            log.exception("handler for %s failed", call.action)
            error = InternalError(f"{call.action} could not be processed")
            return frames.CallError(call.message_id, self._wire(error), error.description)

    def _check_own_result(self, action: str, result: dict[str, Any]) -> None:
        try:
            self.dialect.validate(action, result, response=True)
        except OcppError as exc:
            log.error("our %s answer breaks the schema: %s (%s)", action, exc, result)
            raise InternalError(f"Could not build a valid {action} answer") from exc

    # -- calling -----------------------------------------------------------------------------

    async def call(
        self, action: str, payload: dict[str, Any], timeout: float | None = None
    ) -> dict[str, Any]:
        """Send a CALL and return the CALLRESULT payload.

        Raises OcppError if `payload` breaks the schema (nothing is sent), CallErrorReceived,
        InvalidResponse, CallTimeout or ConnectionLost.
        """
        if self.validate:
            self.dialect.validate(action, payload)
        result = await self._call(frames.Call(self.new_id(), action, payload), timeout)
        if self.validate:
            try:
                self.dialect.validate(action, result, response=True)
            except OcppError as exc:
                raise InvalidResponse(action, exc, result) from exc
        return result

    async def call_raw(
        self, action: str, payload: dict[str, Any], timeout: float | None = None
    ) -> dict[str, Any]:
        """Send a CALL without validating either side: for deliberately invalid traffic."""
        return await self._call(frames.Call(self.new_id(), action, payload), timeout)

    async def _call(self, call: frames.Call, timeout: float | None) -> dict[str, Any]:
        limit = self.call_timeout if timeout is None else timeout
        async with self._call_lock:
            if self.closed.is_set():
                raise ConnectionLost(f"{call.action}: connection closed")
            future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
            self._pending[call.message_id] = (call.action, future)
            try:
                await self._send(call, call.action)
                return await asyncio.wait_for(future, limit)
            except TimeoutError as exc:
                raise CallTimeout(call.action, limit) from exc
            finally:
                self._pending.pop(call.message_id, None)

    async def send_text(self, text: str) -> None:
        """Put any text on the wire as it is (raw path for negative tests)."""
        self._observe("out", text, None, None)
        try:
            await self.transport.send(text)
        except ConnectionClosed as exc:
            raise ConnectionLost("connection closed") from exc

    # -- helpers -----------------------------------------------------------------------------

    def _wire(self, exc: OcppError) -> str:
        return self.dialect.wire_code(exc.code)

    async def _send(self, frame: frames.Frame, action: str | None) -> None:
        text = frames.encode(frame)
        self._observe("out", text, frame, action)
        try:
            await self.transport.send(text)
        except ConnectionClosed as exc:
            raise ConnectionLost(f"{action}: connection closed") from exc

    def _observe(
        self, direction: str, text: str, frame: frames.Frame | None, action: str | None
    ) -> None:
        if self.observer is not None:
            self.observer(direction, text, frame, action)
