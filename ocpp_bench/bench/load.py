"""A lean OCPP load generator: raw WebSockets and orjson, one asyncio task per connection.

The same generator drives every CSMS of a run, so only the servers differ.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect

from . import load201

NOW = "2026-11-24T10:00:00Z"
BOOT = {"chargePointVendor": "bench", "chargePointModel": "load"}
STATUS = {"connectorId": 1, "status": "Charging", "errorCode": "NoError"}

# The 10 values of a MeterValues, as chargers send them: sampled on the outlet during a
# session (Sample.Periodic), or clock-aligned from the charger's main meter (Sample.Clock).
# (measurand, unit, phase, location, typical value; the first is the energy register)
Shape = tuple[str, str, str | None, str, float]
SAMPLED: tuple[Shape, ...] = (
    ("Energy.Active.Import.Register", "Wh", None, "Outlet", 0.0),
    ("Power.Active.Import", "W", None, "Outlet", 11000.0),
    ("Current.Import", "A", "L1", "Outlet", 16.0),
    ("Current.Import", "A", "L2", "Outlet", 16.0),
    ("Current.Import", "A", "L3", "Outlet", 16.0),
    ("Voltage", "V", "L1-N", "Outlet", 230.0),
    ("Voltage", "V", "L2-N", "Outlet", 230.0),
    ("Voltage", "V", "L3-N", "Outlet", 230.0),
    ("Temperature", "Celsius", None, "Body", 35.0),
    ("SoC", "Percent", None, "EV", 50.0),
)
CLOCK: tuple[Shape, ...] = (
    ("Energy.Active.Import.Register", "Wh", None, "Inlet", 0.0),
    ("Energy.Active.Export.Register", "Wh", None, "Inlet", 0.0),
    ("Energy.Reactive.Import.Register", "varh", None, "Inlet", 0.0),
    ("Power.Active.Import", "W", None, "Inlet", 22000.0),
    ("Voltage", "V", "L1-N", "Inlet", 230.0),
    ("Voltage", "V", "L2-N", "Inlet", 230.0),
    ("Voltage", "V", "L3-N", "Inlet", 230.0),
    ("Current.Import", "A", "L1", "Inlet", 32.0),
    ("Current.Import", "A", "L2", "Inlet", 32.0),
    ("Current.Import", "A", "L3", "Inlet", 32.0),
)
# Every instant of the process is a new one (clock-aligned ones 15 min apart, sampled ones
# 1 ms apart), so no sample repeats one stored before, whatever the charger and the stage.
CLOCK_BASE = datetime(2027, 1, 1, tzinfo=UTC)
CLOCK_STEP = timedelta(minutes=15)  # ClockAlignedDataInterval 900
SAMPLED_BASE = datetime.now(UTC)
SAMPLED_STEP = timedelta(milliseconds=1)
_aligned = itertools.count()
_sampled = itertools.count()


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Meter:
    """One charger's meter in a stage: each MeterValues is a new instant and a higher register,
    so every sample is stored (a repeat of a stored sample would be dropped as a duplicate)."""

    transaction_id: int | None  # None: values outside any transaction
    clock: bool  # clock-aligned (Sample.Clock) or sampled (Sample.Periodic)
    register: int = 0

    def payload(self) -> dict[str, Any]:
        if self.clock:
            moment = _iso(CLOCK_BASE + next(_aligned) * CLOCK_STEP)  # aligned instants
            shapes, context = CLOCK, "Sample.Clock"
        else:
            moment = _iso(SAMPLED_BASE + next(_sampled) * SAMPLED_STEP)
            shapes, context = SAMPLED, "Sample.Periodic"
        self.register += 31
        samples = []
        for k, (measurand, unit, phase, location, typical) in enumerate(shapes):
            value = str(self.register) if k == 0 else f"{typical * (0.95 + k / 100):.1f}"
            sample = {"value": value, "context": context, "measurand": measurand,
                      "location": location, "unit": unit}  # fmt: skip
            if phase:
                sample["phase"] = phase
            samples.append(sample)
        payload: dict[str, Any] = {
            "connectorId": 0 if self.transaction_id is None and self.clock else 1,
            "meterValue": [{"timestamp": moment, "sampledValue": samples}],
        }
        if self.transaction_id is not None:
            payload["transactionId"] = self.transaction_id
        return payload


class Client:
    """One charge point's socket: CALL, wait for the answer, nothing else."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.ids = itertools.count(1)

    @classmethod
    async def open(
        cls, url: str, identity: str, timeout: float = 60, subprotocol: str = "ocpp1.6"
    ) -> Client:
        ws = await connect(
            f"{url}/{identity}",
            subprotocols=[subprotocol],  # type: ignore[list-item]
            compression=None,
            open_timeout=timeout,
            ping_interval=None,
        )
        return cls(ws)

    async def call(self, action: str, payload: dict[str, Any]) -> Any:
        message_id = str(next(self.ids))
        await self.ws.send(orjson.dumps([2, message_id, action, payload]).decode())
        frame = orjson.loads(await self.ws.recv())
        if frame[0] != 3:
            raise RuntimeError(f"{action}: {frame}")
        return frame[2]

    async def close(self) -> None:
        await self.ws.close()


