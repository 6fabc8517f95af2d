"""Simulator capacity: how many idle charge points (boot, then heartbeats) one process holds,
and the memory each one costs (RSS delta over the baseline / count).

    python -m ocpp_bench.bench.simulator --count 10000 --out reports/simulator-capacity.md

It runs in a process of its own, so the RSS is the simulator's. The CSMS it talks to is a
bare `ocppj` server in another process (this module with `--serve`), answering
BootNotification, Heartbeat and StatusNotification, so the CSMS does not limit the count.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from websockets.asyncio.server import ServerConnection, serve

from csms.process import raise_nofile, rss_kib
from ocppj import DIALECTS, RpcSession, timestamps
from simulator.fleet import Fleet, FleetOptions, FleetStats


async def serve_bare(heartbeat: int) -> None:
    """The CSMS side: print the port, answer until stdin closes."""
    raise_nofile()

    async def boot(_: dict[str, Any]) -> dict[str, Any]:
        return {"status": "Accepted", "currentTime": timestamps.now(), "interval": heartbeat}

    async def beat(_: dict[str, Any]) -> dict[str, Any]:
        return {"currentTime": timestamps.now()}

    async def status(_: dict[str, Any]) -> dict[str, Any]:
        return {}

    handlers = {"BootNotification": boot, "Heartbeat": beat, "StatusNotification": status}

    async def handler(connection: ServerConnection) -> None:  # the same answers in 1.6, 2.0.1
        await RpcSession(connection, DIALECTS[connection.subprotocol or ""], handlers).run()

    async with serve(
        handler,
        "127.0.0.1",
        0,
        subprotocols=list(DIALECTS),  # type: ignore[arg-type]
        compression=None,
        ping_interval=None,
        max_queue=2,
        write_limit=2048,
        backlog=4096,
    ) as server:
        print(server.sockets[0].getsockname()[1], flush=True)
        freezer = asyncio.create_task(_freeze_every(5.0))
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        freezer.cancel()


async def _freeze_every(seconds: float) -> None:
    """Keep the long-lived connections out of the collector's full passes."""
    while True:
        await asyncio.sleep(seconds)
        gc.freeze()


@dataclass
class Capacity:
    count: int
    rate: float
    heartbeat: int
    hold: float
    ocpp_version: str = "1.6"
    baseline_mib: float = 0.0
    stages: list[dict[str, float]] = field(default_factory=list)  # booted, seconds, rss, kib
    connected: int = 0
    heartbeats: int = 0
    hold_cpu_percent: float = 0.0
    heartbeat_ms: dict[str, float] = field(default_factory=dict)
    boot_ms: dict[str, float] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)

    @property
    def kib_per_charge_point(self) -> float:
        return self.stages[-1]["kib_per_charge_point"] if self.stages else 0.0


async def measure(
    url: str, count: int, rate: float, hold: float, heartbeat: int, checkpoints: list[int],
    timeout: float = 300.0, ocpp_version: str = "1.6",
) -> Capacity:  # fmt: skip
    """Start the charge points in stages; after each, once all are booted and the process is
    quiet, read the RSS. Then hold them all for `hold` seconds, counting heartbeats."""
    raise_nofile()
    marks = sorted({c for c in checkpoints if c < count} | {count})
    result = Capacity(count, rate, heartbeat, hold, ocpp_version)
    fleets: list[Fleet] = []
    runners: list[asyncio.Task[object]] = []
    gc.collect()
    base = rss_kib()
    result.baseline_mib = round(base / 1024, 1)
    start = time.monotonic()
    done = 0
    try:
        for mark in marks:
            options = FleetOptions(
                url=url, count=mark - done, rate=rate, profile="idle", first=done + 1,
                ocpp_version=ocpp_version,
            )  # fmt: skip
            fleets.append(fleet := Fleet(options))
            runners.append(asyncio.create_task(fleet.run()))
            while sum(f.accepted for f in fleets) < mark:
                if time.monotonic() - start > timeout:
                    booted = sum(f.accepted for f in fleets)
                    raise RuntimeError(f"only {booted} of {mark} booted in {timeout} s")
                for runner in runners:
                    if runner.done():
                        runner.result()
                await asyncio.sleep(0.2)
            done = mark
            elapsed = time.monotonic() - start
            await asyncio.sleep(1.0)  # let the last answers settle
            gc.collect()
            gc.freeze()  # long-lived charge points out of the collector's way
            rss = rss_kib()
            result.stages.append(
                {
                    "booted": mark,
                    "seconds": round(elapsed, 1),
                    "rss_mib": round(rss / 1024, 1),
                    "kib_per_charge_point": round((rss - base) / mark, 1),
                }
            )
        beats_before = sum(f.stats.messages["Heartbeat"] for f in fleets)
        for fleet in fleets:  # heartbeat latency of the steady state only
            fleet.stats.latencies.pop("Heartbeat", None)
        cpu = time.process_time()
        await asyncio.sleep(hold)
        result.hold_cpu_percent = round(100 * (time.process_time() - cpu) / hold)
        result.heartbeats = sum(f.stats.messages["Heartbeat"] for f in fleets) - beats_before
        result.connected = sum(f.connected for f in fleets)
    finally:
        for fleet in fleets:
            fleet.stop()
        for runner in runners:
            await runner
    stats = FleetStats()
    for fleet in fleets:
        stats.errors.update(fleet.stats.errors)
        for action, values in fleet.stats.latencies.items():
            stats.latencies.setdefault(action, []).extend(values)
    result.heartbeat_ms = {k: round(v, 1) for k, v in stats.percentiles("Heartbeat").items()}
    result.boot_ms = {k: round(v, 1) for k, v in stats.percentiles("BootNotification").items()}
    result.errors = dict(stats.errors)
    return result


