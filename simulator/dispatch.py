"""Answering the CSMS's CALLs: a test's held call first, then a scripted outcome, then the
version's handler; each answered call kept for `expect_call`, each exchange noted, and the
work that follows an answer handed to the session's after-reply hook."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Mapping
from typing import Any, Protocol

from ocppj import Frame, OcppError, RpcSession
from ocppj.errors import InternalError

from .clock import Clock
from .incoming import Inbox, IncomingCall, Matcher, Outcome, Outcomes, Waiter, error_for

__all__ = ["Dispatcher", "Handler", "Handlers"]

log = logging.getLogger("simulator")

# A version's answer to one CSMS-initiated action: (payload, outcome) -> answer payload
Handler = Callable[[dict[str, Any], Outcome], Awaitable[dict[str, Any]]]
Work = Callable[[], Coroutine[Any, Any, None]]


class Handlers(Protocol):
    """The version's side: which actions it answers, and how."""

    @property
    def version(self) -> str: ...

    @property
    def operations(self) -> frozenset[str]: ...

    def handler(self, action: str) -> Handler: ...


class Host(Protocol):
    """What the dispatcher asks of its station."""

    identity: str

    @property
    def clock(self) -> Clock: ...

    @property
    def session(self) -> RpcSession | None: ...

    def note(self, action: str, side: str, seconds: float, error: str | None) -> None: ...

    def report_failure(self, what: str, error: BaseException) -> None: ...

    def observe(
        self, direction: str, text: str, frame: Frame | None, action: str | None
    ) -> None: ...


class Dispatcher:
    """The charge point's answers to the CSMS, and what tests see of them."""

    __slots__ = ("_answering", "_follow_ups", "_handlers", "_host", "inbox", "outcomes")

    def __init__(self, host: Host, handlers: Handlers, inbox_size: int) -> None:
        self._host = host
        self._handlers = handlers
        self.inbox = Inbox(inbox_size)
        self.outcomes = Outcomes()
        self._follow_ups: list[Work] = []  # left by the handler of the CALL being answered
        self._answering: IncomingCall | None = None

    @property
    def operations(self) -> frozenset[str]:
        return self._handlers.operations

    def table(self) -> Mapping[str, Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]]:
        """The RpcSession's handler mapping."""
        return _HandlerTable(self)

    async def dispatch(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        host = self._host
        started = host.clock.monotonic()
        self._follow_ups.clear()
        call = self._answering = IncomingCall(action, payload, host.clock.now())
        try:
            try:
                result = await self._answer(call)
            except OcppError:
                raise
            except Exception as exc:  # a bug of ours: one InternalError, never the connection
                host.report_failure(f"answering {action}", exc)
                raise InternalError(f"{action} could not be processed") from exc
        except OcppError as exc:
            self._follow_ups.clear()
            call.error = exc
            self.inbox.deliver(call)
            host.note(action, "csms", host.clock.monotonic() - started, exc.code)
            raise
        call.response = result
        self.inbox.deliver(call)
        host.note(action, "csms", host.clock.monotonic() - started, None)
        follow_ups, self._follow_ups = self._follow_ups, []
        session = host.session
        if session is not None:
            for work in follow_ups:
                session.after_reply(work)
        return result

    async def _answer(self, call: IncomingCall) -> dict[str, Any]:
        holder = self.inbox.holder(call.action, call.payload)
        if holder is not None:
            answer: asyncio.Future[dict[str, Any] | OcppError | None] = (
                asyncio.get_running_loop().create_future()
            )
            call.held, call._answer = True, answer
            holder.future.set_result(call)
            scripted = await answer
            if isinstance(scripted, OcppError):
                raise scripted
            if scripted is not None:
                return scripted
        outcome = self.outcomes.take(call.action)
        if outcome.error is not None:
            raise error_for(outcome.error, outcome.description or f"{call.action} refused")
        if outcome.reply is not None:
            return dict(outcome.reply)
        result = await self._handlers.handler(call.action)(call.payload, outcome)
        if outcome.status is not None and "status" in result:
            self._follow_ups.clear()
            result = {**result, "status": outcome.status}
        return result

    def after_reply(self, work: Work) -> None:
        """Run `work` once the answer to the CALL being handled is on the wire (the session's
        after-reply hook, given the work only once the answer is decided)."""
        self._follow_ups.append(work)

    def explain(self, why: str) -> None:
        """Say why the CSMS CALL being handled gets the answer it gets (e.g. why it is
        Rejected): logged, kept as the IncomingCall's `reason`, and noted in the transcript,
        where a failed step shows it beside the answer."""
        call = self._answering
        action = call.action if call is not None else None
        log.info("%s: %s: %s", self._host.identity, action, why)
        if call is not None:
            call.reason = why
        self._host.observe("note", why, None, action)

    # -- what tests see ----------------------------------------------------------------------

    def expect(
        self, action: str | None = None, *, match: Matcher | None = None, hold: bool = False
    ) -> Waiter:
        return self.inbox.expect(action, match, hold)

    async def expect_call(
        self, action: str | None = None, timeout: float = 5.0, *, match: Matcher | None = None
    ) -> IncomingCall:
        past = self.inbox.claim_past(action, match)
        if past is not None:
            return past
        waiter = self.inbox.expect(action, match, hold=False)
        result: IncomingCall = await waiter.wait(timeout)
        return result

    def set_outcome(self, action: str, outcome: Outcome | None) -> None:
        if action not in self.operations:
            version = self._handlers.version
            raise KeyError(f"{action} is not a CSMS-initiated {version} operation")
        self.outcomes.set(action, outcome)


class _HandlerTable(Mapping[str, Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]]):
    """The RpcSession's handler mapping, made on demand: no per-action objects per charger."""

    __slots__ = ("_dispatcher",)

    def __init__(self, dispatcher: Dispatcher) -> None:
        self._dispatcher = dispatcher

    def __getitem__(self, action: str) -> Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]:
        if action not in self._dispatcher.operations:
            raise KeyError(action)
        return functools.partial(self._dispatcher.dispatch, action)

    def __iter__(self) -> Iterator[str]:
        return iter(self._dispatcher.operations)

    def __len__(self) -> int:
        return len(self._dispatcher.operations)
