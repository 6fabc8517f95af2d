"""The benchmark run: servers as processes, stages, and the report (reports/bench.md, .json)."""

from __future__ import annotations

import asyncio
import gc
import json
import platform
import re
import resource
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from csms.process import CsmsProcess, raise_nofile

from . import simulator
from .load import Result, boot_storm, run_load, steady_heartbeats

KINDS = ("Heartbeat", "StatusNotification", "MeterValues", "Session mix")


@dataclass
class Plan:
    connections: int  # per throughput stage
    seconds: float  # per throughput stage
    storms: tuple[int, ...]  # boot storm sizes; the largest then holds a steady stage
    steady_interval: float  # seconds between one charger's heartbeats in the steady stage
    steady_seconds: float
    simulators: int  # charge points in the simulator capacity stage
    simulator_heartbeat: int
    simulator_hold: float

    @classmethod
    def for_mode(cls, quick: bool) -> Plan:
        if quick:
            return cls(20, 2.0, (500, 1000), 3.0, 6.0, 1000, 3, 6.0)
        return cls(50, 10.0, (1000, 5000, 10000), 10.0, 30.0, 10000, 10, 30.0)


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


def ours(folder: Path) -> CsmsProcess:
    return CsmsProcess(folder / "bench.db", heartbeat_interval=300, extra=["--ping-interval", "0"])


def latency(result: Result) -> dict[str, Any]:
    """Rate, p50/p95/p99 latency (ms) and errors of a paced stage."""
    return {
        "per_s": round(result.rate),
        "p50_ms": round(result.percentile(50), 2),
        "p95_ms": round(result.percentile(95), 2),
        "p99_ms": round(result.percentile(99), 2),
        "errors": result.errors,
    }


async def throughput(server: CsmsProcess | Reference, plan: Plan) -> dict[str, Any]:
    rows: dict[str, Any] = {}
    for kind in KINDS:
        peak = await run_load(server.url, kind, plan.connections, plan.seconds, prefix="MAX")
        row: dict[str, Any] = {"max_per_s": round(peak.rate), "errors": peak.errors}
        for share in (50, 90):
            units = peak.rate * share / 100 / (6 if kind == "Session mix" else 1)
            paced = await run_load(
                server.url, kind, plan.connections, plan.seconds, rate=units, prefix=f"P{share}"
            )
            row[f"at_{share}"] = latency(paced)
        rows[kind] = row
    return rows