@dataclass
class Result:
    completed: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    began: float = 0.0  # perf_counter at the start of the stage
    moments: list[float] = field(default_factory=list)  # perf_counter of each completion

    @property
    def rate(self) -> float:
        return self.completed / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000

    def rate_in(self, first: float, last: float) -> float:
        """Units of work per second completed between shares `first` and `last` of the stage
        (0.0, 0.1: its first 10 %)."""
        low = self.began + first * self.seconds
        high = self.began + last * self.seconds
        done = sum(1 for moment in self.moments if low <= moment < high)
        return done / ((last - first) * self.seconds) if self.seconds else 0.0


KINDS = (
    "Heartbeat",
    "StatusNotification",
    "MeterValues (tx, sampled)",
    "MeterValues (tx, clock)",
    "MeterValues (no tx, clock)",
    "MeterValues (no tx, sampled)",
    "Session mix",
    *load201.KINDS,  # the same stages for a 2.0.1 station
)
SESSION = 6  # messages of a Session mix unit: Authorize, Start, 3 x MeterValues, Stop
Work = Callable[[Client, Meter], Awaitable[int]]  # does one unit of work, returns messages sent


async def _start(client: Client) -> int:
    # a timestamp of now: a repeated start (same charger, connector, tag, time) is the same
    # transaction, and a stage's transaction must be a new one
    start = {
        "connectorId": 1,
        "idTag": "BENCH",
        "meterStart": 0,
        "timestamp": _iso(datetime.now(UTC)),
    }
    started = await client.call("StartTransaction", start)
    return int(started["transactionId"])


Setup = Callable[[Client], Awaitable[Any]]  # per connection: its state (a meter, a transaction)
Finish = Callable[[Client, Any], Awaitable[None]]  # ends what the connection left open


def plan_for(kind: str) -> tuple[Work, Setup, Finish]:
    """(unit of work, setup, finish) of a kind, 1.6 or 2.0.1 (named "2.0.1 ...")."""
    if kind.startswith(load201.PREFIX):
        work201, in_transaction = load201.work_for(kind)

        async def setup201(client: Client) -> load201.Transaction:
            return await load201.setup(client, in_transaction)

        async def end201(client: Client, transaction: load201.Transaction) -> None:
            if transaction.seq_no:  # started: a station ends its transaction before it goes
                await transaction.end(client)

        return work201, setup201, end201  # type: ignore[return-value]
    work, setup = work_for(kind)

    async def stop(client: Client, meter: Meter) -> None:
        if meter.transaction_id is not None:  # a charger ends its session before it goes
            await client.call("StopTransaction", {
                "transactionId": meter.transaction_id, "meterStop": meter.register,
                "timestamp": _iso(datetime.now(UTC)),
            })  # fmt: skip

    return work, setup, stop


def subprotocol_of(kind: str) -> str:
    return load201.SUBPROTOCOL if kind.startswith(load201.PREFIX) else "ocpp1.6"


def work_for(kind: str) -> tuple[Work, Callable[[Client], Awaitable[Meter]]]:
    """(unit of work, per-connection setup returning the connection's meter) for a kind.
    MeterValues "tx" kinds send all their values to one transaction started at setup, so by
    the end of a stage it is a long one."""
    in_transaction = "(tx," in kind
    clock = "clock" in kind

    async def setup(client: Client) -> Meter:
        await client.call("BootNotification", BOOT)
        transaction = await _start(client) if in_transaction else None
        return Meter(transaction, clock)

    async def heartbeat(client: Client, meter: Meter) -> int:
        await client.call("Heartbeat", {})
        return 1

    async def status(client: Client, meter: Meter) -> int:
        await client.call("StatusNotification", STATUS)
        return 1

    async def values(client: Client, meter: Meter) -> int:
        await client.call("MeterValues", meter.payload())
        return 1

    async def session(client: Client, meter: Meter) -> int:
        await client.call("Authorize", {"idTag": "BENCH"})
        tid = await _start(client)
        sampled = Meter(tid, clock=False)
        for _ in range(3):
            await client.call("MeterValues", sampled.payload())
        stop = {
            "transactionId": tid,
            "meterStop": sampled.register,
            "timestamp": _iso(datetime.now(UTC)),
        }
        await client.call("StopTransaction", stop)
        return SESSION

    if kind.startswith("MeterValues"):
        return values, setup
    table = {"Heartbeat": heartbeat, "StatusNotification": status, "Session mix": session}
    return table[kind], setup


