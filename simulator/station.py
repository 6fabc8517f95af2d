"""A simulated charge point: one station that owns the version-neutral parts (its link to the
CSMS, the offline outbox, the dispatcher of CSMS calls and their outcomes, the transcript,
its clock, the injected faults) and one OCPP version's behaviour (`simulator/v16/` for 1.6),
which holds the connectors, the configuration and the answers to the CSMS."""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
from collections import Counter
from collections.abc import Callable, Coroutine, Mapping, Sequence
from datetime import datetime
from typing import Any, Self

from websockets.asyncio.client import ClientConnection

from ocppj import (
    CallErrorReceived,
    CallTimeout,
    Dialect,
    FollowUp,
    Frame,
    InvalidResponse,
    OcppError,
    RpcError,
    RpcSession,
)
from ocppj.session import Transport

from .behaviour import Behaviour, ConnectorView, Services, Settings, TransactionView
from .clock import SYSTEM_CLOCK, SYSTEM_RANDOM, Clock, Random, StationClock, wait_any
from .connection import Handshake, Route, Security, Target, TargetLookup
from .dispatch import Dispatcher
from .errors import NotConnected, SimulatorError
from .faults import FaultyTransport
from .incoming import IncomingCall, Matcher, Outcome, Waiter
from .link import Link
from .meter import EV
from .outbox import Outbox, Pick, Queued
from .spec import ChargePointSpec
from .transcript import Entry, Transcript

__all__ = ["ExchangeHook", "Station"]

log = logging.getLogger("simulator")

# on_exchange(action, "cp" | "csms" (who initiated), seconds, error kind or None)
ExchangeHook = Callable[[str, str, float, str | None], None]
# The station's version: made with the station's services
BehaviourFactory = Callable[[Services], Behaviour]
FAILURES_KEPT = 20  # internal errors remembered per charge point