def markdown(result: Capacity, command: str) -> str:
    lines = [
        "# Simulator capacity",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: `{command}`.",
        f"Idle OCPP {result.ocpp_version} charge points (BootNotification, StatusNotification"
        " per connector, then Heartbeat every "
        f"{result.heartbeat} s) started in stages at {result.rate:g}/s against a bare "
        "`ocppj` CSMS in a separate process. After each stage, once every charge point "
        "is booted, memory is the simulator process's RSS delta over its baseline "
        f"({result.baseline_mib} MiB) divided by the number of charge points.",
        "",
        "| charge points booted | time since start (s) | RSS (MiB) | KiB per charge point |",
        "|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {s['booted']} | {s['seconds']} | {s['rss_mib']} | {s['kib_per_charge_point']} |"
        for s in result.stages
    ]
    expected = result.count * result.hold / result.heartbeat
    lines += [
        "",
        f"Hold: {result.hold:g} s with all {result.count} booted: {result.connected} still "
        f"connected, {result.heartbeats} heartbeats answered (expected about {expected:.0f}), "
        f"simulator CPU {result.hold_cpu_percent:g} % of one core. Heartbeat latency, ms: "
        f"p50 {result.heartbeat_ms.get('p50')}, p99 {result.heartbeat_ms.get('p99')}; "
        f"BootNotification during the ramp-up: p50 {result.boot_ms.get('p50')}, "
        f"p99 {result.boot_ms.get('p99')}. Errors: {result.errors or 'none'}.",
        "",
        "Per charge point: one `run()` task, the RpcSession's receive and worker tasks, no "
        "threads; websockets without compression, `max_queue=2`, `write_limit=2048`, no pings, "
        "transcript off. gc.freeze() after each stage. Charge points that boot in the same "
        "instant send their heartbeats in the same instant too, so the heartbeat p99 mostly "
        "measures those bursts queueing in both processes.",
    ]
    return "\n".join(lines) + "\n"


def run_in_child(args: list[str]) -> Capacity:
    """Measure in a fresh process (the RSS must be the simulator's alone)."""
    with subprocess.Popen(
        [sys.executable, "-m", "ocpp_bench.bench.simulator", *args, "--json", "-"],
        stdout=subprocess.PIPE,
        text=True,
    ) as child:
        out, _ = child.communicate()
    if child.returncode != 0:
        raise RuntimeError(f"the simulator capacity run failed ({child.returncode})")
    return Capacity(**json.loads(out.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--heartbeat", type=int, default=10)
    parser.add_argument("--hold", type=float, default=30.0)
    parser.add_argument("--checkpoints", type=int, nargs="*", default=[1000, 2500, 5000])
    parser.add_argument("--ocpp", default="1.6", choices=["1.6", "2.0.1"])
    parser.add_argument("--out", type=Path, help="write the report (markdown) here")
    parser.add_argument("--json", help="write the figures as JSON here ('-': stdout)")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        asyncio.run(serve_bare(args.heartbeat))
        return 0
    raise_nofile()
    with subprocess.Popen(
        [sys.executable, "-m", "ocpp_bench.bench.simulator", "--serve",
         "--heartbeat", str(args.heartbeat)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    ) as child:  # fmt: skip
        assert child.stdout is not None and child.stdin is not None
        try:
            port = int(child.stdout.readline())
            result = asyncio.run(
                measure(
                    f"ws://127.0.0.1:{port}/ocpp",
                    args.count, args.rate, args.hold, args.heartbeat, args.checkpoints,
                    ocpp_version=args.ocpp,
                )
            )  # fmt: skip
        finally:
            child.stdin.close()
    if args.out:
        command = "python -m ocpp_bench.bench.simulator " + " ".join(argv or sys.argv[1:])
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(markdown(result, command))
    figures = json.dumps(asdict(result))
    if args.json == "-":
        print(figures)
    elif args.json:
        Path(args.json).write_text(figures)
    else:
        print(markdown(result, "python -m ocpp_bench.bench.simulator"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
