"""Capacity benchmark of the simulator: how many idle charge points (boot + heartbeats) one
process holds, and the memory each one costs (RSS delta / count).

    python scripts/bench_simulator.py --count 10000 --rate 500 --hold 30 --gc-freeze

The CSMS side runs in a separate process (a bare websockets + ocpp_bench.rpc server answering
BootNotification, Heartbeat and StatusNotification). Writes reports/simulator-capacity.md.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from websockets.asyncio.server import ServerConnection, serve

from ocpp_bench.rpc import V16, RpcSession

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from simulator.fleet import Fleet, FleetOptions, FleetStats  # noqa: E402


def raise_nofile() -> int:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


# -- the CSMS side (child process) -----------------------------------------------------------


async def serve_csms(heartbeat: int, gc_freeze: bool) -> None:
    raise_nofile()
    now = lambda: datetime.now(UTC).isoformat()  # noqa: E731

    async def boot(_: dict[str, Any]) -> dict[str, Any]:
        return {"status": "Accepted", "currentTime": now(), "interval": heartbeat}

    async def heartbeat_(_: dict[str, Any]) -> dict[str, Any]:
        return {"currentTime": now()}

    async def status(_: dict[str, Any]) -> dict[str, Any]:
        return {}

    handlers = {"BootNotification": boot, "Heartbeat": heartbeat_, "StatusNotification": status}

    async def handler(connection: ServerConnection) -> None:
        await RpcSession(connection, V16, handlers).run()

    async with serve(
        handler,
        "127.0.0.1",
        0,
        subprotocols=["ocpp1.6"],  # type: ignore[list-item]
        compression=None,
        ping_interval=None,
        max_queue=2,
        write_limit=2048,
        backlog=4096,
    ) as server:
        port = server.sockets[0].getsockname()[1]
        print(port, flush=True)
        freezer = asyncio.create_task(freeze_every(5.0)) if gc_freeze else None
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        if freezer is not None:
            freezer.cancel()


async def freeze_every(seconds: float) -> None:
    """Keep the long-lived connections out of the collector's full passes."""
    while True:
        await asyncio.sleep(seconds)
        gc.freeze()


# -- the simulator side ----------------------------------------------------------------------