class Station:
    """A simulated OCPP charge point (`simulator.ChargePoint`); made by `create_charge_point`."""

    def __init__(
        self,
        spec: ChargePointSpec,
        url: str,
        behaviour: BehaviourFactory,
        *,
        ssl_context: ssl.SSLContext | None = None,
        clock: Clock = SYSTEM_CLOCK,
        rng: Random = SYSTEM_RANDOM,
        on_exchange: ExchangeHook | None = None,
        profile_targets: TargetLookup | None = None,
    ) -> None:
        self.spec = spec
        self.identity = spec.identity
        self.clock = StationClock(clock)
        self.rng = rng
        self.on_exchange = on_exchange
        self.on_frame: Callable[[Entry], None] | None = None  # e.g. print the traffic
        self.transcript = Transcript(spec.transcript_size)
        self.registration: str | None = None  # last BootNotification status
        self.ready = asyncio.Event()  # connected and boot Accepted
        self.faults_injected: Counter[str] = Counter()  # what spec.faults made it do wrong
        # internal errors (bugs) in answering the CSMS or in background work; the last few
        self.failures: list[BaseException] = []
        self._fault_rng: random.Random | None = None
        self._needs_boot = True
        self._boot_due = asyncio.Event()  # boot again now, not after the interval
        self._children: set[asyncio.Task[Any]] = set()
        self._runner: asyncio.Task[None] | None = None
        self.link = Link(
            self,
            url,
            password=spec.password,
            ssl_context=ssl_context,
            profile_targets=profile_targets,
        )
        self.outbox = Outbox(
            self.identity,
            self.call,
            lambda: self.online,
            lambda: self.behaviour.message_attempts(),
            lambda: self.behaviour.message_retry_s(),
            self.clock.sleep,
        )
        self.behaviour: Behaviour = behaviour(self)
        self.dispatcher = Dispatcher(self, self.behaviour, spec.inbox_size)

    # -- lifecycle ---------------------------------------------------------------------------

    async def run(self) -> None:
        """Run until `close()`: connect, boot, serve, reconnect with back-off."""
        try:
            await self.link.run()
        finally:
            for task in list(self._children):
                task.cancel()
            if self._children:
                await asyncio.gather(*self._children, return_exceptions=True)

    async def start(self, timeout: float = 10.0) -> None:
        """Run in a task owned by this charge point; return once the boot is accepted."""
        if self._runner is None:
            self._runner = asyncio.create_task(self.run(), name=f"cp {self.identity}")
        await self.wait_ready(timeout)

    async def wait_ready(self, timeout: float) -> None:
        """Wait until connected and booted; NotConnected after `timeout`."""
        ready = asyncio.ensure_future(self.ready.wait())
        waits: set[asyncio.Future[Any]] = {ready}
        if self._runner is not None:
            waits.add(self._runner)
        done, _ = await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        ready.cancel()
        if self._runner is not None and self._runner in done:
            self._runner.result()  # raise what killed it
        if not self.ready.is_set():
            raise NotConnected(
                f"{self.identity}: not booted within {timeout:g} s (registration "
                f"{self.registration}, errors {self.connect_errors[-3:]})"
            )

    async def close(self) -> None:
        """Disconnect cleanly and stop all background work."""
        await self.link.stop()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner
        if self.failures:
            raise SimulatorError(
                f"{self.identity}: a background task failed: {self.failures[0]!r}"
            ) from self.failures[0]

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def spawn(
        self, coroutine: Coroutine[Any, Any, Any], name: str | None = None
    ) -> asyncio.Task[Any]:
        """Background work owned by this charge point (cancelled by close(), errors surface)."""
        task = asyncio.get_running_loop().create_task(coroutine, name=name)
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
        self.failures.append(error)
        if len(self.failures) > FAILURES_KEPT:
            del self.failures[0]

    # -- the link's side ---------------------------------------------------------------------

    @property
    def dialect(self) -> Dialect:
        return self.behaviour.dialect

    def open_session(self, ws: ClientConnection) -> RpcSession:
        transport: Transport = ws
        if self.spec.faults.active:
            if self._fault_rng is None:
                self._fault_rng = self.spec.faults.rng(self.identity)
            transport = FaultyTransport(
                ws, self.spec.faults, self._fault_rng, self.faults_injected, dialect=self.dialect
            )
        return RpcSession(
            transport,
            self.dialect,
            self.dispatcher.table(),
            observer=self.observe,
            call_timeout=self.spec.call_timeout_s,
            start_follow_up=self._start_follow_up,
        )

    async def serve(self, session: RpcSession, group: asyncio.TaskGroup) -> None:
        """Boot (when due), then heartbeats until the session ends."""
        self.outbox.attach(group)
        try:
            await self._online(session)
        finally:
            self.outbox.detach()

    def link_ended(self) -> None:
        self.ready.clear()

    def ping_interval(self) -> float | None:
        return self.behaviour.ping_interval()

    def note(self, action: str, side: str, seconds: float, error: str | None) -> None:
        if self.on_exchange is not None:
            self.on_exchange(action, side, seconds, error)

    def observe(self, direction: str, text: str, frame: Frame | None, action: str | None) -> None:
        if self.transcript.enabled or self.on_frame is not None:
            entry = Entry(self.clock.now(), direction, text, frame, action)
            self.transcript.add(entry)
            if self.on_frame is not None:
                self.on_frame(entry)

    def _start_follow_up(self, work: FollowUp, action: str) -> None:
        """The session's follow-up work runs as this charge point's: it outlives the link
        (a Reset's reboot drops it), and its errors are kept in `failures`."""
        try:
            coroutine = work()
        except Exception as exc:  # noqa: BLE001 - a bug of ours, kept in failures
            self.report_failure(f"starting the work after {action}", exc)
            return
        self.spawn(coroutine, name=f"after {action}")

    async def _online(self, session: RpcSession) -> None:
        booted = self._needs_boot
        if booted and not await self._boot(session):
            return
        self._needs_boot = False
        await self.behaviour.after_boot(booted)
        self.ready.set()
        self.outbox.kick()
        while not session.closed.is_set():
            state = await self.link.idle(session, self.behaviour.heartbeat_s() or None)
            if state == "ended":
                return
            if state == "woken":
                continue
            sent_at = self.clock.monotonic()
            try:
                answer = await self._call("Heartbeat", {})
            except (CallErrorReceived, InvalidResponse) as exc:  # answered: the link works
                log.info("%s: Heartbeat refused: %s", self.identity, exc)  # counted: on_exchange
                continue
            self.sync_clock(answer.get("currentTime"), sent_at)

    async def _boot(self, session: RpcSession) -> bool:
        """BootNotification until Accepted; silent while Rejected. False if the link died."""
        self._boot_due.clear()
        while not session.closed.is_set():
            sent_at = self.clock.monotonic()
            try:
                answer = await self._call("BootNotification", self.behaviour.boot_payload())
            except (CallErrorReceived, CallTimeout, InvalidResponse) as exc:
                log.warning("%s: BootNotification failed: %s", self.identity, exc)
                answer = {"status": "Pending", "interval": 0}
            self.registration = answer["status"]
            interval = int(answer.get("interval", 0))
            self.sync_clock(answer.get("currentTime"), sent_at)
            if self.registration == "Accepted":
                self.behaviour.booted(interval)
                return True
            wait = interval * self.spec.time_scale if interval > 0 else self.spec.boot_retry_s
            if not await self.link.pause(session, wait, self._boot_due):
                return False
            self._boot_due.clear()
        return False

    def boot_now(self) -> None:
        """While the boot is not accepted: send the next BootNotification at once (a
        TriggerMessage asked for it), not after the interval."""
        self._boot_due.set()

    def sync_clock(self, current_time: str | None, sent_at: float | None = None) -> None:
        """Set the clock from a BootNotification or Heartbeat answer (StationClock.sync)."""
        if not current_time:
            return
        try:
            self.clock.sync(current_time, sent_at)
        except ValueError:
            log.warning("%s: unreadable currentTime %r", self.identity, current_time)

    # -- the state of the link ---------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """A WebSocket to the CSMS is open (the boot may still be pending)."""
        return self.link.connected

    @property
    def online(self) -> bool:
        """Connected with the boot accepted: transaction and status messages may be sent."""
        return self.link.connected and not self._needs_boot and self.registration == "Accepted"

    @property
    def session(self) -> RpcSession | None:
        return self.link.session

    @property
    def url(self) -> str:
        """The CSMS URL (or template) it connects to now."""
        return self.link.url

    @property
    def endpoint_url(self) -> str:
        """The URL this charge point connects to, its identity in it (`url` may be a
        template: `ws://host/ws/ocpp/{id}/`)."""
        return self.link.endpoint_url

    @property
    def password(self) -> str | None:
        """The Basic Auth password, from the next connection on."""
        return self.link.password

    @password.setter
    def password(self, value: str | None) -> None:
        self.link.password = value

    @property
    def profile_targets(self) -> TargetLookup | None:
        return self.link.profile_targets

    @property
    def connect_errors(self) -> list[str]:
        return self.link.connect_errors

    @property
    def connect_attempts(self) -> list[float]:
        return self.link.connect_attempts

    @property
    def reconnect_delays(self) -> list[float]:
        return self.link.reconnect_delays

    @property
    def on_connect_failed(self) -> Callable[[str, float], None] | None:
        """Told of each failed connection attempt: (why, seconds until the next)."""
        return self.link.on_connect_failed

    @on_connect_failed.setter
    def on_connect_failed(self, hook: Callable[[str, float], None] | None) -> None:
        self.link.on_connect_failed = hook

    # -- sending -----------------------------------------------------------------------------

    def _live(self) -> RpcSession:
        session = self.link.session
        if session is None or session.closed.is_set():
            raise NotConnected(f"{self.identity}: not connected")
        return session

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
            self.note(action, "cp", self.clock.monotonic() - started, exc.code)
            raise
        except (RpcError, OcppError) as exc:
            self.note(action, "cp", self.clock.monotonic() - started, type(exc).__name__)
            raise
        self.note(action, "cp", self.clock.monotonic() - started, None)
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

    async def notify(self, action: str, payload: dict[str, Any]) -> None:
        """A CALL whose failure (offline, refused, no answer) is only logged: a notification
        after an operation."""
        try:
            await self._call(action, payload)
        except (RpcError, NotConnected) as exc:
            log.info("%s: %s not delivered: %s", self.identity, action, exc)

    # -- the offline queue -------------------------------------------------------------------

    @property
    def queued(self) -> list[str]:
        """Actions of the transaction messages waiting for delivery, in order."""
        return self.outbox.queued

    def enqueue(self, item: Queued) -> None:
        self.outbox.put(item)

    async def deliver(self, item: Queued) -> None:
        """Queue a transaction message; when online, wait until it is delivered (or the link
        drops), so the messages that follow keep their order on the wire."""
        self.outbox.put(item)
        await self.delivered(item)

    async def delivered(self, item: Queued) -> None:
        session = self.link.session
        if session is not None and self.online and not self.outbox.held:
            await wait_any(session.closed, item.done)

    def hold_queue(self) -> None:
        """Keep the queued transaction messages queued, online or not, until
        `release_queue()`: so the CSMS meets a station with messages still to deliver."""
        self.outbox.hold()

    def release_queue(self, pick: Pick | None = None) -> None:
        """Deliver the queue again, in order; with `pick(action, payload)`, only the messages
        it picks, the others staying held."""
        self.outbox.release(pick)

    # -- CSMS-initiated calls ----------------------------------------------------------------

    def after_reply(self, work: Callable[[], Coroutine[Any, Any, None]]) -> None:
        self.dispatcher.after_reply(work)

    def explain(self, why: str) -> None:
        self.dispatcher.explain(why)

    def expect(
        self, action: str | None = None, *, match: Matcher | None = None, hold: bool = False
    ) -> Waiter:
        """Register interest in a future CSMS CALL; `await waiter.wait(timeout)` returns it.
        With `hold=True` the call is not answered until `call.answer(...)`."""
        return self.dispatcher.expect(action, match=match, hold=hold)

    async def expect_call(
        self, action: str | None = None, timeout: float = 5.0, *, match: Matcher | None = None
    ) -> IncomingCall:
        """The next (or an unclaimed earlier) CSMS CALL of `action`, already answered by the
        charge point; ExpectationFailed after `timeout`."""
        return await self.dispatcher.expect_call(action, timeout, match=match)

    def set_outcome(self, action: str, outcome: Outcome | None) -> None:
        """How the next `action` CALLs from the CSMS are answered (None: back to default)."""
        self.dispatcher.set_outcome(action, outcome)

    # -- time --------------------------------------------------------------------------------

    def now(self) -> datetime:
        """The charge point's clock: the injected clock set by the CSMS's currentTime."""
        return self.clock.now()

    def timestamp(self) -> str:
        return self.clock.timestamp()

    def wake(self) -> None:
        self.link.wake()

    # -- network, reboots, security profiles -------------------------------------------------

    async def go_offline(self) -> None:
        """Lose the network: the socket drops without a closing handshake; no reconnect until
        `go_online()`."""
        await self.link.go_offline()

    async def go_online(self, timeout: float = 10.0) -> None:
        """Regain the network and wait until reconnected (and booted if a boot is due)."""
        self.link.go_online()
        await self.wait_ready(timeout)

    async def restart(self, abrupt: bool = False) -> None:
        """Close the connection and connect again at once, with a boot (a reboot)."""
        self._needs_boot = True
        self.registration = None
        await self.link.reconnect(abrupt)

    def security(self) -> Security:
        return self.link.security()

    def target(self, profile: int) -> Target | None:
        """Where to connect with `profile`; None when this charge point cannot use it."""
        return self.link.target(profile)

    async def switch_profile(
        self, profile: int, target: Target, undo: Callable[[], None] | None = None
    ) -> None:
        """Drop the connection and connect again with `profile` at `target`; `undo()` if
        that never connects and the old settings come back."""
        await self.link.switch_profile(profile, target, undo)

    async def wait_profile(self, profile: int, timeout: float) -> None:
        """Wait until connected (and booted, if a boot is due) with security `profile`;
        NotConnected after `timeout`."""
        await self.link.wait_profile(profile, timeout)

    def route(self) -> Route:
        """How it connects now: URL, security profile, TLS context."""
        return self.link.route

    def use_routes(self, routes: Sequence[Route], attempts: int) -> None:
        """From the next connection on, connect by `routes` in turn, `attempts` failed
        attempts on each (2.0.1's NetworkConfigurationPriority)."""
        self.link.use_routes(routes, attempts)

    async def probe(
        self,
        subprotocols: Sequence[str] | None = None,
        profile: int | None = None,
        wait_close: float = 5.0,
        *,
        username: str | None = None,
        tls_max: str | None = None,
    ) -> Handshake:
        """A separate connection attempt as this charge point, closed at once, offering
        `subprotocols` (default: its version's), with security `profile` (default: its own),
        as Basic Auth `username` (default: its identity), offering TLS up to `tls_max`
        ("1.1") only. Its live link is left alone, though a CSMS that admits the attempt may
        close the older connection."""
        offered = (self.dialect.subprotocol,) if subprotocols is None else subprotocols
        return await self.link.probe(
            offered, profile, wait_close, username=username, tls_max=tls_max
        )

    # -- what a person at the charger does (the version's behaviour) -------------------------

    @property
    def config(self) -> Settings:
        """The configuration keys."""
        return self.behaviour.config

    @property
    def connectors(self) -> Mapping[int, ConnectorView]:
        return self.behaviour.connectors

    def configure(self, values: Mapping[str, Any]) -> None:
        """Set configuration keys locally (readonly ones too), as at installation."""
        self.behaviour.configure(values)

    def boot_payload(self) -> dict[str, Any]:
        return self.behaviour.boot_payload()

    def connector(self, connector_id: int) -> ConnectorView:
        return self.behaviour.connector(connector_id)

    def status(self, connector_id: int) -> str:
        return self.behaviour.status(connector_id)

    def transaction(self, connector_id: int) -> TransactionView | None:
        return self.behaviour.transaction(connector_id)

    async def wait_status(self, connector_id: int, status: str, timeout: float = 5.0) -> None:
        """Wait until the connector is in `status`; ExpectationFailed after `timeout`."""
        await self.behaviour.wait_status(connector_id, status, timeout)

    async def plug_in(self, connector_id: int = 1, ev: EV | None = None) -> None:
        """Plug an EV in; starts charging if a tag was already authorized here."""
        await self.behaviour.plug_in(connector_id, ev)

    async def unplug(self, connector_id: int = 1) -> None:
        """Pull the cable out: ends a running transaction when configured so."""
        await self.behaviour.unplug(connector_id)

    async def present_tag(self, connector_id: int, id_tag: str) -> Mapping[str, Any]:
        """Hold a tag to the reader: authorizes and starts, or stops the running transaction.
        Returns the authorization the decision was based on."""
        return await self.behaviour.present_tag(connector_id, id_tag)

    def cache_tag(self, id_tag: str, status: str = "Accepted", expiry: str | None = None) -> None:
        """Put a tag in the authorization cache, as if the CSMS had answered it so before."""
        self.behaviour.cache_tag(id_tag, status, expiry)

    async def stop_charging(
        self, connector_id: int = 1, reason: str = "Local", id_tag: str | None = None
    ) -> None:
        """End the transaction on the connector (the button on the charger, or a reason)."""
        await self.behaviour.stop_charging(connector_id, reason, id_tag)

    async def suspend(self, connector_id: int = 1, side: str = "EV") -> None:
        """Pause the energy flow from the EV side or the charger side ("EVSE")."""
        await self.behaviour.suspend(connector_id, side)

    async def resume(self, connector_id: int = 1) -> None:
        await self.behaviour.resume(connector_id)

    async def fault(
        self, connector_id: int = 1, error_code: str = "GroundFailure", info: str | None = None
    ) -> None:
        """Raise a fault: the connector goes Faulted and energy stops until `clear_fault`."""
        await self.behaviour.fault(connector_id, error_code, info)

    async def clear_fault(self, connector_id: int = 1) -> None:
        await self.behaviour.clear_fault(connector_id)

    async def reboot(self, kind: str = "Soft", timeout: float = 10.0) -> None:
        """Restart like a Reset: end the transactions, reconnect, boot."""
        await self.behaviour.restart(kind)
        await self.wait_ready(timeout)

    async def power_loss(self, timeout: float = 10.0) -> None:
        """Power cut and back: the link drops at once; interrupted transactions are reported
        after the boot."""
        await self.behaviour.power_loss()
        await self.wait_ready(timeout)

    def __repr__(self) -> str:
        state = "ready" if self.ready.is_set() else "connected" if self.connected else "offline"
        return f"<ChargePoint {self.identity} {self.behaviour.version} {state}>"
