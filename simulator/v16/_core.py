"""The link of a 1.6 charge point: connection loop with back-off, boot with retries,
heartbeats, network loss and reboots."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Callable, Sequence
from typing import Any, Self

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import InvalidHandshake, InvalidURI

from ocppj import (
    V16,
    CallErrorReceived,
    CallTimeout,
    InvalidResponse,
    RpcError,
    RpcSession,
)
from ocppj.session import Transport

from ..clock import wait_any
from ..connection import (
    Handshake,
    Security,
    Target,
    describe_failure,
    endpoint,
    failure_kind,
    open_connection,
    probe,
)
from ..errors import NotConnected, SimulatorError
from ..faults import FaultyTransport
from ._delivery import Delivery

log = logging.getLogger("simulator")
HISTORY = 50  # connection attempts, errors and delays remembered per charge point
FALL_BACK_AFTER = 3  # failed attempts with a new security profile before the old one is back

# What a security profile switch replaced: url, TLS context, profile, SecurityProfile value
_Previous = tuple[str, ssl.SSLContext | None, int | None, str]


def _keep(history: list[Any], item: Any) -> None:
    history.append(item)
    if len(history) > HISTORY:
        del history[0]


class Core(Delivery):
    """Connection, boot and heartbeat of one 1.6 charge point."""

    # Set while a raised security profile has not connected yet (class default: no cost).
    _previous: _Previous | None = None
    # Why this charge point is closing its own link, while it does (class default: no cost).
    _closing: str | None = None
    # Told of each failed connection attempt: (why, seconds until the next); e.g. the console.
    on_connect_failed: Callable[[str, float], None] | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    async def run(self) -> None:
        """Run until `close()`: connect, boot, serve, reconnect with back-off."""
        try:
            await self._link_loop()
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
        self._stop.set()
        self._wake.set()
        if self._ws is not None:
            self._closing = "closed"
            await self._ws.close()
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

    # -- the link ----------------------------------------------------------------------------

    async def _link_loop(self) -> None:
        attempt = 0
        while not self._stop.is_set():
            if not self.network_up.is_set():
                await wait_any(self.network_up, self._stop)
                continue
            _keep(self.connect_attempts, self.clock.monotonic())
            try:
                ws = await self._connect()
            except (OSError, InvalidHandshake, InvalidURI, TimeoutError) as exc:
                why = describe_failure(exc)
                _keep(self.connect_errors, why)
                self._note("connect", "cp", 0.0, failure_kind(exc))
                delay = self.spec.backoff.delay(attempt)
                attempt += 1
                if self._previous is not None and attempt >= FALL_BACK_AFTER:
                    self._fall_back()
                _keep(self.reconnect_delays, delay)
                log.info("%s: connect failed (%s); retry in %.2f s", self.identity, why, delay)
                if self.on_connect_failed is not None:
                    self.on_connect_failed(why, delay)
                await wait_any(self._wake, self._stop, timeout=delay)
                self._wake.clear()
                continue
            if ws is None:  # closed while connecting
                return
            attempt = 0
            if self._previous is not None:  # the raised profile works: no way back (A05)
                self._previous = None
            try:
                await self._serve(ws)
            except Exception as exc:  # noqa: BLE001 - a bug of ours: kept in failures; the link
                self.report_failure("serving the link", exc)  # is lost, not the charge point
                await ws.close()
            if self._restart_now:
                self._restart_now = False
                continue
            if not self._stop.is_set() and self.network_up.is_set():
                delay = self.spec.backoff.delay(0)
                _keep(self.reconnect_delays, delay)
                await wait_any(self._wake, self._stop, timeout=delay)
                self._wake.clear()

    async def _connect(self) -> ClientConnection | None:
        """One connection attempt, given up when `close()` is called (None then)."""
        opening = asyncio.ensure_future(
            open_connection(
                self.url,
                self.identity,
                security=self.security(),
                ssl_context=self.ssl_context,
                ping_interval=self.config.get_int("WebSocketPingInterval") or None,
                limits=self.spec.limits,
            )
        )
        stopped = asyncio.ensure_future(self._stop.wait())
        try:
            await asyncio.wait({opening, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
            if not opening.done():
                opening.cancel()
        if not self._stop.is_set():
            return await opening  # the connection, or why there is none
        with contextlib.suppress(
            asyncio.CancelledError, OSError, InvalidHandshake, InvalidURI, TimeoutError
        ):
            ws = await opening
            await ws.close()
        return None

    @property
    def endpoint_url(self) -> str:
        """The URL this charge point connects to, its identity in it (`url` may be a
        template: `ws://host/ws/ocpp/{id}/`)."""
        return endpoint(self.url, self.identity)

    def security(self) -> Security:
        profile = self.switched_profile
        if profile is None:
            profile = self.spec.security_profile
        if profile is None:
            secure = self.url.startswith("wss://")
            profile = (2 if secure else 1) if self.password else 0
        return Security(profile, self.password)

    async def _serve(self, ws: ClientConnection) -> None:
        transport: Transport = ws
        if self.spec.faults.active:
            if self._fault_rng is None:
                self._fault_rng = self.spec.faults.rng(self.identity)
            transport = FaultyTransport(ws, self.spec.faults, self._fault_rng, self.faults_injected)
        session = RpcSession(
            transport,
            V16,
            self._dispatch_table(),
            observer=self._observe,
            call_timeout=self.spec.call_timeout_s,
            start_follow_up=self._start_follow_up,
        )
        self._ws, self._session = ws, session
        self._observe("link", f"connected to {self.endpoint_url}", None, None)

        try:
            async with asyncio.TaskGroup() as group:
                self._conn_group = group
                group.create_task(session.run(), name=f"rpc {self.identity}")
                try:
                    await self._online(session)
                except RpcError as exc:  # the link failed under a boot/heartbeat/status call
                    log.info("%s: link lost: %s", self.identity, exc)
                finally:
                    self._conn_group = None
                    if self._sender is not None:
                        self._sender.cancel()
                    self._observe("link", self._closed_by(ws), None, None)
                    await ws.close()
        finally:
            self._closing = None
            self._ws = self._session = None
            self._sender = None
            self.ready.clear()

    def _closed_by(self, ws: ClientConnection) -> str:
        """Who ended the link, for the transcript: this charge point, the CSMS, or neither."""
        protocol = ws.protocol
        if self._closing is not None:
            return f"closed by the charge point ({self._closing})"
        received = protocol.close_rcvd
        if received is not None and protocol.close_rcvd_then_sent is not False:
            reason = f" {received.reason}" if received.reason else ""
            return f"closed by the CSMS (code {received.code}{reason})"
        if received is None and protocol.close_sent is None:
            return "lost: the connection dropped without a closing handshake"
        return "closed by the charge point"

    async def _online(self, session: RpcSession) -> None:
        booted = self._needs_boot
        if booted and not await self._boot(session):
            return
        self._needs_boot = False
        await self._after_boot(booted)
        self.ready.set()
        self._kick_sender()
        while not session.closed.is_set():
            interval = self.seconds("HeartbeatInterval")
            woken = await wait_any(session.closed, self._wake, timeout=interval or None)
            if session.closed.is_set() or self._stop.is_set():
                return
            if woken:
                self._wake.clear()
                continue
            sent_at = self.clock.monotonic()
            try:
                answer = await self._call("Heartbeat", {})
            except (CallErrorReceived, InvalidResponse) as exc:  # answered: the link works
                log.info("%s: Heartbeat refused: %s", self.identity, exc)  # counted: on_exchange
                continue
            self.sync_clock(answer.get("currentTime"), sent_at)

    def boot_payload(self) -> dict[str, Any]:
        spec = self.spec
        payload: dict[str, Any] = {
            "chargePointVendor": spec.vendor,
            "chargePointModel": spec.model,
            "firmwareVersion": self.firmware_version,
        }
        optional = {
            "chargePointSerialNumber": spec.serial_number,
            "chargeBoxSerialNumber": spec.charge_box_serial_number,
            "iccid": spec.iccid,
            "imsi": spec.imsi,
            "meterType": spec.meter_type,
            "meterSerialNumber": spec.meter_serial_number,
        }
        payload.update({k: v for k, v in optional.items() if v is not None})
        return payload

    async def _boot(self, session: RpcSession) -> bool:
        """BootNotification until Accepted; silent while Rejected. False if the link died."""
        while not session.closed.is_set():
            sent_at = self.clock.monotonic()
            try:
                answer = await self._call("BootNotification", self.boot_payload())
            except (CallErrorReceived, CallTimeout, InvalidResponse) as exc:
                log.warning("%s: BootNotification failed: %s", self.identity, exc)
                answer = {"status": "Pending", "interval": 0}
            self.registration = answer["status"]
            interval = int(answer.get("interval", 0))
            self.sync_clock(answer.get("currentTime"), sent_at)
            if self.registration == "Accepted":
                if interval > 0:
                    self.config.set("HeartbeatInterval", interval)
                return True
            wait = interval * self.spec.time_scale if interval > 0 else self.spec.boot_retry_s
            await wait_any(session.closed, self._stop, timeout=wait)
            if self._stop.is_set():
                return False
        return False

    async def _after_boot(self, booted: bool) -> None:
        """Hook: statuses after the boot or a reconnect (overridden by the transactions layer)."""

    # -- network control ---------------------------------------------------------------------

    async def go_offline(self) -> None:
        """Lose the network: the socket drops without a closing handshake; no reconnect until
        `go_online()`."""
        self.network_up.clear()
        self.ready.clear()
        session = self._session
        if self._ws is not None:
            self._closing = "network lost"
            self._ws.transport.abort()
        if session is not None and not await wait_any(session.closed, timeout=5):
            raise SimulatorError(f"{self.identity}: the link did not go down")

    async def go_online(self, timeout: float = 10.0) -> None:
        """Regain the network and wait until reconnected (and booted if a boot is due)."""
        self.network_up.set()
        self._wake.set()
        await self.wait_ready(timeout)

    async def _drop_for_restart(self, abrupt: bool = False) -> None:
        """Close the connection and reconnect at once (a reboot)."""
        self._needs_boot = True
        self.registration = None
        await self._reconnect(abrupt)

    async def _reconnect(self, abrupt: bool = False) -> None:
        """Close the connection and connect again at once (to `self.url`, as it is now)."""
        self._restart_now = True
        self.ready.clear()
        if self._ws is not None:
            self._closing = "reconnecting"
            if abrupt:
                self._ws.transport.abort()
            else:
                await self._ws.close()

    # -- security profiles -------------------------------------------------------------------

    def target(self, profile: int) -> Target | None:
        """Where to connect with `profile`: `profile_targets`, or for profile 1 the current
        ws:// URL; None when this charge point cannot use it."""
        if self.profile_targets is not None:
            return self.profile_targets(profile)
        if profile == 1 and self.url.startswith("ws://"):
            return Target(self.url)
        return None

    async def switch_profile(self, profile: int, target: Target) -> None:
        """Drop the connection and connect again with `profile` at `target` (whitepaper
        A05.FR.06-07); back to the old settings if that never connects (A05.FR.08)."""
        self._previous = (
            self.url,
            self.ssl_context,
            self.switched_profile,
            self.config.get("SecurityProfile"),
        )
        self.switched_profile = profile
        self.url, self.ssl_context = target.url, target.ssl_context
        self.config.set("SecurityProfile", profile)
        log.info("%s: security profile %d, at %s", self.identity, profile, target.url)
        await self._reconnect()

    def _fall_back(self) -> None:
        assert self._previous is not None
        url, context, profile, key = self._previous
        log.warning("%s: the new security profile never connected: back to %s", self.identity, url)
        self._previous = None
        self.url, self.ssl_context, self.switched_profile = url, context, profile
        self.config.set("SecurityProfile", key)

    async def wait_profile(self, profile: int, timeout: float) -> None:
        """Wait until connected (and booted, if a boot is due) with security `profile`;
        NotConnected after `timeout`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        # Polled: the switch follows the CSMS's call, and may fall back before it connects.
        while not (self.ready.is_set() and self.security().profile == profile):
            if loop.time() >= deadline:
                raise NotConnected(
                    f"{self.identity}: not connected with security profile {profile} within "
                    f"{timeout:g} s (profile {self.security().profile}, "
                    f"errors {self.connect_errors[-3:]})"
                )
            await asyncio.sleep(0.01)

    async def probe(
        self,
        subprotocols: Sequence[str] = ("ocpp1.6",),
        profile: int | None = None,
        wait_close: float = 5.0,
    ) -> Handshake:
        """A separate connection attempt as this charge point, closed at once, offering
        `subprotocols`, with security `profile` (default: its own). Its live link is left alone,
        though a CSMS that admits the attempt may close the older connection."""
        security = self.security()
        url, context = self.url, self.ssl_context
        if profile is not None and profile != security.profile:
            target = self.target(profile)
            if target is None:
                raise SimulatorError(f"{self.identity}: no endpoint for security profile {profile}")
            url, context = target.url, target.ssl_context
            security = Security(profile, self.password)
        return await probe(
            url,
            self.identity,
            security=security,
            ssl_context=context,
            subprotocols=subprotocols,
            wait_close=wait_close,
            limits=self.spec.limits,
        )
