"""The link of a charge point to its CSMS: the connection loop with back-off, one RpcSession
per connection, network loss and reconnects, security profile switches (whitepaper A05) and
separate handshakes (probes). What is said over the link is the station's."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import InvalidHandshake, InvalidURI

from ocppj import Dialect, Frame, RpcError, RpcSession

from .clock import Clock, wait_any
from .connection import (
    Handshake,
    Route,
    Security,
    Target,
    TargetLookup,
    capped_tls,
    describe_failure,
    endpoint,
    failure_kind,
    open_connection,
    probe,
)
from .errors import NotConnected, SimulatorError
from .spec import ChargePointSpec

__all__ = ["Link", "LinkOwner"]

log = logging.getLogger("simulator")
HISTORY = 50  # connection attempts, errors and delays remembered per charge point
FALL_BACK_AFTER = 3  # failed attempts with a new security profile before the old one is back

# What a security profile switch replaced: url, TLS context, profile, and how to undo the rest
_Previous = tuple[str, ssl.SSLContext | None, int | None, Callable[[], None] | None]


def _keep(history: list[Any], item: Any) -> None:
    history.append(item)
    if len(history) > HISTORY:
        del history[0]


class LinkOwner(Protocol):
    """What the link asks of its station."""

    identity: str
    spec: ChargePointSpec
    ready: asyncio.Event

    @property
    def clock(self) -> Clock: ...

    @property
    def dialect(self) -> Dialect:
        """The OCPP version spoken: its subprotocol is the one offered."""
        ...

    def open_session(self, ws: ClientConnection) -> RpcSession:
        """The RPC session over a new connection (its dialect, handlers, observer)."""
        ...

    def serve(self, session: RpcSession, group: asyncio.TaskGroup) -> Awaitable[None]:
        """Talk over the session (boot, heartbeats...) until it closes; `group` is the
        connection's task group."""
        ...

    def link_ended(self) -> None: ...

    def ping_interval(self) -> float | None: ...

    def note(self, action: str, side: str, seconds: float, error: str | None) -> None: ...

    def report_failure(self, what: str, error: BaseException) -> None: ...

    def observe(
        self, direction: str, text: str, frame: Frame | None, action: str | None
    ) -> None: ...