async def storms(plan: Plan, folder: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Boot storms, then the largest storm's chargers stay connected for the steady stage."""
    results, steady = [], {}
    for count in plan.storms:
        with CsmsProcess(folder / f"storm-{count}.db", heartbeat_interval=300) as server:
            before = server.rss_kib()
            seconds, failures, clients = await boot_storm(server.url, count, f"STORM{count}")
            after = server.rss_kib()
            if count == max(plan.storms):
                gc.collect()  # the generator's own long GC pauses must not count as latency
                gc.freeze()
                beats = await steady_heartbeats(clients, plan.steady_interval, plan.steady_seconds)
                steady = {
                    "chargers": len(clients),
                    "interval_s": plan.steady_interval,
                    **latency(beats),
                }
            for client in clients:
                await client.close()
            gc.unfreeze()
        results.append(
            {
                "chargers": count,
                "seconds_to_all_accepted": round(seconds, 2),
                "failed": failures,
                "csms_kib_per_charger": round((after - before) / max(1, count - failures), 1),
            }
        )
    return results, steady


def simulator_capacity(plan: Plan) -> dict[str, Any]:
    figures = simulator.run_in_child(
        [
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


async def run(plan: Plan) -> dict[str, Any]:
    raise_nofile()
    limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    with tempfile.TemporaryDirectory(prefix="ocpp-bench-") as tmp:
        folder = Path(tmp)
        with ours(folder) as server:
            our_rows = await throughput(server, plan)
        with Reference() as server:
            reference_rows = await throughput(server, plan)
        storm_rows, steady = await storms(plan, folder)
    return {
        "measured": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {len(__import__('os').sched_getaffinity(0))} cores, "
        f"Python {platform.python_version()}, RLIMIT_NOFILE {limit}",
        "plan": plan.__dict__,
        "ours": our_rows,
        "reference": reference_rows,
        "boot_storms": storm_rows,
        "steady": steady,
        "simulator": await asyncio.to_thread(simulator_capacity, plan),
    }


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "# ocpp-bench benchmark",
        "",
        f"Measured {report['measured']} on {report['machine']}; {report['plan']['connections']} "
        f"connections, {report['plan']['seconds']:g} s per stage, one load generator for both "
        "CSMSs. Ours persists everything (SQLite WAL, synchronous=FULL) and validates every "
        "frame; the reference is the `ocpp` library's example pattern with no persistence.",
        "",
        "| message | ours max/s | reference max/s | ratio | ours p50/p95/p99 ms at 50% | "
        "at 90% | reference at 90% |",
        "|---|---:|---:|---:|---|---|---|",
    ]
    for kind in KINDS:
        mine, theirs = report["ours"][kind], report["reference"][kind]
        ratio = mine["max_per_s"] / theirs["max_per_s"] if theirs["max_per_s"] else float("nan")
        lines.append(
            f"| {kind} | {mine['max_per_s']} | {theirs['max_per_s']} | {ratio:.2f} | "
            f"{_pct(mine['at_50'])} | {_pct(mine['at_90'])} | {_pct(theirs['at_90'])} |"
        )
    lines += [
        "",
        "Session mix: Authorize, StartTransaction, 3 x MeterValues, StopTransaction; rates in "
        "messages per second. MeterValues carry 10 sampled values.",
        "",
        "| boot storm | seconds to all accepted | failed | CSMS KiB per charger |",
        "|---:|---:|---:|---:|",
    ]
    for storm in report["boot_storms"]:
        lines.append(
            f"| {storm['chargers']} | {storm['seconds_to_all_accepted']} | {storm['failed']} | "
            f"{storm['csms_kib_per_charger']} |"
        )
    steady, sim = report["steady"], report["simulator"]
    lines += [
        "",
        f"Steady: the {steady['chargers']} chargers of the largest storm stay connected, each "
        f"sending a Heartbeat every {steady['interval_s']:g} s ({steady['per_s']}/s in all): "
        f"p50 / p95 / p99 {_pct(steady)} ms, {steady['errors']} errors.",
        "",
        f"Simulator: {sim['charge_points']} charge points in one process (idle: boot, status, "
        f"heartbeats), {sim['kib_per_charge_point']} KiB each; "
        f"{sim['connected_after_hold']} still connected after the hold, "
        f"{sim['heartbeats_in_hold']} heartbeats in it, errors: {sim['errors'] or 'none'}.",
        "",
        "| target | measured | met |",
        "|---|---|---|",
    ]
    for goal, value, met in targets(report):
        lines.append(f"| {goal} | {value} | {'yes' if met else 'NO'} |")
    return "\n".join(lines) + "\n"


def targets(report: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """The issue's targets, checked against the figures of this run."""
    ours, theirs = report["ours"], report["reference"]
    rows = []
    for kind, goal in (("Heartbeat", 1.0), ("MeterValues", 2.0)):
        ratio = ours[kind]["max_per_s"] / max(1, theirs[kind]["max_per_s"])
        rows.append((f"{kind} ours/reference >= {goal:g}", f"{ratio:.2f}", ratio >= goal))
    largest = max(report["boot_storms"], key=lambda storm: storm["chargers"])
    rows.append(
        (
            f"boot storm of {largest['chargers']} accepted within 60 s, none failed",
            f"{largest['seconds_to_all_accepted']} s, {largest['failed']} failed",
            largest["seconds_to_all_accepted"] <= 60 and largest["failed"] == 0,
        )
    )
    steady = report["steady"]
    rows.append(
        (
            f"p99 Heartbeat < 100 ms with {steady['chargers']} connected",
            f"{steady['p99_ms']} ms",
            steady["p99_ms"] < 100 and steady["errors"] == 0,
        )
    )
    sim = report["simulator"]
    held = sim["connected_after_hold"] == sim["charge_points"]
    rows.append(
        (
            f"{sim['charge_points']} simulated chargers in one process, < 50 KiB each",
            f"{sim['kib_per_charge_point']} KiB",
            sim["kib_per_charge_point"] < 50 and held,
        )
    )
    return rows


def _pct(row: dict[str, Any]) -> str:
    return f"{row['p50_ms']} / {row['p95_ms']} / {row['p99_ms']}"


def main(quick: bool, out: Path) -> int:
    report = asyncio.run(run(Plan.for_mode(quick)))
    out.mkdir(parents=True, exist_ok=True)
    name = "bench-quick" if quick else "bench"
    report["targets"] = [
        {"target": goal, "measured": value, "met": met} for goal, value, met in targets(report)
    ]
    (out / f"{name}.json").write_text(json.dumps(report, indent=1))
    text = markdown(report)
    (out / f"{name}.md").write_text(text)
    print(text)
    return 0
