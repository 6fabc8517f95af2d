"""The RPC side of a 1.6 charge point: its state, sending CALLs (validated or raw), the offline
queue of transaction messages, and dispatch of CSMS-initiated CALLs to `op_<Action>` methods."""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import ssl
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from websockets.asyncio.client import ClientConnection

from ocppj import (
    CallErrorReceived,
    FollowUp,
    Frame,
    OcppError,
    RpcError,
    RpcSession,
)
from ocppj.errors import InternalError

from ..clock import SYSTEM_CLOCK, SYSTEM_RANDOM, Clock, Random, StationClock
from ..connection import TargetLookup
from ..errors import NotConnected
from ..incoming import Inbox, IncomingCall, Matcher, Outcome, Outcomes, Waiter
from ..meter import Meter
from ..spec import ChargePointSpec
from ..transcript import Entry, Transcript
from .auth import AuthStore
from .config import Configuration
from .connector import Connector
from .profiles import ProfileStore

if TYPE_CHECKING:
    from ._delivery import Queued

log = logging.getLogger("simulator")

# on_exchange(action, "cp" | "csms" (who initiated), seconds, error kind or None)
ExchangeHook = Callable[[str, str, float, str | None], None]
Handler = Callable[[dict[str, Any], Outcome], Awaitable[dict[str, Any]]]


