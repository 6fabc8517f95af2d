"""The benchmark's report: reports/bench.md from the figures of a run, and the targets
checked against them."""

from __future__ import annotations

from typing import Any

from . import api
from .load import KINDS

# the sustained stage: half the connections in one long transaction each, half outside any
SUSTAINED = ("MeterValues (tx, sampled)", "MeterValues (no tx, clock)")


def _ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def _rounds(plan: dict[str, Any]) -> str:
    rounds = plan.get("rounds", 1)
    return f"each maximum the median of {rounds} rounds, " if rounds > 1 else ""


def markdown(report: dict[str, Any]) -> str:
    plan, filled = report["plan"], report["fill"]
    site, rows = plan["site"], filled["rows"]
    paced = plan["paced"]
    lines = [
        "# ocpp-bench benchmark",
        "",
        f"Measured {report['measured']} on {report['machine']}; {plan['connections']} "
        f"connections, {plan['seconds']:g} s per stage, {_rounds(plan)}one load generator "
        "for all. Ours "
        f"persists everything ({report.get('database', 'SQLite WAL, synchronous=FULL')}) and"
        " validates every frame; the "
        "reference is the `ocpp` library's example pattern with no persistence. Each stage "
        "runs on ours with an empty database, on ours with a full one and on the reference, "
        "one after the other (in a turning order), before the next stage.",
        "",
        f"**Full database**: {site['days']} days of a {site['chargers']}-charger site "
        f"(`csms.store.fill`): {rows['meter_values']:,} meter values, "
        f"{rows['message_log']:,} message-log rows, {rows['transactions']:,} transactions, "
        f"{filled['gib']} GiB, made in {filled['seconds']:g} s; our CSMS started on it in "
        f"{report['start_s']['full']:g} s (empty: {report['start_s']['empty']:g} s). The "
        "stages' chargers are the site's (SITE-001, ...), on the empty database too.",
        "",
        "| message | ours empty max/s | ours full max/s | full/empty | reference max/s | "
        "ours/reference empty | full |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for kind in KINDS:
        empty, full = report["ours"][kind]["max_per_s"], report["ours_full"][kind]["max_per_s"]
        theirs = report["reference"][kind]["max_per_s"]
        lines.append(
            f"| {kind} | {empty} | {full} | {_ratio(full, empty):.2f} | {theirs} | "
            f"{_ratio(empty, theirs):.2f} | {_ratio(full, theirs):.2f} |"
        )
    heads = [f"ours empty at {share}%" for share in paced]
    heads += [f"ours full at {share}%" for share in plan["paced_full"]]
    heads += [f"reference at {paced[-1]}%"]
    lines += [
        "",
        "p50 / p95 / p99 latency in ms, paced at a share of each one's own maximum:",
        "",
        "| message | " + " | ".join(heads) + " |",
        "|---|" + "---|" * len(heads),
    ]
    for kind in KINDS:
        cells = [_pct(report["ours"][kind][f"at_{share}"]) for share in paced]
        cells += [_pct(report["ours_full"][kind][f"at_{share}"]) for share in plan["paced_full"]]
        cells += [_pct(report["reference"][kind][f"at_{paced[-1]}"])]
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "MeterValues carry 10 values: sampled ones (Sample.Periodic: energy, power, current and "
        "voltage per phase, temperature, SoC) on connector 1, clock-aligned ones (Sample.Clock: "
        "the main meter's registers, voltage and current per phase) on connector 0 outside a "
        'transaction; every message is a new instant. "tx": each connection sends all its '
        "values to one transaction it started for the stage. Session mix: Authorize, "
        "StartTransaction, 3 x MeterValues, StopTransaction; rates in messages per second. "
        "2.0.1 stages: the same load from OCPP 2.0.1 stations (subprotocol ocpp2.0.1); "
        "TransactionEvent: each connection's Updated events, 10 sampled values each, in one "
        "transaction it started for the stage; its session: Authorize, TransactionEvent "
        "Started, 3 x Updated, Ended. The reference speaks 2.0.1 with the library's v201 "
        "classes.",
        "",
        f"**Sustained**: {plan['sustained_seconds']:g} s of MeterValues as fast as answered, "
        "half the connections each in one long transaction (sampled), half outside any "
        "(clock-aligned), on the empty database as it fills:",
        "",
        "| sustained MeterValues | messages/s | first 10 % | last 10 % | last/first |",
        "|---|---:|---:|---:|---:|",
    ]
    for who in ("ours", "reference"):
        for part, row in report["sustained"][who].items():
            lines.append(
                f"| {who}, {'all' if part == 'both' else part} | {row['per_s']} | "
                f"{row['first_10_per_s']} | {row['last_10_per_s']} | {row['last_over_first']} |"
            )
    after = report["rows_after"]["empty"]
    lines += [
        "",
        f"By its end the empty database held {after['meter_values']:,} meter values and "
        f"{after['message_log']:,} log rows.",
        "",
        f"**HTTP API**, {plan['api_requests']} requests per route one after another, idle "
        "CSMS, p50 / p95 / p99 ms:",
        "",
        "| route | empty database | full database |",
        "|---|---|---|",
    ]
    for what, row in report["api"]["full"].items():
        lines.append(f"| {what} | {_pct(report['api']['empty'][what])} | {_pct(row)} |")
    lines += [
        "",
        "| boot storm | seconds to all accepted | failed | CSMS KiB per charger |",
        "|---:|---:|---:|---:|",
    ]
    for storm in report["boot_storms"]:
        lines.append(
            f"| {storm['chargers']} | {storm['seconds_to_all_accepted']} | {storm['failed']} | "
            f"{storm['csms_kib_per_charger']} |"
        )
    storm = report["boot_storm_full"]
    if storm:
        lines.append(
            f"| {storm['chargers']}, full database | {storm['seconds_to_all_accepted']} | "
            f"{storm['failed']} | {storm['csms_kib_per_charger']} |"
        )
    steady, full_steady = report["steady"], report["steady_full"]
    lines += [
        "",
        f"Steady: the {steady['chargers']} chargers of the largest storm stay connected, each "
        f"sending a Heartbeat every {steady['interval_s']:g} s ({steady['per_s']}/s in all): "
        f"p50 / p95 / p99 {_pct(steady)} ms, {steady['errors']} errors"
        + (
            f"; on the full database {_pct(full_steady)} ms, {full_steady['errors']} errors."
            if full_steady
            else "."
        ),
        "",
        *(
            f"Simulator, OCPP {version}: {sim['charge_points']} charge points in one process "
            f"(idle: boot, status, heartbeats), {sim['kib_per_charge_point']} KiB each; "
            f"{sim['connected_after_hold']} still connected after the hold, "
            f"{sim['heartbeats_in_hold']} heartbeats in it, errors: {sim['errors'] or 'none'}."
            for version, sim in simulators(report)
        ),
        "",
        "| target | measured | met |",
        "|---|---|---|",
    ]
    for goal, value, met in targets(report):
        lines.append(f"| {goal} | {value} | {'yes' if met else 'NO'} |")
    return "\n".join(lines) + "\n"


