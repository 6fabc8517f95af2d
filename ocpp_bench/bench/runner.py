"""The benchmark run: servers as processes, stages, and the report (reports/bench.md, .json).

Our CSMS runs every throughput stage twice, on an empty database and on one filled with a
site's history (`csms.store.fill`), beside the reference in the same run.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from csms.process import CsmsProcess, raise_nofile
from csms.store.fill import Site
from csms.store.location import PostgresUrl

from . import api, simulator
from .databases import Databases
from .load import KINDS, SESSION, Result, boot_storm, run_load, run_mixed, steady_heartbeats
from .report import SUSTAINED, markdown, targets

SITE = "SITE"  # the stages' chargers are the filled site's: SITE-001, ...


@dataclass
class Plan:
    connections: int  # per throughput stage
    seconds: float  # per throughput stage
    rounds: int  # closed-loop rounds per kind and server: the maximum is their median
    paced: tuple[int, ...]  # paced stages, in % of the closed-loop maximum
    paced_full: tuple[int, ...]  # the same on the full database
    site: Site  # the history of the full database
    sustained_seconds: float
    sustain_reference: bool  # the sustained stage on the reference too
    storm_full: bool  # the largest boot storm (and steady stage) on the full database too
    api_requests: int  # per route
    storms: tuple[int, ...]  # boot storm sizes; the largest then holds a steady stage
    steady_interval: float  # seconds between one charger's heartbeats in the steady stage
    steady_seconds: float
    simulators: int  # charge points in the simulator capacity stage
    simulator_heartbeat: int
    simulator_hold: float

    @classmethod
    def for_mode(cls, quick: bool) -> Plan:
        if quick:
            site = Site.year().scaled(0.05)
            return cls(20, 1.5, 1, (90,), (), site, 8.0, False, False, 100, (500, 1000), 3.0, 6.0,
                       1000, 3, 6.0)  # fmt: skip
        site = Site.year()
        return cls(50, 10.0, 3, (50, 90), (90,), site, 120.0, True, True, 500,
                   (1000, 5000, 10000), 10.0, 30.0, 10000, 10, 30.0)  # fmt: skip


class Reference:
    """The reference CSMS in its own process; the URL comes from its first output line."""

    def __init__(self) -> None:
        self.command = [sys.executable, "-m", "ocpp_bench.bench.reference"]
        self.process: subprocess.Popen[str] | None = None
        self.url = ""

    def __enter__(self) -> Reference:
        self.process = subprocess.Popen(self.command, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        found = re.search(r"(ws://[^\s/]+(?:/ocpp)?)", line)
        if not found:
            self.__exit__()
            raise RuntimeError(f"the reference CSMS did not start: {line!r}")
        self.url = found.group(1)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(30)
            if self.process.stdout is not None:
                self.process.stdout.close()


def ours(db: Path | PostgresUrl) -> CsmsProcess:
    extra = ["--ping-interval", "0", "--api-token", api.TOKEN]
    location = db.url if isinstance(db, PostgresUrl) else db
    return CsmsProcess(location, heartbeat_interval=300, extra=extra)


def latency(result: Result) -> dict[str, Any]:
    """Rate, p50/p95/p99 latency (ms) and errors of a paced stage."""
    return {
        "per_s": round(result.rate),
        "p50_ms": round(result.percentile(50), 2),
        "p95_ms": round(result.percentile(95), 2),
        "p99_ms": round(result.percentile(99), 2),
        "errors": result.errors,
    }


async def throughput(
    servers: dict[str, tuple[CsmsProcess | Reference, tuple[int, ...]]], plan: Plan
) -> dict[str, dict[str, Any]]:
    """Each kind's closed-loop maximum (the median of `plan.rounds` rounds), then paced at
    shares (%) of it, on every server (name -> (server, shares)) one after the other, kind by
    kind: a change of the machine's load (it is shared) falls on all of them, not on whichever
    ran last. The order turns from one kind to the next."""
    rows: dict[str, dict[str, Any]] = {name: {} for name in servers}
    names = list(servers)
    for turn, kind in enumerate(KINDS):
        order = names[turn % len(names) :] + names[: turn % len(names)]
        peaks: dict[str, list[Result]] = {name: [] for name in names}
        for _ in range(plan.rounds):  # rounds interleaved: a busy spell falls on all of them
            for name in order:
                server, _ = servers[name]
                peaks[name].append(
                    await run_load(server.url, kind, plan.connections, plan.seconds, prefix=SITE)
                )
        for name in order:
            rates = [peak.rate for peak in peaks[name]]
            rows[name][kind] = {
                "max_per_s": round(statistics.median(rates)),
                "rounds_per_s": [round(rate) for rate in rates],
                "errors": sum(peak.errors for peak in peaks[name]),
            }
        for name in order:
            server, shares = servers[name]
            for share in shares:
                units = rows[name][kind]["max_per_s"] * share / 100
                units /= SESSION if kind.endswith("Session mix") else 1
                result = await run_load(
                    server.url, kind, plan.connections, plan.seconds, rate=units, prefix=SITE
                )
                rows[name][kind][f"at_{share}"] = latency(result)
    return rows


async def sustained(server: CsmsProcess | Reference, plan: Plan) -> dict[str, Any]:
    """MeterValues as fast as they are answered for `sustained_seconds`: the rate of the first
    and of the last 10 % of the stage, for each half of the connections and in all."""
    results = await run_mixed(server.url, SUSTAINED, plan.connections, plan.sustained_seconds,
                              prefix=SITE)  # fmt: skip
    rows: dict[str, Any] = {kind: _ends(result) for kind, result in results.items()}
    both = Result(seconds=next(iter(results.values())).seconds)
    both.began = next(iter(results.values())).began
    for result in results.values():
        both.completed += result.completed
        both.errors += result.errors
        both.moments += result.moments
    rows["both"] = _ends(both)
    return rows


def _ends(result: Result) -> dict[str, Any]:
    first, last = result.rate_in(0.0, 0.1), result.rate_in(0.9, 1.0)
    return {
        "per_s": round(result.rate),
        "first_10_per_s": round(first),
        "last_10_per_s": round(last),
        "last_over_first": round(last / first, 3) if first else None,
        "errors": result.errors,
    }


def started(server: CsmsProcess, timeout: float = 30.0) -> tuple[CsmsProcess, float]:
    """Start our CSMS; (it, seconds it took to listen)."""
    began = time.perf_counter()
    server.start(timeout)
    return server, round(time.perf_counter() - began, 2)


def time_wait() -> int:
    """Sockets of this machine in TIME_WAIT (state 06 of /proc/net/tcp)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as lines:
            count += sum(1 for line in lines if line.split()[3:4] == ["06"])
    return count