class Endpoint:
    """State, sending, offline queue and incoming-call dispatch of one 1.6 charge point."""

    # Where to connect with another security profile, when the CSMS raises it (whitepaper
    # A05); and the profile it raised it to. Class defaults, set on the instance only when
    # given: a fleet that never changes profile pays nothing for them.
    profile_targets: TargetLookup | None = None
    switched_profile: int | None = None

    def __init__(
        self,
        spec: ChargePointSpec,
        url: str,
        *,
        ssl_context: ssl.SSLContext | None = None,
        clock: Clock = SYSTEM_CLOCK,
        rng: Random = SYSTEM_RANDOM,
        on_exchange: ExchangeHook | None = None,
        profile_targets: TargetLookup | None = None,
    ) -> None:
        self.spec = spec
        self.identity = spec.identity
        self.url = url
        self.ssl_context = ssl_context
        if profile_targets is not None:
            self.profile_targets = profile_targets
        self.clock = StationClock(clock)
        self.rng = rng
        self.on_exchange = on_exchange
        self.password = spec.password
        overrides = {"NumberOfConnectors": str(spec.connectors), **spec.configuration}
        self.config = Configuration(overrides, spec.custom_keys)
        self.config.on_change = self._config_changed
        self.auth = AuthStore(self.config)
        self.profiles = ProfileStore(self.config.get_int("ChargeProfileMaxStackLevel"))
        self.connectors: dict[int, Connector] = {
            n: Connector(
                n,
                Meter(
                    max_power_w=spec.max_power_w,
                    voltage=spec.voltage,
                    phases=spec.phases,
                    clock=clock,
                    rng=rng,
                ),
            )
            for n in range(spec.connectors + 1)
        }
        self.outcomes = Outcomes()
        self.inbox = Inbox(spec.inbox_size)
        self.transcript = Transcript(spec.transcript_size)
        self.on_frame: Callable[[Entry], None] | None = None  # e.g. print the traffic
        self.firmware_version = spec.firmware_version
        self.registration: str | None = None  # last BootNotification status
        self.ready = asyncio.Event()  # connected and boot Accepted
        self.network_up = asyncio.Event()
        self.network_up.set()
        self.reconnect_delays: list[float] = []  # waited between failed attempts (for tests)
        self.connect_errors: list[str] = []
        self.connect_attempts: list[float] = []  # monotonic time of each attempt
        self.faults_injected: Counter[str] = Counter()  # what spec.faults made it do wrong
        self._fault_rng: random.Random | None = None
        self._queue: list[Queued] = []  # a list: smaller than a deque when empty
        self._needs_boot = True
        self._restart_now = False
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()
        self._ws: ClientConnection | None = None
        self._session: RpcSession | None = None
        self._conn_group: asyncio.TaskGroup | None = None
        self._sender: asyncio.Task[None] | None = None
        self._children: set[asyncio.Task[Any]] = set()
        self._after_reply: list[Callable[[], Coroutine[Any, Any, None]]] = []
        self._answering: IncomingCall | None = None  # the CSMS CALL being handled
        self._runner: asyncio.Task[None] | None = None
        # internal errors (bugs) in answering the CSMS or in background work; the last few
        self.failures: list[BaseException] = []

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str | None = None) -> asyncio.Task[Any]:
        """Background work owned by this charge point (cancelled by close(), errors surface)."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._children.add(task)
        task.add_done_callback(self._child_done)
        return task

    def _child_done(self, task: asyncio.Task[Any]) -> None:
        self._children.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            self.report_failure(f"background task {task.get_name()}", error)

    def report_failure(self, what: str, error: BaseException) -> None:
        """An internal error (a bug of the simulator, whatever the CSMS sent): logged and kept
        in `failures`; the charge point carries on."""
        log.error("%s: %s failed: %r", self.identity, what, error, exc_info=error)
        _keep_last(self.failures, error)

    def _config_changed(self, name: str, value: str) -> None:
        if name == "HeartbeatInterval":
            self._wake.set()

    # -- sending -----------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """A WebSocket to the CSMS is open (the boot may still be pending)."""
        return self._session is not None and not self._session.closed.is_set()

    @property
    def online(self) -> bool:
        """Connected with the boot accepted: transaction and status messages may be sent."""
        session = self._session
        return (
            session is not None
            and not session.closed.is_set()
            and not self._needs_boot
            and self.registration == "Accepted"
        )

    def _live(self) -> RpcSession:
        if self._session is None or self._session.closed.is_set():
            raise NotConnected(f"{self.identity}: not connected")
        return self._session

    async def _call(
        self,
        action: str,
        payload: dict[str, Any],
        *,
        raw: bool = False,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        session = self._live()
        started = self.clock.monotonic()
        try:
            if raw:
                result = await session.call_raw(action, payload, timeout)
            else:
                result = await session.call(action, payload, timeout)
        except CallErrorReceived as exc:
            self._note(action, "cp", self.clock.monotonic() - started, exc.code)
            raise
        except (RpcError, OcppError) as exc:
            self._note(action, "cp", self.clock.monotonic() - started, type(exc).__name__)
            raise
        self._note(action, "cp", self.clock.monotonic() - started, None)
        return result

    async def call(
        self, action: str, payload: dict[str, Any], timeout: float | None = None
    ) -> dict[str, Any]:
        """Send any CALL, validated both ways (NotConnected when offline)."""
        return await self._call(action, payload, timeout=timeout)

    async def call_raw(
        self, action: str, payload: dict[str, Any], timeout: float | None = None
    ) -> dict[str, Any]:
        """Send a CALL without any validation: for deliberately invalid traffic."""
        return await self._call(action, payload, raw=True, timeout=timeout)

    async def send_text(self, text: str) -> None:
        """Put any text on the wire (not even framed)."""
        await self._live().send_text(text)

    def _note(self, action: str, side: str, seconds: float, error: str | None) -> None:
        if self.on_exchange is not None:
            self.on_exchange(action, side, seconds, error)

    # -- CSMS-initiated calls ----------------------------------------------------------------

    # The CSMS-initiated actions this charge point answers: methods named op_<Action>.
    OPERATIONS: frozenset[str] = frozenset()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.OPERATIONS = frozenset(n[3:] for n in dir(cls) if n.startswith("op_"))

    def _dispatch_table(self) -> _HandlerTable:
        return _HandlerTable(self)

    async def _dispatch(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        started = self.clock.monotonic()
        self._after_reply.clear()
        call = self._answering = IncomingCall(action, payload, self.now())
        try:
            try:
                result = await self._answer(call)
            except OcppError:
                raise
            except Exception as exc:  # a bug of ours: one InternalError, never the connection
                self.report_failure(f"answering {action}", exc)
                raise InternalError(f"{action} could not be processed") from exc
        except OcppError as exc:
            self._after_reply.clear()
            call.error = exc
            self.inbox.deliver(call)
            self._note(action, "csms", self.clock.monotonic() - started, exc.code)
            raise
        call.response = result
        self.inbox.deliver(call)
        self._note(action, "csms", self.clock.monotonic() - started, None)
        follow_ups, self._after_reply = self._after_reply, []
        session = self._session
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
            from ..incoming import error_for

            raise error_for(outcome.error, outcome.description or f"{call.action} refused")
        if outcome.reply is not None:
            return dict(outcome.reply)
        handler: Handler = getattr(self, "op_" + call.action)
        result = await handler(call.payload, outcome)
        if outcome.status is not None and "status" in result:
            self._after_reply.clear()
            result = {**result, "status": outcome.status}
        return result

    def explain(self, why: str) -> None:
        """Say why the CSMS CALL being handled gets the answer it gets (e.g. why it is
        Rejected): logged, kept as the IncomingCall's `reason`, and noted in the transcript,
        where a failed step shows it beside the answer."""
        call = self._answering
        action = call.action if call is not None else None
        log.info("%s: %s: %s", self.identity, action, why)
        if call is not None:
            call.reason = why
        self._observe("note", why, None, action)

    def after_reply(self, work: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run `work` once the answer to the CALL being handled is on the wire (the session's
        after-reply hook, given the work only once the answer is decided)."""
        self._after_reply.append(work)

    def _start_follow_up(self, work: FollowUp, action: str) -> None:
        """The session's follow-up work runs as this charge point's: it outlives the link
        (a Reset's reboot drops it), and its errors are kept in `failures`."""
        try:
            coroutine = work()
        except Exception as exc:  # noqa: BLE001 - a bug of ours, kept in failures
            self.report_failure(f"starting the work after {action}", exc)
            return
        self.spawn(coroutine, name=f"after {action}")

    def _observe(self, direction: str, text: str, frame: Frame | None, action: str | None) -> None:
        if self.transcript.enabled or self.on_frame is not None:
            entry = Entry(self.now(), direction, text, frame, action)
            self.transcript.add(entry)
            if self.on_frame is not None:
                self.on_frame(entry)

    # -- waiting for the CSMS ----------------------------------------------------------------

    def expect(
        self, action: str | None = None, *, match: Matcher | None = None, hold: bool = False
    ) -> Waiter:
        """Register interest in a future CSMS CALL; `await waiter.wait(timeout)` returns it.
        With `hold=True` the call is not answered until `call.answer(...)`."""
        return self.inbox.expect(action, match, hold)

    async def expect_call(
        self, action: str | None = None, timeout: float = 5.0, *, match: Matcher | None = None
    ) -> IncomingCall:
        """The next (or an unclaimed earlier) CSMS CALL of `action`, already answered by the
        charge point; ExpectationFailed after `timeout`."""
        past = self.inbox.claim_past(action, match)
        if past is not None:
            return past
        waiter = self.inbox.expect(action, match, hold=False)
        result: IncomingCall = await waiter.wait(timeout)
        return result

    def set_outcome(self, action: str, outcome: Outcome | None) -> None:
        """How the next `action` CALLs from the CSMS are answered (None: back to default)."""
        if action not in self.OPERATIONS:
            raise KeyError(f"{action} is not a CSMS-initiated 1.6 operation")
        self.outcomes.set(action, outcome)

    def seconds(self, key: str) -> float:
        """An interval configuration key in real seconds (scaled by `spec.time_scale`)."""
        return self.config.get_int(key) * self.spec.time_scale

    def now(self) -> datetime:
        """The charge point's clock: the injected clock set by the CSMS's currentTime."""
        return self.clock.now()

    def sync_clock(self, current_time: str | None, sent_at: float | None = None) -> None:
        """Set the clock from a BootNotification or Heartbeat answer (StationClock.sync)."""
        if not current_time:
            return
        try:
            self.clock.sync(current_time, sent_at)
        except ValueError:
            log.warning("%s: unreadable currentTime %r", self.identity, current_time)

    def timestamp(self) -> str:
        return self.clock.timestamp()


FAILURES_KEPT = 20  # internal errors remembered per charge point


def _keep_last(history: list[BaseException], error: BaseException) -> None:
    history.append(error)
    if len(history) > FAILURES_KEPT:
        del history[0]


class _HandlerTable(Mapping[str, Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]]):
    """The RpcSession's handler mapping, made on demand: no per-action objects per charger."""

    __slots__ = ("_cp",)

    def __init__(self, cp: Endpoint) -> None:
        self._cp = cp

    def __getitem__(self, action: str) -> Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]:
        if action not in self._cp.OPERATIONS:
            raise KeyError(action)
        return functools.partial(self._cp._dispatch, action)

    def __iter__(self) -> Iterator[str]:
        return iter(self._cp.OPERATIONS)

    def __len__(self) -> int:
        return len(self._cp.OPERATIONS)
