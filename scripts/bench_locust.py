"""Load benchmark: thousands of Locust users (simulator charge points) in ONE Locust process
against our CSMS in another process, on this machine.

    python scripts/bench_locust.py --users 5000 --spawn-rate 200 --hold 60
    python scripts/bench_locust.py --users 5000 --ocpp-version 2.0.1

Both processes get RLIMIT_NOFILE raised to the hard limit. The figures (users and chargers held,
requests/s per action over the hold phase, p50/p95/p99, failures, CPU and memory) go to
reports/load-5000.md, for 2.0.1 stations reports/load-5000-201.md (or --out); Locust's own
CSV and HTML report to reports/load/bench*.
"""

from __future__ import annotations

import argparse
import csv
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from loadtests.ourcsms import CsmsProcess, charger_ids, raise_nofile, seed_tags  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--spawn-rate", type=float, default=50.0)
    parser.add_argument("--hold", type=float, default=60.0, help="seconds of the hold phase")
    parser.add_argument(
        "--settle", type=float, default=30.0, help="seconds after the ramp for late boots"
    )
    parser.add_argument("--heartbeat", type=int, default=30, help="CSMS heartbeat interval (s)")
    parser.add_argument("--status-interval", type=float, default=60.0)
    parser.add_argument("--profile", default="steady", choices=["steady", "sessions"])
    parser.add_argument("--session-duration", type=float, default=60.0)
    parser.add_argument("--session-pause", type=float, default=10.0)
    parser.add_argument("--meter-interval", type=int, default=10)
    parser.add_argument("--ocpp-version", default="1.6", choices=["1.6", "2.0.1"])
    parser.add_argument("--append", action="store_true", help="add to --out, do not replace")
    parser.add_argument("--out", type=Path, help="default: reports/load-5000[-201].md")
    parser.add_argument("--csv-prefix", type=Path, default=ROOT / "reports" / "load" / "bench")
    args = parser.parse_args()

    if args.out is None:
        suffix = "-201" if args.ocpp_version == "2.0.1" else ""
        args.out = ROOT / "reports" / f"load-5000{suffix}.md"
    raise_nofile()
    ramp = args.users / args.spawn_rate
    run_time = int(ramp + args.settle + args.hold)
    args.csv_prefix.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "csms.db"
        if args.profile == "sessions":
            seed_tags(db, charger_ids("B-", 1, args.users))
        with CsmsProcess(db, heartbeat_interval=args.heartbeat) as csms:
            assert csms.process is not None
            command = [
                sys.executable,
                "-m",
                "locust",
                "-f",
                str(ROOT / "loadtests" / "locustfile.py"),
                "--headless",
                *("-u", str(args.users), "-r", str(args.spawn_rate), "-t", f"{run_time}s"),
                *("--csms-url", csms.url, "--profile", args.profile, "--id-prefix", "B-"),
                *("--ocpp-version", args.ocpp_version),
                *("--status-interval", str(args.status_interval), "--boot-timeout", "180"),
                *("--session-duration", str(args.session_duration)),
                *("--session-pause", str(args.session_pause)),
                *("--meter-interval", str(args.meter_interval)),
                *("--csv", str(args.csv_prefix), "--csv-full-history"),
                *("--html", str(args.csv_prefix) + ".html", "--only-summary"),
                *("--stop-timeout", "0", "--loglevel", "WARNING"),
            ]
            started = time.time()
            load = subprocess.Popen(command, cwd=tmp, preexec_fn=raise_nofile)
            samples = watch(load, psutil.Process(csms.process.pid), db, args.users, run_time)
            load.wait(run_time + 120)
            elapsed = time.time() - started
    report = render(args, samples, elapsed, load.returncode)
    if args.append and args.out.exists():
        report = args.out.read_text() + "\n" + report
    args.out.write_text(report)
    print(report)
    return 0


def watch(
    load: subprocess.Popen[bytes], csms: psutil.Process, db: Path, users: int, run_time: int
) -> dict[str, float]:
    """Peak memory of both processes; their CPU and the chargers online (per the CSMS's
    database) over the hold: from all chargers online to 5 s before the end."""
    locust = psutil.Process(load.pid)
    began = time.monotonic()
    result = {"online": 0.0, "locust_rss": 0.0, "csms_rss": 0.0, "booted_after": float("nan")}
    result["locust_cpu"] = result["csms_cpu"] = float("nan")
    hold: tuple[float, float, float] | None = None  # time, locust cpu, csms cpu
    while load.poll() is None:
        now = time.monotonic() - began
        try:
            result["locust_rss"] = max(result["locust_rss"], locust.memory_info().rss / 2**20)
            result["csms_rss"] = max(result["csms_rss"], csms.memory_info().rss / 2**20)
            if hold is None and now < run_time - 10 and _online(db) >= users:
                hold = (now, _cpu(locust), _cpu(csms))
                result["booted_after"] = now
            if now >= run_time - 5:
                result["online"] = _online(db)
                if hold is not None:
                    result["locust_cpu"] = (_cpu(locust) - hold[1]) / (now - hold[0]) * 100
                    result["csms_cpu"] = (_cpu(csms) - hold[2]) / (now - hold[0]) * 100
                break
        except psutil.NoSuchProcess:
            break
        time.sleep(1)
    return result