LOOSE = ("MeterValues (no tx, clock)", "MeterValues (no tx, sampled)")


def targets(report: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """The targets, checked against the figures of this run."""
    ours, full, theirs = report["ours"], report["ours_full"], report["reference"]
    rows = []
    for kind in KINDS:
        ratio = _ratio(full[kind]["max_per_s"], ours[kind]["max_per_s"])
        rows.append((f"{kind}: full/empty database >= 0.9", f"{ratio:.2f}", ratio >= 0.9))
    for kind, goal in (
        ("Heartbeat", 1.0),
        ("MeterValues (tx, sampled)", 2.0),
        ("2.0.1 TransactionEvent", 2.0),
    ):
        ratio = _ratio(ours[kind]["max_per_s"], theirs[kind]["max_per_s"])
        rows.append((f"{kind} ours/reference >= {goal:g}", f"{ratio:.2f}", ratio >= goal))
    for kind in LOOSE:
        empty = _ratio(ours[kind]["max_per_s"], theirs[kind]["max_per_s"])
        filled = _ratio(full[kind]["max_per_s"], theirs[kind]["max_per_s"])
        rows.append(
            (
                f"{kind} ours/reference >= 2, empty and full database",
                f"{empty:.2f}, {filled:.2f}",
                empty >= 2 and filled >= 2,
            )
        )
    seconds = report["plan"]["sustained_seconds"]
    for part, row in report["sustained"]["ours"].items():
        held = row["last_over_first"]
        rows.append(
            (
                f"sustained {seconds:g} s, {'all' if part == 'both' else part}: "
                "last 10 % >= 0.9 x first 10 %",
                f"{held}",
                held is not None and held >= 0.9 and row["errors"] == 0,
            )
        )
    for what, _ in api.TARGET_ROUTES:
        p95 = report["api"]["full"][what]["p95_ms"]
        ok = p95 is not None and p95 < 50 and report["api"]["full"][what]["errors"] == 0
        rows.append((f"{what} p95 < 50 ms, full database", f"{p95} ms", ok))
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
    for version, sim in simulators(report):
        held_all = sim["connected_after_hold"] == sim["charge_points"]
        what = "chargers" if version == "1.6" else f"{version} stations"
        rows.append(
            (
                f"{sim['charge_points']} simulated {what} in one process, < 50 KiB each",
                f"{sim['kib_per_charge_point']} KiB",
                sim["kib_per_charge_point"] < 50 and held_all and not sim.get("errors"),
            )
        )
    return rows


def simulators(report: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(OCPP version, simulator capacity figures) of each version measured."""
    found = [("1.6", report["simulator"])]
    if report.get("simulator_201"):
        found.append(("2.0.1", report["simulator_201"]))
    return found


def _pct(row: dict[str, Any]) -> str:
    return f"{row['p50_ms']} / {row['p95_ms']} / {row['p99_ms']}"
