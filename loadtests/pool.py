"""This process's charge points: unique ids, the shared TLS context, the drop sweep, closing.

A `Charger` is the gevent-side handle of one simulated charge point. The charge point itself
is the simulator's (`create_charge_point`), built and run on the bridge's asyncio thread; the
handle's methods hand it coroutines and sleep until they finish.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import gevent.event

from ocppj import RpcError
from simulator import ChargePoint, ChargePointSpec, SimulatorError, create_charge_point

from .bridge import AsyncioBridge
from .options import LoadOptions
from .reporting import WS, Reporter

log = logging.getLogger("loadtests.pool")
T = TypeVar("T")

__all__ = ["Charger", "ChargerPool"]

SWEEP_S = 0.5  # reconnects wait >= 1 s (back-off), so a drop is always seen
CLOSE_TIMEOUT_S = 10.0


class ChargerPool:
    """The charge points of this process (one pool per Locust process, made on first use)."""

    _instance: ChargerPool | None = None

    def __init__(self, environment: Any, options: LoadOptions) -> None:
        self.environment = environment
        self.options = options
        self.bridge = AsyncioBridge.get()
        self.ssl_context = options.ssl_context()  # one TLS context for all chargers
        self.all_spawned = gevent.event.Event()  # boot storm: everyone connects at once
        self._next = 1
        self._free: list[int] = []  # numbers of stopped users, reused lowest first
        self._reporters: set[Reporter] = set()  # loop side: open charge points
        self._closing: set[asyncio.Task[None]] = set()  # loop side
        self.close_failures = 0
        self._sweeper = self.bridge.submit(self._sweep())

    @classmethod
    def get(cls, environment: Any) -> ChargerPool:
        bridge = AsyncioBridge.get()
        pool = cls._instance
        if pool is None or pool.bridge is not bridge or pool.environment is not environment:
            options = LoadOptions.from_parsed(environment.parsed_options)
            pool = cls._instance = cls(environment, options)
        return pool

    # -- identities --------------------------------------------------------------------------

    @property
    def worker_index(self) -> int:
        return int(getattr(self.environment.runner, "worker_index", 0) or 0)

    def take_number(self) -> int:
        if self._free:
            return heapq.heappop(self._free)
        number, self._next = self._next, self._next + 1
        return number

    def release_number(self, number: int) -> None:
        heapq.heappush(self._free, number)

    def identity(self, number: int) -> str:
        return f"{self.options.id_prefix}{self.worker_index}-{number:05d}"

    def spec(self, identity: str, number: int = 0) -> ChargePointSpec:
        """A charge point as the simulator's fleet builds them (ChargePointSpec.lean), of the
        OCPP version the mix gives charger `number`."""
        o = self.options
        spec = ChargePointSpec.lean(
            identity,
            password=o.password,
            serial_number=identity,
            meter_interval_s=o.meter_interval,
        )
        spec.ocpp_version = o.version_of(number)
        return spec

    # -- the asyncio side --------------------------------------------------------------------

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_S)
            for reporter in list(self._reporters):
                reporter.sweep()

    def track(self, reporter: Reporter) -> None:
        """On the loop: watch this charge point for drops, close it at the end."""
        self._reporters.add(reporter)

    def close_later(self, reporter: Reporter) -> None:
        """Close this charge point on the loop without making the user wait (Locust stops
        thousands of users at once); `retire()` waits for all closes."""
        reporter.expect_down = True
        self.bridge.loop.call_soon_threadsafe(self._start_close, reporter)

    def _start_close(self, reporter: Reporter) -> None:
        self._reporters.discard(reporter)
        task = self.bridge.loop.create_task(self._close(reporter))
        self._closing.add(task)
        task.add_done_callback(self._closed)

    def _closed(self, task: asyncio.Task[None]) -> None:
        self._closing.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("closing a charge point failed", exc_info=task.exception())

    async def _close(self, reporter: Reporter) -> None:
        cp = reporter.cp
        if cp is None:
            return
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT_S):
                await end_transactions(cp)
                await cp.close()
        except (RpcError, SimulatorError, TimeoutError, OSError) as exc:
            self.close_failures += 1
            log.debug("%s: close failed: %s", cp.identity, exc)

    def retire(self) -> None:
        """End of a test: close what is left, stop the sweep; the next test (maybe with other
        options from the web UI) makes a new pool."""
        if type(self)._instance is self:
            type(self)._instance = None
        self.all_spawned.set()  # release users still waiting for a boot storm
        try:
            self.bridge.run(self.close_all(), CLOSE_TIMEOUT_S + 10)
        finally:
            self._sweeper.cancel()
        if self.close_failures:
            log.warning(
                "%d charge points did not close cleanly within %g s",
                self.close_failures,
                CLOSE_TIMEOUT_S,
            )

    async def close_all(self) -> None:
        """Close every charge point still open, in parallel, bounded in time."""
        for reporter in list(self._reporters):
            reporter.expect_down = True
            self._start_close(reporter)
        if self._closing:
            await asyncio.wait(set(self._closing), timeout=CLOSE_TIMEOUT_S + 5)


class Charger:
    """One simulated charge point, seen from its Locust user's greenlet."""

    def __init__(self, pool: ChargerPool) -> None:
        self.pool = pool
        self.options = pool.options
        self.number = pool.take_number()
        self.identity = pool.identity(self.number)
        self.id_tag = self.options.id_tag.format(id=self.identity, n=self.number)
        self.reporter = Reporter(pool.bridge, pool.environment.events.request)
        self.cp: ChargePoint | None = None

    def run(self, work: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        return self.pool.bridge.run(work, timeout)

    def act(self, step: Callable[[ChargePoint], Coroutine[Any, Any, T]], timeout: float) -> T:
        """Run one driver step (`lambda cp: cp.plug_in(1)`) on the charge point."""
        if self.cp is None:
            raise SimulatorError(f"{self.identity}: not started")
        return self.run(step(self.cp), timeout)

    def start(self) -> bool:
        """Create the charge point and run it until booted; report `WS connect`."""
        began = time.monotonic()
        try:
            self.run(self._start(), self.options.boot_timeout + 5)
        except (SimulatorError, TimeoutError, OSError) as exc:
            self.reporter.report_now(WS, "connect", _ms(began), f"not booted: {exc}")
            return False
        self.reporter.report_now(WS, "connect", _ms(began))
        return True

    async def _start(self) -> None:
        if self.cp is None:
            self.cp = create_charge_point(
                self.pool.spec(self.identity, self.number),
                self.options.csms_url,
                ssl_context=self.pool.ssl_context,
                on_exchange=self.reporter,
            )
            self.reporter.cp = self.cp
            self.pool.track(self.reporter)
        await self.cp.start(self.options.boot_timeout)
        self.after_boot()

    def after_boot(self) -> None:
        """On the loop: apply the heartbeat override (a boot resets it to the CSMS's value)."""
        if self.cp is not None and self.options.heartbeat_interval > 0:
            self.cp.configure({"HeartbeatInterval": self.options.heartbeat_interval})

    def stop(self) -> None:
        """The user stops: close the connection (in the background) and free the id."""
        if self.cp is not None:
            self.pool.close_later(self.reporter)
        self.pool.release_number(self.number)
        self.cp = None


END_PASSES = 3
END_SETTLE_S = 0.3


async def end_transactions(cp: ChargePoint) -> None:
    """A stopping user ends its open transactions before it closes, as `sim fleet` does:
    StopTransaction with reason Local (a regular termination), while the link is up."""
    for _ in range(END_PASSES):
        if not cp.online:
            return
        for number, connector in cp.connectors.items():
            if connector.transaction is not None:
                await cp.stop_charging(number, "Local")
        # a start in flight when the user stopped (its task is not the user's any more)
        # lands during this pause, and the next pass ends it
        await asyncio.sleep(END_SETTLE_S)


def _ms(since: float) -> float:
    return (time.monotonic() - since) * 1000.0