def _cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def _online(db: Path) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as connection:
        row = connection.execute("SELECT COUNT(*) FROM chargers WHERE online = 1").fetchone()
    return int(row[0])


def render(
    args: argparse.Namespace, samples: dict[str, float], elapsed: float, exit_code: int | None
) -> str:
    prefix = args.csv_prefix
    with Path(f"{prefix}_stats.csv").open(newline="") as file:
        stats = list(csv.DictReader(file))
    with Path(f"{prefix}_failures.csv").open(newline="") as file:
        failures = list(csv.DictReader(file))
    with Path(f"{prefix}_stats_history.csv").open(newline="") as file:
        history = list(csv.DictReader(file))
    users_held = max((int(r["User Count"]) for r in history), default=0)
    rates = hold_rates(history, args.users)
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"# Locust load: {args.users} OCPP {args.ocpp_version} charge points from one Locust "
        f"process, profile `{args.profile}`",
        "",
        f"Measured {when} by `scripts/bench_locust.py` on {psutil.cpu_count()} cores, "
        f"Python {platform.python_version()}, against `ocpp-bench csms serve --auto-register "
        f"--heartbeat-interval {args.heartbeat}` (SQLite) in a second process, both on this "
        "machine with RLIMIT_NOFILE raised to the hard limit.",
        f"Profile `{args.profile}` ({profile_text(args)}), spawn rate {args.spawn_rate:g}/s, "
        f"hold {args.hold:g} s after ramp + {args.settle:g} s; "
        f"run {elapsed:.0f} s in all, Locust exit code {exit_code}.",
        "",
        f"- users held (Locust): **{users_held}**",
        f"- chargers online per the CSMS 5 s before the end: **{int(samples['online'])}** "
        f"(all {args.users} online {samples['booted_after']:.0f} s after the start)",
        f"- Locust process: peak RSS {samples['locust_rss']:.0f} MiB, CPU "
        f"{samples['locust_cpu']:.0f} % of one core during the hold",
        f"- CSMS process: peak RSS {samples['csms_rss']:.0f} MiB, CPU "
        f"{samples['csms_cpu']:.0f} % of one core during the hold",
        "",
        "| type | name | requests | failures | req/s (hold) | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in stats:
        key = (row["Type"], row["Name"])
        lines.append(
            f"| {row['Type']} | {row['Name']} | {row['Request Count']} | {row['Failure Count']}"
            f" | {rates.get(key, 0.0):.1f} | {row['50%']} | {row['95%']} | {row['99%']}"
            f" | {float(row['Max Response Time']):.0f} |"
        )
    lines += ["", "Failures:" if failures else "Failures: none.", ""]
    for failure in failures:
        lines.append(
            f"- {failure['Method']} {failure['Name']}: {failure['Error']} x{failure['Occurrences']}"
        )
    lines += [
        "",
        "Requests/s (hold) is the rate from the moment every charger had booted to the end; "
        "percentiles cover the whole run (ramp-up included), as Locust reports them. "
        "`WS connect` is connection + BootNotification until Accepted.",
        "",
    ]
    return "\n".join(lines)


def profile_text(args: argparse.Namespace) -> str:
    if args.profile == "sessions":
        return (
            f"each charger: plug, tag, {args.session_duration:g} s of charging with MeterValues "
            f"every {args.meter_interval} s, stop, unplug, {args.session_pause:g} s pause"
        )
    return f"status change every ~{args.status_interval:g} s per charger"


def hold_rates(history: list[dict[str, str]], users: int) -> dict[tuple[str, str], float]:
    """Requests/s per row from the first history sample with every charger booted (`WS
    connect` count == users) to the last sample."""
    booted = min(
        (
            float(row["Timestamp"])
            for row in history
            if (row["Type"], row["Name"]) == ("WS", "connect")
            and int(row["Total Request Count"]) >= users
        ),
        default=float("inf"),
    )
    first: dict[tuple[str, str], tuple[float, int]] = {}
    last: dict[tuple[str, str], tuple[float, int]] = {}
    for row in history:
        if float(row["Timestamp"]) < booted:
            continue
        key = (row["Type"], row["Name"])
        point = (float(row["Timestamp"]), int(row["Total Request Count"]))
        first.setdefault(key, point)
        last[key] = point
    rates = {}
    for key, (t0, n0) in first.items():
        t1, n1 = last[key]
        rates[key] = (n1 - n0) / (t1 - t0) if t1 > t0 else 0.0
    return rates


if __name__ == "__main__":
    raise SystemExit(main())