def identity(prefix: str, n: int) -> str:
    """The charger of connection `n` (0-based): PREFIX-001, ... (SITE: the filled site's)."""
    return f"{prefix}-{n + 1:03d}"


async def run_load(
    url: str, kind: str, connections: int, seconds: float, rate: float | None = None,
    prefix: str = "BENCH",
) -> Result:  # fmt: skip
    """Closed loop (as fast as answers come) or, with `rate`, open loop at that many units
    per second in all; latencies are per unit of work."""
    return (await run_mixed(url, (kind,), connections, seconds, rate, prefix))[kind]


async def run_mixed(
    url: str, kinds: tuple[str, ...], connections: int, seconds: float,
    rate: float | None = None, prefix: str = "BENCH",
) -> dict[str, Result]:  # fmt: skip
    """`run_load` with connection i doing kinds[i % len(kinds)]: one Result per kind."""
    results = {kind: Result() for kind in kinds}
    plan = [(kinds[i % len(kinds)], *plan_for(kinds[i % len(kinds)])) for i in range(connections)]
    clients = [
        await Client.open(url, identity(prefix, i), subprotocol=subprotocol_of(kind))
        for i, (kind, *_) in enumerate(plan)
    ]
    meters = [await setup(client) for client, (_, _, setup, _) in zip(clients, plan, strict=True)]
    stop_at = time.perf_counter() + seconds
    interval = connections / rate if rate else 0.0

    async def drive(client: Client, kind: str, work: Work, meter: Any, offset: float) -> None:
        result = results[kind]
        next_at = time.perf_counter() + offset
        while True:
            if interval:
                if next_at >= stop_at:
                    return
                delay = next_at - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                next_at += interval
            if time.perf_counter() >= stop_at:
                return
            began = time.perf_counter()
            try:
                sent = await work(client, meter)  # not `+= await`: that would lose updates
            except Exception:  # noqa: BLE001 - counted and reported, the load goes on
                result.errors += 1
                return
            done = time.perf_counter()
            result.completed += sent
            result.latencies.append(done - began)
            result.moments.append(done)

    began = time.perf_counter()
    for result in results.values():
        result.began = began
    drives = zip(clients, plan, meters, strict=True)
    await asyncio.gather(
        *(drive(client, kind, work, meter, i * interval / connections)
          for i, (client, (kind, work, _, _), meter) in enumerate(drives))
    )  # fmt: skip
    elapsed = time.perf_counter() - began
    for result in results.values():
        result.seconds = elapsed
    for client, (kind, _, _, finish), meter in zip(clients, plan, meters, strict=True):
        try:
            await finish(client, meter)
        except Exception:  # noqa: BLE001 - counted and reported
            results[kind].errors += 1
        await client.close()
    return results


async def steady_heartbeats(clients: list[Client], interval: float, seconds: float) -> Result:
    """Each client sends a Heartbeat every `interval` seconds, spread evenly, for `seconds`:
    the latency of a CSMS holding many chargers at a realistic pace."""
    result = Result()
    stop_at = time.perf_counter() + seconds

    async def beat(client: Client, offset: float) -> None:
        next_at = time.perf_counter() + offset
        while next_at < stop_at:  # no sleeping past the end: that would dilute the rate
            delay = next_at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            next_at += interval
            began = time.perf_counter()
            try:
                await client.call("Heartbeat", {})
            except Exception:  # noqa: BLE001 - counted and reported
                result.errors += 1
                return
            result.completed += 1
            result.latencies.append(time.perf_counter() - began)

    began = time.perf_counter()
    spread = interval / max(1, len(clients))
    await asyncio.gather(*(beat(c, i * spread) for i, c in enumerate(clients)))
    result.seconds = time.perf_counter() - began
    return result


async def boot_storm(
    url: str, count: int, prefix: str, timeout: float = 120
) -> tuple[float, int, list[Client]]:
    """`count` charge points connect and boot at once: (seconds until all answered, failures,
    the connected clients, left open for the caller to measure and close)."""
    began = time.perf_counter()
    failures = 0
    clients: list[Client] = []

    async def one(i: int) -> None:
        nonlocal failures
        try:
            client = await Client.open(url, f"{prefix}-{i}", timeout)
            clients.append(client)
            answer = await client.call("BootNotification", BOOT)
        except Exception:  # noqa: BLE001 - refusals, resets, timeouts: all count as failures
            failures += 1
            return
        if answer.get("status") != "Accepted":
            failures += 1

    await asyncio.gather(*(one(i) for i in range(count)))
    return time.perf_counter() - began, failures, clients
