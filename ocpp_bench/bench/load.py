"""A lean OCPP load generator: raw WebSockets and orjson, one asyncio task per connection.

The same generator drives every CSMS of a run, so only the servers differ.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect

NOW = "2026-11-24T10:00:00Z"
BOOT = {"chargePointVendor": "bench", "chargePointModel": "load"}
STATUS = {"connectorId": 1, "status": "Charging", "errorCode": "NoError"}


def meter_values(transaction_id: int, n: int = 10) -> dict[str, Any]:
    samples = [
        {"value": str(1000 + i), "measurand": "Energy.Active.Import.Register", "unit": "Wh"}
        for i in range(n)
    ]
    return {
        "connectorId": 1,
        "transactionId": transaction_id,
        "meterValue": [{"timestamp": NOW, "sampledValue": samples}],
    }


class Client:
    """One charge point's socket: CALL, wait for the answer, nothing else."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.ids = itertools.count(1)

    @classmethod
    async def open(cls, url: str, identity: str, timeout: float = 60) -> Client:
        ws = await connect(
            f"{url}/{identity}",
            subprotocols=["ocpp1.6"],  # type: ignore[list-item]
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

    @property
    def rate(self) -> float:
        return self.completed / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


Work = Callable[[Client, int], Awaitable[int]]  # does one unit of work, returns messages sent


def work_for(kind: str) -> tuple[Work, Callable[[Client], Awaitable[int]]]:
    """(unit of work, per-connection setup returning a transaction id) for a message kind."""

    async def setup(client: Client) -> int:
        await client.call("BootNotification", BOOT)
        started = await client.call(
            "StartTransaction",
            {"connectorId": 1, "idTag": "BENCH", "meterStart": 0, "timestamp": NOW},
        )
        return int(started["transactionId"])

    async def heartbeat(client: Client, tx: int) -> int:
        await client.call("Heartbeat", {})
        return 1

    async def status(client: Client, tx: int) -> int:
        await client.call("StatusNotification", STATUS)
        return 1

    async def meter(client: Client, tx: int) -> int:
        await client.call("MeterValues", meter_values(tx))
        return 1

    async def session(client: Client, tx: int) -> int:
        await client.call("Authorize", {"idTag": "BENCH"})
        stamp = datetime.now(UTC).isoformat()  # a repeated start would get the same id back
        start = {"connectorId": 1, "idTag": "BENCH", "meterStart": 0, "timestamp": stamp}
        started = await client.call("StartTransaction", start)
        tid = int(started["transactionId"])
        for _ in range(3):
            await client.call("MeterValues", meter_values(tid))
        stop = {"transactionId": tid, "meterStop": 100, "timestamp": NOW}
        await client.call("StopTransaction", stop)
        return 6

    table = {"Heartbeat": heartbeat, "StatusNotification": status, "MeterValues": meter,
             "Session mix": session}  # fmt: skip
    return table[kind], setup


async def run_load(
    url: str, kind: str, connections: int, seconds: float, rate: float | None = None,
    prefix: str = "BENCH",
) -> Result:  # fmt: skip
    """Closed loop (as fast as answers come) or, with `rate`, open loop at that many units
    per second in all; latencies are per unit of work."""
    work, setup = work_for(kind)
    clients = [await Client.open(url, f"{prefix}-{kind[:4]}-{i}") for i in range(connections)]
    transactions = [await setup(c) for c in clients]
    result = Result()
    stop_at = time.perf_counter() + seconds
    interval = connections / rate if rate else 0.0

    async def drive(client: Client, tx: int, offset: float) -> None:
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
                sent = await work(client, tx)  # not `+= await`: that would lose updates
            except Exception:  # noqa: BLE001 - counted and reported, the load goes on
                result.errors += 1
                return
            result.completed += sent
            result.latencies.append(time.perf_counter() - began)

    began = time.perf_counter()
    await asyncio.gather(
        *(drive(c, tx, i * interval / connections) for i, (c, tx) in
          enumerate(zip(clients, transactions, strict=True)))
    )  # fmt: skip
    result.seconds = time.perf_counter() - began
    for client in clients:
        await client.close()
    return result


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