class Link:
    """Connects, serves, reconnects with back-off until `stop()`."""

    __slots__ = (
        "_closing",
        "_owner",
        "_previous",
        "_restart_now",
        "_route",
        "_route_attempts",
        "_route_failures",
        "_routes",
        "_stop",
        "_wake",
        "_ws",
        "connect_attempts",
        "connect_errors",
        "network_up",
        "on_connect_failed",
        "password",
        "profile_targets",
        "reconnect_delays",
        "session",
        "ssl_context",
        "switched_profile",
        "url",
    )

    def __init__(
        self,
        owner: LinkOwner,
        url: str,
        *,
        password: str | None,
        ssl_context: ssl.SSLContext | None,
        profile_targets: TargetLookup | None,
    ) -> None:
        self._owner = owner
        self.url = url  # may be a template: ws://host/ws/ocpp/{id}/
        self.password = password
        self.ssl_context = ssl_context
        # where to connect with another security profile, when the CSMS raises it (A05),
        # and the profile it raised it to
        self.profile_targets = profile_targets
        self.switched_profile: int | None = None
        self._previous: _Previous | None = None  # while a raised profile has not connected
        # 2.0.1's network profiles: the routes tried in turn, the one in use, its failures
        self._routes: list[Route] = []
        self._route = 0
        self._route_failures = 0
        self._route_attempts = 1
        self._closing: str | None = None  # why the charge point closes its link, while it does
        # told of each failed connection attempt: (why, seconds until the next); the console
        self.on_connect_failed: Callable[[str, float], None] | None = None
        self.network_up = asyncio.Event()
        self.network_up.set()
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()  # re-read the intervals, or connect again now
        self._restart_now = False
        self._ws: ClientConnection | None = None
        self.session: RpcSession | None = None
        self.reconnect_delays: list[float] = []  # waited between failed attempts (for tests)
        self.connect_errors: list[str] = []
        self.connect_attempts: list[float] = []  # monotonic time of each attempt

    @property
    def endpoint_url(self) -> str:
        """The URL connected to, the identity in it."""
        return endpoint(self.url, self._owner.identity)

    @property
    def connected(self) -> bool:
        return self.session is not None and not self.session.closed.is_set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def wake(self) -> None:
        """Wake the waits of the link and of the station: an interval changed."""
        self._wake.set()

    async def idle(self, session: RpcSession, seconds: float | None) -> str:
        """Wait up to `seconds` (None: no limit) on `session`: "ended" when it or the link
        ends, "woken" when an interval changed (the wake is consumed), else "due"."""
        woken = await wait_any(session.closed, self._wake, timeout=seconds)
        if session.closed.is_set() or self._stop.is_set():
            return "ended"
        if woken:
            self._wake.clear()
            return "woken"
        return "due"

    async def pause(
        self, session: RpcSession, seconds: float, wake: asyncio.Event | None = None
    ) -> bool:
        """Wait `seconds` unless the session or the link ends, or `wake` is set; False when
        the link stops."""
        events = (
            (session.closed, self._stop) if wake is None else (session.closed, self._stop, wake)
        )
        await wait_any(*events, timeout=seconds)
        return not self._stop.is_set()

    # -- the loop ----------------------------------------------------------------------------

    async def run(self) -> None:
        attempt = 0
        owner = self._owner
        while not self._stop.is_set():
            if not self.network_up.is_set():
                await wait_any(self.network_up, self._stop)
                continue
            _keep(self.connect_attempts, owner.clock.monotonic())
            try:
                ws = await self._connect()
            except (OSError, InvalidHandshake, InvalidURI, TimeoutError) as exc:
                why = describe_failure(exc)
                _keep(self.connect_errors, why)
                owner.note("connect", "cp", 0.0, failure_kind(exc))
                delay = owner.spec.backoff.delay(attempt)
                attempt += 1
                if self._previous is not None and attempt >= FALL_BACK_AFTER:
                    self._fall_back()
                self._route_failed()
                _keep(self.reconnect_delays, delay)
                log.info("%s: connect failed (%s); retry in %.2f s", owner.identity, why, delay)
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
            self._route_connected()
            try:
                await self._serve(ws)
            except Exception as exc:  # noqa: BLE001 - a bug of ours: kept in failures; the link
                owner.report_failure("serving the link", exc)  # is lost, not the charge point
                await ws.close()
            if self._restart_now:
                self._restart_now = False
                continue
            if not self._stop.is_set() and self.network_up.is_set():
                delay = owner.spec.backoff.delay(0)
                _keep(self.reconnect_delays, delay)
                await wait_any(self._wake, self._stop, timeout=delay)
                self._wake.clear()

    async def _connect(self) -> ClientConnection | None:
        """One connection attempt, given up when `stop()` is called (None then)."""
        owner = self._owner
        opening = asyncio.ensure_future(
            open_connection(
                self.url,
                owner.identity,
                security=self.security(),
                ssl_context=self.ssl_context,
                ping_interval=owner.ping_interval(),
                limits=owner.spec.limits,
                subprotocols=(owner.dialect.subprotocol,),
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

    async def _serve(self, ws: ClientConnection) -> None:
        owner = self._owner
        session = owner.open_session(ws)
        self._ws, self.session = ws, session
        owner.observe("link", f"connected to {self.endpoint_url}", None, None)
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(session.run(), name=f"rpc {owner.identity}")
                try:
                    await owner.serve(session, group)
                except RpcError as exc:  # the link failed under a boot/heartbeat/status call
                    log.info("%s: link lost: %s", owner.identity, exc)
                finally:
                    owner.observe("link", self._closed_by(ws), None, None)
                    await ws.close()
        finally:
            self._closing = None
            self._ws = self.session = None
            owner.link_ended()

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

    async def stop(self) -> None:
        """Close the connection and connect no more (`run` then returns)."""
        self._stop.set()
        self._wake.set()
        if self._ws is not None:
            self._closing = "closed"
            await self._ws.close()

    # -- network control ---------------------------------------------------------------------

    async def go_offline(self) -> None:
        """Lose the network: the socket drops without a closing handshake; no reconnect until
        `go_online()`."""
        self.network_up.clear()
        self._owner.ready.clear()
        session = self.session
        if self._ws is not None:
            self._closing = "network lost"
            self._ws.transport.abort()
        if session is not None and not await wait_any(session.closed, timeout=5):
            raise SimulatorError(f"{self._owner.identity}: the link did not go down")

    def go_online(self) -> None:
        """Regain the network: connect again at once."""
        self.network_up.set()
        self._wake.set()

    async def reconnect(self, abrupt: bool = False) -> None:
        """Close the connection and connect again at once (to `url`, as it is now)."""
        self._restart_now = True
        self._owner.ready.clear()
        if self._ws is not None:
            self._closing = "reconnecting"
            if abrupt:
                self._ws.transport.abort()
            else:
                await self._ws.close()

    # -- security profiles -------------------------------------------------------------------

    def security(self) -> Security:
        profile = self.switched_profile
        if profile is None:
            profile = self._owner.spec.security_profile
        if profile is None:
            secure = self.url.startswith("wss://")
            profile = (2 if secure else 1) if self.password else 0
        return Security(profile, self.password)

    def target(self, profile: int) -> Target | None:
        """Where to connect with `profile`: `profile_targets`, or for profile 1 the current
        ws:// URL; None when this charge point cannot use it."""
        if self.profile_targets is not None:
            return self.profile_targets(profile)
        if profile == 1 and self.url.startswith("ws://"):
            return Target(self.url)
        return None

    async def switch_profile(
        self, profile: int, target: Target, undo: Callable[[], None] | None = None
    ) -> None:
        """Drop the connection and connect again with `profile` at `target` (whitepaper
        A05.FR.06-07); back to the old settings, and `undo()`, if that never connects
        (A05.FR.08)."""
        self._previous = (self.url, self.ssl_context, self.switched_profile, undo)
        self.switched_profile = profile
        self.url, self.ssl_context = target.url, target.ssl_context
        log.info("%s: security profile %d, at %s", self._owner.identity, profile, target.url)
        await self.reconnect()

    def _fall_back(self) -> None:
        assert self._previous is not None
        url, context, profile, undo = self._previous
        log.warning(
            "%s: the new security profile never connected: back to %s", self._owner.identity, url
        )
        self._previous = None
        self.url, self.ssl_context, self.switched_profile = url, context, profile
        if undo is not None:
            undo()

    # -- routes (2.0.1's network connection profiles) ----------------------------------------

    @property
    def route(self) -> Route:
        """The way it connects now."""
        slot = self._routes[self._route].slot if self._routes else 0
        return Route(self.url, self.security().profile, self.ssl_context, slot)

    def use_routes(self, routes: Sequence[Route], attempts: int) -> None:
        """From the next connection on, connect by `routes` in turn: `attempts` failed
        attempts on one, then the next (after the last, the first again). Once one connects,
        those of a lower security profile are dropped: no way back (A05)."""
        self._routes = list(routes)
        self._route = self._route_failures = 0
        self._route_attempts = max(attempts, 1)
        if self._routes:
            self._take(self._routes[0])

    def _take(self, route: Route) -> None:
        self.url, self.ssl_context, self.switched_profile = (
            route.url,
            route.ssl_context,
            route.profile,
        )

    def _route_failed(self) -> None:
        if len(self._routes) < 2:
            return
        self._route_failures += 1
        if self._route_failures >= self._route_attempts:
            self._route = (self._route + 1) % len(self._routes)
            self._route_failures = 0
            route = self._routes[self._route]
            log.info(
                "%s: next network profile, slot %d at %s",
                self._owner.identity,
                route.slot,
                route.url,
            )
            self._take(route)

    def _route_connected(self) -> None:
        if not self._routes:
            return
        self._route_failures = 0
        current = self._routes[self._route]
        self._routes = [r for r in self._routes if r.profile >= current.profile]
        self._route = self._routes.index(current)

    async def wait_profile(self, profile: int, timeout: float) -> None:
        """Wait until connected (and booted, if a boot is due) with security `profile`;
        NotConnected after `timeout`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        # Polled: the switch follows the CSMS's call, and may fall back before it connects.
        while not (self._owner.ready.is_set() and self.security().profile == profile):
            if loop.time() >= deadline:
                raise NotConnected(
                    f"{self._owner.identity}: not connected with security profile {profile} "
                    f"within {timeout:g} s (profile {self.security().profile}, "
                    f"errors {self.connect_errors[-3:]})"
                )
            await asyncio.sleep(0.01)

    async def probe(
        self,
        subprotocols: Sequence[str],
        profile: int | None = None,
        wait_close: float = 5.0,
        *,
        username: str | None = None,
        tls_max: str | None = None,
    ) -> Handshake:
        """A separate connection attempt as this charge point, closed at once, offering
        `subprotocols`, with security `profile` (default: its own), as Basic Auth `username`
        (default: its identity), offering TLS up to `tls_max` only. Its live link is left
        alone, though a CSMS that admits the attempt may close the older connection."""
        owner = self._owner
        security = self.security()
        url, context = self.url, self.ssl_context
        if profile is not None and profile != security.profile:
            target = self.target(profile)
            if target is None:
                raise SimulatorError(
                    f"{owner.identity}: no endpoint for security profile {profile}"
                )
            url, context = target.url, target.ssl_context
            security = Security(profile, self.password)
        if username is not None:
            security = Security(security.profile, security.password, username)
        if tls_max is not None:
            if not endpoint(url, owner.identity).startswith("wss://"):
                raise SimulatorError(f"{owner.identity}: no TLS at {url} to offer {tls_max} on")
            context = capped_tls(context, tls_max)
        return await probe(
            url,
            owner.identity,
            security=security,
            ssl_context=context,
            subprotocols=subprotocols,
            wait_close=wait_close,
            limits=owner.spec.limits,
        )