async def ports_settle(limit: int = 2000, wait: int = 90) -> None:
    """Wait (at most `wait` s) until fewer than `limit` sockets are in TIME_WAIT: every
    connection a stage closed keeps its local port for 60 s, and a storm of 10,000 after
    others runs out of loopback ports (its connections then fail, which is not the CSMS's
    doing)."""
    for _ in range(wait):  # the kernel's counter: polled, once a second
        if time_wait() < limit:
            return
        await asyncio.sleep(1.0)


async def storm(
    server: CsmsProcess, count: int, plan: Plan, *, steady: bool
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A boot storm of `count` chargers, then (`steady`) they stay connected for the steady
    stage: (the storm's figures, the steady stage's)."""
    await ports_settle()
    before = server.rss_kib()
    seconds, failures, clients = await boot_storm(server.url, count, f"STORM{count}")
    after = server.rss_kib()
    held: dict[str, Any] = {}
    if steady:
        gc.collect()  # the generator's own long GC pauses must not count as latency
        gc.freeze()
        beats = await steady_heartbeats(clients, plan.steady_interval, plan.steady_seconds)
        held = {"chargers": len(clients), "interval_s": plan.steady_interval, **latency(beats)}
    for client in clients:
        await client.close()
    gc.unfreeze()
    figures = {
        "chargers": count,
        "seconds_to_all_accepted": round(seconds, 2),
        "failed": failures,
        "csms_kib_per_charger": round((after - before) / max(1, count - failures), 1),
    }
    return figures, held


async def storms(plan: Plan, databases: Databases) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Boot storms, each on a new database; the largest one's chargers then hold the steady
    stage."""
    results: list[dict[str, Any]] = []
    steady: dict[str, Any] = {}
    for count in plan.storms:
        with ours(databases.new(f"storm-{count}")) as server:
            figures, held = await storm(server, count, plan, steady=count == max(plan.storms))
        results.append(figures)
        steady = held or steady
    return results, steady


def simulator_capacity(plan: Plan, version: str = "1.6") -> dict[str, Any]:
    figures = simulator.run_in_child(
        [
            "--ocpp", version,
            "--count", str(plan.simulators),
            "--heartbeat", str(plan.simulator_heartbeat),
            "--hold", str(plan.simulator_hold),
            "--checkpoints", *(str(n) for n in (1000, 5000) if n < plan.simulators),
        ]
    )  # fmt: skip
    return {
        "charge_points": figures.count,
        "connected_after_hold": figures.connected,
        "kib_per_charge_point": figures.kib_per_charge_point,
        "heartbeats_in_hold": figures.heartbeats,
        "heartbeat_ms": figures.heartbeat_ms,
        "errors": figures.errors,
    }


async def run(plan: Plan, server: PostgresUrl | None = None) -> dict[str, Any]:
    raise_nofile()
    limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    with tempfile.TemporaryDirectory(prefix="ocpp-bench-") as tmp:
        databases = Databases(Path(tmp), server)
        try:
            return await _run(plan, databases, limit)
        finally:
            databases.drop()


async def _run(plan: Plan, databases: Databases, limit: int) -> dict[str, Any]:
    engine = databases.engine
    empty_db = databases.new("empty")
    full_db, filled = await asyncio.to_thread(databases.filled, "full", plan.site)
    empty, empty_start = started(ours(empty_db))
    full_storm: tuple[dict[str, Any], dict[str, Any]] = ({}, {})
    try:
        # a start on a large database reads all of it first (csms serve's quick_check)
        full, full_start = started(ours(full_db), timeout=1800)
        try:
            with Reference() as reference:
                servers: dict[str, tuple[CsmsProcess | Reference, tuple[int, ...]]] = {
                    "ours": (empty, plan.paced),
                    "ours_full": (full, plan.paced_full),
                    "reference": (reference, plan.paced),
                }
                rows = await throughput(servers, plan)
                api_figures = {
                    "empty": await api.latencies(empty.api, plan.api_requests),
                    "full": await api.latencies(full.api, plan.api_requests),
                }
                ours_sustained = await sustained(empty, plan)
                reference_sustained = (
                    await sustained(reference, plan) if plan.sustain_reference else {}
                )
            if plan.storm_full:  # on the full database's running CSMS
                full_storm = await storm(full, max(plan.storms), plan, steady=True)
        finally:
            full.stop()
    finally:
        empty.stop()
    rows_after = {"empty": databases.stored(empty_db), "full": databases.stored(full_db)}
    storm_rows, steady = await storms(plan, databases)
    return {
        "measured": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {len(__import__('os').sched_getaffinity(0))} cores, "
        f"Python {platform.python_version()}, RLIMIT_NOFILE {limit}",
        "database": engine,
        "plan": {**asdict(plan), "site": asdict(plan.site)},
        "fill": {
            "rows": filled.rows,
            "seconds": round(filled.seconds, 1),
            "gib": round(filled.bytes / 2**30, 2),
        },
        **rows,
        "api": api_figures,
        "sustained": {"ours": ours_sustained, "reference": reference_sustained},
        "start_s": {"empty": empty_start, "full": full_start},
        "rows_after": rows_after,
        "boot_storms": storm_rows,
        "steady": steady,
        "boot_storm_full": full_storm[0],
        "steady_full": full_storm[1],
        "simulator": await asyncio.to_thread(simulator_capacity, plan),
        "simulator_201": await _after_ports(simulator_capacity, plan, "2.0.1"),
    }


async def _after_ports(measure: Any, *args: Any) -> dict[str, Any]:
    """`measure(*args)` in a thread, once the loopback ports of the stage before are free."""
    await ports_settle()
    figures: dict[str, Any] = await asyncio.to_thread(measure, *args)
    return figures


def main(quick: bool, out: Path, server: PostgresUrl | None = None) -> int:
    report = asyncio.run(run(Plan.for_mode(quick), server))
    out.mkdir(parents=True, exist_ok=True)
    name = ("bench-quick" if quick else "bench") + ("-postgresql" if server else "")
    report["targets"] = [
        {"target": goal, "measured": value, "met": met} for goal, value, met in targets(report)
    ]
    (out / f"{name}.json").write_text(json.dumps(report, indent=1))
    text = markdown(report)
    (out / f"{name}.md").write_text(text)
    print(text)
    return 0