async def bench(args: argparse.Namespace, url: str) -> list[str]:
    """Start the charge points in stages; after each stage, once all of them are booted and the
    process is quiet, read the RSS: (RSS - baseline) / booted is the memory per charge point."""
    limit = raise_nofile()
    marks = sorted({c for c in args.checkpoints if c < args.count} | {args.count})
    fleets: list[Fleet] = []
    runners: list[asyncio.Task[object]] = []
    gc.collect()
    base = rss_kib()
    cpu0 = time.process_time()
    rows: list[tuple[int, float, float, float]] = []
    start = time.monotonic()
    done = 0
    try:
        for mark in marks:
            options = FleetOptions(
                url=url, count=mark - done, rate=args.rate, profile="idle", first=done + 1
            )
            fleet = Fleet(options)
            fleets.append(fleet)
            runners.append(asyncio.create_task(fleet.run()))
            while sum(f.accepted for f in fleets) < mark:
                if time.monotonic() - start > args.timeout:
                    booted = sum(f.accepted for f in fleets)
                    raise SystemExit(f"only {booted} of {mark} booted in {args.timeout} s")
                for runner in runners:
                    if runner.done():
                        runner.result()
                await asyncio.sleep(0.2)
            done = mark
            elapsed = time.monotonic() - start
            await asyncio.sleep(1.0)  # let the last answers settle
            gc.collect()
            if args.gc_freeze:
                gc.freeze()  # long-lived charge points out of the collector's way
            rss = rss_kib()
            rows.append((mark, elapsed, rss / 1024, (rss - base) / mark))
            print(
                f"{mark:>6} booted after {elapsed:6.1f} s  RSS {rss / 1024:7.1f} MiB  "
                f"{(rss - base) / mark:5.1f} KiB/CP",
                flush=True,
            )
        ramp_cpu = time.process_time() - cpu0
        beats0 = sum(f.stats.messages["Heartbeat"] for f in fleets)
        for fleet in fleets:  # heartbeat latency of the steady state only
            fleet.stats.latencies.pop("Heartbeat", None)
        cpu1 = time.process_time()
        await asyncio.sleep(args.hold)
        hold_cpu = time.process_time() - cpu1
        beats = sum(f.stats.messages["Heartbeat"] for f in fleets) - beats0
        connected = sum(f.connected for f in fleets)
        gc.collect()
        final_rss = rss_kib()
    finally:
        for fleet in fleets:
            fleet.stop()
        for runner in runners:
            await runner
    stats = FleetStats()
    for fleet in fleets:
        stats.messages.update(fleet.stats.messages)
        stats.errors.update(fleet.stats.errors)
        for action, values in fleet.stats.latencies.items():
            stats.latencies.setdefault(action, []).extend(values)
    p = stats.percentiles("Heartbeat")
    boot = stats.percentiles("BootNotification")
    errors = dict(stats.errors) or "none"
    lines = [
        "# Simulator capacity",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `scripts/bench_simulator.py` on "
        f"{os.cpu_count()} cores, Python {sys.version.split()[0]}, RLIMIT_NOFILE {limit}:",
        f"`python scripts/bench_simulator.py {' '.join(sys.argv[1:])}`.",
        f"Idle charge points (BootNotification, StatusNotification x2, then Heartbeat every "
        f"{args.heartbeat} s) started in stages at {args.rate:g}/s against a bare "
        "`ocpp_bench.rpc` CSMS in a separate process. After each stage, once every charge point "
        "is booted, memory is the simulator process's RSS delta over its baseline "
        f"({base / 1024:.1f} MiB) divided by the number of charge points.",
        "",
        "| charge points booted | time since start (s) | RSS (MiB) | KiB per charge point |",
        "|---:|---:|---:|---:|",
    ]
    lines += [f"| {n} | {t:.1f} | {rss:.1f} | {per:.1f} |" for n, t, rss, per in rows]
    lines += [
        "",
        f"Hold phase: {args.hold:g} s with all {args.count} booted: {connected} still connected, "
        f"{beats} heartbeats answered "
        f"(expected about {args.count * args.hold / args.heartbeat:.0f}), "
        f"RSS {final_rss / 1024:.1f} MiB, simulator CPU {100 * hold_cpu / args.hold:.0f} % of one "
        f"core (ramp-up used {ramp_cpu:.1f} CPU s).",
        f"Heartbeat latency in the hold phase, ms: p50 {p.get('p50', 0):.1f}, "
        f"p99 {p.get('p99', 0):.1f}; BootNotification during the ramp-up: "
        f"p50 {boot.get('p50', 0):.1f}, p99 {boot.get('p99', 0):.1f}. "
        f"Errors: {errors}.",
        "",
        "Per charge point: one `run()` task, the RpcSession's receive and worker tasks, no "
        "threads; websockets without compression, `max_queue=2`, `write_limit=2048`, no pings "
        "(WebSocketPingInterval 0), transcript off (`transcript_size=0`).",
        "",
        f"gc.freeze() after each stage (and every 5 s in the CSMS process): {args.gc_freeze}. "
        "Charge points that boot in the same instant send their heartbeats in the same instant "
        "too, so the heartbeat p99 mostly measures those bursts queueing in both processes.",
    ]
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--heartbeat", type=int, default=10)
    parser.add_argument("--hold", type=float, default=30.0)
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--checkpoints", type=int, nargs="*", default=[1000, 2500, 5000])
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "simulator-capacity.md")
    parser.add_argument("--gc-freeze", action="store_true", help="gc.freeze() after each stage")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve_csms(args.heartbeat, args.gc_freeze))
        return 0
    raise_nofile()
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--heartbeat", str(args.heartbeat)]
        + (["--gc-freeze"] if args.gc_freeze else []),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stdin is not None
    try:
        port = int(child.stdout.readline())
        lines = asyncio.run(bench(args, f"ws://127.0.0.1:{port}/ocpp"))
    finally:
        child.stdin.close()
        child.wait(30)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
