"""Many charge points in one process: ramp-up at a given rate, an idle or charging profile,
and the statistics a load test wants (connected, boots, messages, errors, latencies)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from ocppj import RpcError

from .clock import wait_any
from .endpoints import Endpoints
from .errors import SimulatorError
from .factory import create_charge_point
from .faults import Faults
from .spec import ChargePointSpec
from .station import Station

log = logging.getLogger("simulator.fleet")
FLEET_PROFILES = ("idle", "charging")  # what each charge point of a fleet does


@dataclass
class FleetStats:
    """Counters fed by every charge point's `on_exchange` hook."""

    messages: Counter[str] = field(default_factory=Counter)  # action -> completed exchanges
    errors: Counter[str] = field(default_factory=Counter)  # error kind -> count
    latencies: dict[str, list[float]] = field(default_factory=dict)  # CP-initiated only
    sample_limit: int = 20_000  # latencies kept per action

    def record(self, action: str, side: str, seconds: float, error: str | None) -> None:
        if action == "connect":  # failed connection attempts
            self.errors[f"connect:{error}"] += 1
            return
        self.messages[action] += 1
        if error is not None:
            self.errors[f"{action}:{error}"] += 1
        elif side == "cp":
            samples = self.latencies.setdefault(action, [])
            if len(samples) < self.sample_limit:
                samples.append(seconds)

    def percentiles(self, action: str | None = None) -> dict[str, float]:
        """p50/p90/p99/max latency in ms (of one action, or of all CP-initiated ones)."""
        values = sorted(v for a, vs in self.latencies.items() if action in (None, a) for v in vs)
        if not values:
            return {}

        def at(q: float) -> float:
            return 1000 * values[min(len(values) - 1, int(q * len(values)))]

        return {"p50": at(0.5), "p90": at(0.9), "p99": at(0.99), "max": 1000 * values[-1]}


@dataclass
class FleetOptions:
    url: str
    count: int
    rate: float = 100.0  # charge points started per second
    id_pattern: str = "SIM-{n:05d}"
    profile: str = "idle"
    connectors: int = 1
    password: str | None = None
    heartbeat_s: int | None = None  # None: as the CSMS says at boot
    id_tag: str = "FLEET-{n:05d}"
    charge_s: float = 30.0
    pause_s: float = 10.0
    meter_interval_s: int = 10  # MeterValueSampleInterval: MeterValues while charging; 0 off
    first: int = 1  # number of the first charge point (for several fleets side by side)
    faults: Faults = field(default_factory=Faults)  # misbehaviours of every charge point
    ocpp_version: str = "1.6"  # or "2.0.1"
    stop_grace_s: float = 5.0  # at the stop: time to end open transactions before closing


