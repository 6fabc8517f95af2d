"""The benchmark run: servers as processes, stages, and the report (reports/bench.md, .json)."""

from __future__ import annotations

import asyncio
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

from .load import boot_storm, run_load

KINDS = ("Heartbeat", "StatusNotification", "MeterValues", "Session mix")


@dataclass
class Plan:
    connections: int
    seconds: float
    storms: tuple[int, ...]

    @classmethod
    def for_mode(cls, quick: bool) -> Plan:
        return cls(20, 2.0, (500, 1000)) if quick else cls(50, 10.0, (1000, 5000, 10000))


def raise_file_limit() -> int:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


class Server:
    """A CSMS under test, in its own process; the URL comes from its first output line."""

    def __init__(self, name: str, command: list[str]) -> None:
        self.name = name
        self.command = command
        self.process: subprocess.Popen[str] | None = None
        self.url = ""

    def __enter__(self) -> Server:
        self.process = subprocess.Popen(self.command, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        found = re.search(r"(ws://[^\s/]+(?:/ocpp)?)", line)
        if not found:
            self.__exit__()
            raise RuntimeError(f"{self.name} did not start: {line!r}")
        self.url = found.group(1)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(30)
            if self.process.stdout is not None:
                self.process.stdout.close()

    def rss_kib(self) -> int:
        assert self.process is not None
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        found = re.search(r"VmRSS:\s+(\d+)", status)
        return int(found.group(1)) if found else 0


def ours(folder: Path) -> Server:
    return Server(
        "ocpp-bench CSMS",
        [sys.executable, "-m", "ocpp_bench.cli", "csms", "serve", "--db", str(folder / "b.db"),
         "--host", "127.0.0.1", "--ocpp-port", "0", "--api-port", "0", "--auto-register",
         "--ping-interval", "0"],
    )  # fmt: skip


def reference() -> Server:
    return Server("reference (ocpp library)", [sys.executable, "-m", "ocpp_bench.bench.reference"])


async def throughput(server: Server, plan: Plan) -> dict[str, Any]:
    rows: dict[str, Any] = {}
    for kind in KINDS:
        peak = await run_load(server.url, kind, plan.connections, plan.seconds, prefix="MAX")
        row: dict[str, Any] = {"max_per_s": round(peak.rate), "errors": peak.errors}
        for share in (50, 90):
            units = peak.rate * share / 100 / (6 if kind == "Session mix" else 1)
            paced = await run_load(
                server.url, kind, plan.connections, plan.seconds, rate=units, prefix=f"P{share}"
            )
            row[f"at_{share}"] = {
                "per_s": round(paced.rate),
                "p50_ms": round(paced.percentile(50), 2),
                "p95_ms": round(paced.percentile(95), 2),
                "p99_ms": round(paced.percentile(99), 2),
                "errors": paced.errors,
            }
        rows[kind] = row
    return rows


async def storms(plan: Plan, folder: Path) -> list[dict[str, Any]]:
    results = []
    for count in plan.storms:
        with ours(folder / f"storm-{count}") as server:
            before = server.rss_kib()
            seconds, failures, clients = await boot_storm(server.url, count, f"STORM{count}")
            after = server.rss_kib()
            for client in clients:
                await client.close()
        results.append(
            {
                "chargers": count,
                "seconds_to_all_accepted": round(seconds, 2),
                "failed": failures,
                "csms_kib_per_charger": round((after - before) / max(1, count - failures), 1),
            }
        )
    return results


async def run(plan: Plan) -> dict[str, Any]:
    limit = raise_file_limit()
    with tempfile.TemporaryDirectory(prefix="ocpp-bench-") as tmp:
        folder = Path(tmp)
        for count in plan.storms:
            (folder / f"storm-{count}").mkdir()
        with ours(folder) as server:
            our_rows = await throughput(server, plan)
        with reference() as server:
            reference_rows = await throughput(server, plan)
        storm_rows = await storms(plan, folder)
    return {
        "measured": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {len(__import__('os').sched_getaffinity(0))} cores, "
        f"Python {platform.python_version()}, RLIMIT_NOFILE {limit}",
        "plan": plan.__dict__,
        "ours": our_rows,
        "reference": reference_rows,
        "boot_storms": storm_rows,
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
    return "\n".join(lines) + "\n"


def _pct(row: dict[str, Any]) -> str:
    return f"{row['p50_ms']} / {row['p95_ms']} / {row['p99_ms']}"


def main(quick: bool, out: Path) -> int:
    report = asyncio.run(run(Plan.for_mode(quick)))
    out.mkdir(parents=True, exist_ok=True)
    name = "bench-quick" if quick else "bench"
    (out / f"{name}.json").write_text(json.dumps(report, indent=1))
    text = markdown(report)
    (out / f"{name}.md").write_text(text)
    print(text)
    return 0