class Fleet:
    """Runs `options.count` charge points of one profile in this process."""

    def __init__(
        self,
        options: FleetOptions,
        *,
        ssl_context: ssl.SSLContext | None = None,
        spec_hook: Callable[[ChargePointSpec], None] | None = None,
        endpoints: Endpoints | None = None,
    ) -> None:
        if options.profile not in FLEET_PROFILES:
            raise SimulatorError(
                f"profile must be one of {FLEET_PROFILES}, not {options.profile!r}"
            )
        self.options = options
        self.ssl_context = ssl_context
        self.spec_hook = spec_hook
        self.endpoints = endpoints  # where a raised SecurityProfile goes
        self.stats = FleetStats()
        self.charge_points: list[Station] = []
        self.stopping = asyncio.Event()
        self.connected_at_stop: int | None = None  # before any link is closed by the stop

    def spec(self, n: int) -> ChargePointSpec:
        o = self.options
        spec = ChargePointSpec.lean(
            o.id_pattern.format(n=n),
            connectors=o.connectors,
            password=o.password,
            meter_interval_s=o.meter_interval_s,
            serial_number=f"SN-{n:06d}",
            faults=o.faults,
        )
        spec.ocpp_version = o.ocpp_version
        if self.spec_hook is not None:
            self.spec_hook(spec)
        return spec

    @property
    def connected(self) -> int:
        return sum(1 for cp in self.charge_points if cp.connected)

    @property
    def accepted(self) -> int:
        return sum(1 for cp in self.charge_points if cp.ready.is_set())

    async def run(self, duration: float | None = None) -> FleetStats:
        """Ramp up and run until `duration` elapses or `stop()`; then every charge point ends
        its open transactions and closes (within `stop_grace_s` and the close timeout)."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self._ramp(group))
            await self._wait_stop(duration)
            self.stop()
        return self.stats

    def stop(self) -> None:
        """End the run: the charge points connected now are counted, then each one ends its
        transactions and closes."""
        if not self.stopping.is_set():
            self.connected_at_stop = self.connected
            self.stopping.set()

    async def _wait_stop(self, duration: float | None) -> None:
        await wait_any(self.stopping, timeout=duration)

    async def _ramp(self, group: asyncio.TaskGroup) -> None:
        gap = 1.0 / self.options.rate if self.options.rate > 0 else 0.0
        loop = asyncio.get_running_loop()
        begin = loop.time()
        first = self.options.first
        for n in range(first, first + self.options.count):
            if self.stopping.is_set():
                return
            spec = self.spec(n)
            targets = None if self.endpoints is None else self.endpoints.lookup(spec.identity)
            cp = create_charge_point(
                spec,
                self.options.url,
                ssl_context=self.ssl_context,
                on_exchange=self.stats.record,
                profile_targets=targets,
            )
            if self.options.heartbeat_s is not None:
                cp.config.set("HeartbeatInterval", self.options.heartbeat_s)
            self.charge_points.append(cp)
            group.create_task(self._life(cp, n), name=cp.identity)
            delay = begin + (n - first + 1) * gap - loop.time()
            if delay > 0:
                await self._pause(delay)

    async def _life(self, cp: Station, n: int) -> None:
        """One charge point: connected and its profile played until the stop; then its open
        transactions ended and its link closed. An internal error ends its profile, not the
        fleet, nor its run."""
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(cp.run(), name=f"run {cp.identity}")
                profile = (
                    group.create_task(self._charging(cp, n), name=f"profile {cp.identity}")
                    if self.options.profile == "charging"
                    else None
                )
                await self.stopping.wait()
                if profile is not None:  # wherever it is: a step may wait for the CSMS
                    profile.cancel()
                    await asyncio.wait({profile})
                await self._end_transactions(cp)
                with contextlib.suppress(SimulatorError):  # its internal errors: summarised
                    await cp.close()
        except Exception as exc:  # noqa: BLE001 - a bug of ours: kept in cp.failures, summarised
            cp.report_failure(f"the fleet's {self.options.profile} profile", exc)
            with contextlib.suppress(SimulatorError):
                await cp.close()

    async def _end_transactions(self, cp: Station) -> None:
        """A regular end of each open transaction at the stop: StopTransaction with reason
        Local (OCPP 1.6's Reason: "a regular termination of a transaction"; 2.0.1's Ended
        TransactionEvent says it as its stoppedReason), sent while the link is up. Not
        PowerLoss: that reports, after the power is back, an outage that did not happen. A
        charge point that is offline keeps them open, as a real one would."""
        numbers = [n for n, c in cp.connectors.items() if c.transaction is not None]
        if not numbers or not cp.online:
            return
        try:
            async with asyncio.timeout(self.options.stop_grace_s):
                for number in numbers:
                    if cp.transaction(number) is not None:
                        await cp.stop_charging(number, "Local")
        except TimeoutError:
            self.stats.errors["stop:StopTransaction not answered in time"] += 1
        except RpcError:
            pass  # counted already, by the exchange that failed (stats.record)
        except SimulatorError as exc:
            self.stats.errors[f"stop:{type(exc).__name__}"] += 1

    async def _charging(self, cp: Station, n: int) -> None:
        """Plug, tag, charge for charge_s, stop, unplug, pause; again until the stop (it is
        cancelled then too, but asyncio.wait_for of Python 3.11 may swallow a cancellation)."""
        tag = self.options.id_tag.format(n=n)
        while not self.stopping.is_set():
            if not cp.ready.is_set():
                await self._ready_or_stop(cp)
                continue
            try:
                await cp.plug_in(1)
                await cp.present_tag(1, tag)
                await self._pause(self.options.charge_s)
                if cp.transaction(1) is not None:
                    await cp.stop_charging(1)
                await cp.unplug(1)
            except (RpcError, SimulatorError) as exc:
                if isinstance(exc, SimulatorError):  # an RpcError: counted by its exchange
                    self.stats.errors[f"session:{type(exc).__name__}"] += 1
                with contextlib.suppress(SimulatorError):
                    if cp.connector(1).plugged:
                        await cp.unplug(1)
            except Exception as exc:  # noqa: BLE001 - a bug of ours: kept, the next session runs
                cp.report_failure("a charging session", exc)
            await self._pause(self.options.pause_s)

    async def _ready_or_stop(self, cp: Station) -> None:
        await wait_any(cp.ready, self.stopping)

    async def _pause(self, seconds: float) -> None:
        await wait_any(self.stopping, timeout=seconds)


def summary(fleet: Fleet, elapsed: float) -> list[str]:
    """The closing report of a fleet run, as text lines."""
    stats = fleet.stats
    connected = fleet.connected if fleet.connected_at_stop is None else fleet.connected_at_stop
    lines = [
        f"charge points: {len(fleet.charge_points)}  connected: {connected}  "
        f"boots accepted: {sum(1 for cp in fleet.charge_points if cp.registration == 'Accepted')}"
        f"  elapsed: {elapsed:.1f} s",
        "messages per action:",
    ]
    lines += [f"  {action:<32} {count:>9}" for action, count in stats.messages.most_common()]
    lines.append("errors by kind:" if stats.errors else "errors: none")
    lines += [f"  {kind:<40} {count:>7}" for kind, count in stats.errors.most_common()]
    injected: Counter[str] = Counter()
    for cp in fleet.charge_points:
        injected.update(cp.faults_injected)
    if injected:
        lines.append("faults injected:")
        lines += [f"  {kind:<40} {count:>7}" for kind, count in sorted(injected.items())]
    failures: Counter[str] = Counter()
    failing = [cp for cp in fleet.charge_points if cp.failures]
    for cp in failing:
        failures.update(type(error).__name__ for error in cp.failures)
    if failing:
        first = failing[0]
        lines.append(
            f"internal errors (simulator bugs, see the log): {sum(failures.values())} in "
            f"{len(failing)} charge points; first: {first.identity}: {first.failures[0]!r}"[:300]
        )
        lines += [f"  {kind:<40} {count:>7}" for kind, count in failures.most_common()]
    lines.append("latency (ms, CP-initiated):")
    for action in sorted(stats.latencies):
        p = stats.percentiles(action)
        lines.append(
            f"  {action:<24} p50 {p['p50']:8.1f}  p90 {p['p90']:8.1f}  p99 {p['p99']:8.1f}"
            f"  max {p['max']:8.1f}"
        )
    return lines


def progress_line(fleet: Fleet, elapsed: float) -> str:
    total = sum(fleet.stats.messages.values())
    errors = sum(fleet.stats.errors.values())
    return (
        f"[{elapsed:7.1f} s] started {len(fleet.charge_points)}/{fleet.options.count}  "
        f"connected {fleet.connected}  accepted {fleet.accepted}  messages {total}  "
        f"errors {errors}"
    )
