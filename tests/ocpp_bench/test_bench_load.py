"""The benchmark's load generator counts what the CSMS really answered."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from csms import CsmsApp
from ocpp_bench.bench import api, simulator
from ocpp_bench.bench.load import (
    KINDS,
    Result,
    boot_storm,
    run_load,
    run_mixed,
    steady_heartbeats,
)
from ocpp_bench.bench.report import SUSTAINED, targets
from tests.conftest import csms_config


async def test_closed_loop_count_matches_the_csms_message_log(tmp_path: Path) -> None:
    async with CsmsApp(csms_config(tmp_path, auto_register=True)) as app:
        result = await run_load(app.ocpp_url, "Heartbeat", connections=8, seconds=0.5)
        assert result.errors == 0 and result.completed > 50
        assert len(result.latencies) == result.completed
        await app.services.log.flush()
        row = await app.services.db.fetch_one(
            "SELECT COUNT(*) AS n FROM message_log WHERE action = 'Heartbeat'"
            " AND direction = 'in' AND message_type = 2"
        )
        assert row is not None and row["n"] == result.completed


async def test_paced_load_keeps_near_its_rate(tmp_path: Path) -> None:
    async with CsmsApp(csms_config(tmp_path, auto_register=True)) as app:
        kind = "MeterValues (tx, sampled)"
        result = await run_load(app.ocpp_url, kind, connections=4, seconds=1.0, rate=40)
        assert result.errors == 0
        assert 20 <= result.rate <= 60, result.rate
        assert 0 < result.percentile(50) <= result.percentile(99)


async def test_boot_storm_counts_accepted_and_refused(tmp_path: Path) -> None:
    async with CsmsApp(csms_config(tmp_path, auto_register=True)) as app:
        seconds, failed, clients = await boot_storm(app.ocpp_url, 30, "STORM")
        assert failed == 0 and len(clients) == 30 and seconds > 0
        for client in clients:
            await client.close()
    async with CsmsApp(csms_config(tmp_path / "closed")) as app:  # no auto-registration
        _, failed, clients = await boot_storm(app.ocpp_url, 5, "NOBODY")
        assert failed == 5 and clients == []


async def test_steady_heartbeats_keep_their_pace_and_are_all_answered(tmp_path: Path) -> None:
    async with CsmsApp(csms_config(tmp_path, auto_register=True)) as app:
        _, failed, clients = await boot_storm(app.ocpp_url, 10, "STEADY")
        assert failed == 0
        result = await steady_heartbeats(clients, interval=0.25, seconds=1.0)
        for client in clients:
            await client.close()
        assert result.errors == 0
        assert result.completed == 40  # 10 chargers x 4 beats, none after the end
        assert 30 <= result.rate <= 45, result.rate
        await app.services.log.flush()
        row = await app.services.db.fetch_one(
            "SELECT COUNT(*) AS n FROM message_log WHERE action = 'Heartbeat'"
            " AND direction = 'in' AND message_type = 2"
        )
        assert row is not None and row["n"] == 40


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_simulator_capacity_runs_in_its_own_process(version: str) -> None:
    figures = simulator.run_in_child(
        ["--ocpp", version, "--count", "20", "--heartbeat", "1", "--hold", "2",
         "--checkpoints", "10"]
    )  # fmt: skip
    assert figures.ocpp_version == version
    assert [stage["booted"] for stage in figures.stages] == [10, 20]
    assert figures.connected == 20 and not figures.errors
    assert figures.heartbeats >= 20  # about 40: 20 chargers, one beat a second, 2 s
    assert 0 < figures.kib_per_charge_point < 1024


def _report(ratio: float, storm_failed: int, held: float = 0.95) -> dict[str, Any]:
    """A report whose figures are `ratio` times the reference's, full and empty alike."""

    def rates(factor: float) -> dict[str, Any]:
        return {kind: {"max_per_s": 1000 * factor} for kind in KINDS}

    ends = {"last_over_first": held, "errors": 0}
    api_figures = {what: {"p95_ms": 12.0, "errors": 0} for what, _ in api.ROUTES}
    return {
        "ours": rates(ratio),
        "ours_full": rates(ratio),
        "reference": rates(1),
        "plan": {"sustained_seconds": 120},
        "sustained": {"ours": {kind: ends for kind in (*SUSTAINED, "both")}},
        "api": {"empty": api_figures, "full": api_figures},
        "boot_storms": [
            {"chargers": 1000, "seconds_to_all_accepted": 1, "failed": 0},
            {"chargers": 10000, "seconds_to_all_accepted": 14, "failed": storm_failed},
        ],
        "steady": {"chargers": 10000, "p99_ms": 12.0, "errors": 0},
        "simulator": {"charge_points": 10000, "connected_after_hold": 10000,
                      "kib_per_charge_point": 38.0},
    }  # fmt: skip


def test_targets_are_checked_against_the_figures() -> None:
    met = {goal: ok for goal, _, ok in targets(_report(2.5, 0))}
    assert all(met.values()) and len(met) == len(KINDS) + 3 + 2 + 3 + 2 + 3
    missed = [goal for goal, _, ok in targets(_report(1.5, 3, held=0.8)) if not ok]
    assert missed == [
        "MeterValues (tx, sampled) ours/reference >= 2",
        "2.0.1 TransactionEvent ours/reference >= 2",
        "MeterValues (no tx, clock) ours/reference >= 2, empty and full database",
        "MeterValues (no tx, sampled) ours/reference >= 2, empty and full database",
        "sustained 120 s, MeterValues (tx, sampled): last 10 % >= 0.9 x first 10 %",
        "sustained 120 s, MeterValues (no tx, clock): last 10 % >= 0.9 x first 10 %",
        "sustained 120 s, all: last 10 % >= 0.9 x first 10 %",
        "boot storm of 10000 accepted within 60 s, none failed",
    ]


def test_a_full_database_slower_than_the_empty_one_misses_its_target() -> None:
    report = _report(2.5, 0)
    report["ours_full"]["MeterValues (no tx, clock)"]["max_per_s"] = 2000  # 0.8 x empty
    missed = [goal for goal, _, ok in targets(report) if not ok]
    assert missed == ["MeterValues (no tx, clock): full/empty database >= 0.9"]


async def test_each_meter_value_is_stored_and_a_stage_ends_its_transactions(
    tmp_path: Path,
) -> None:
    """Every MeterValues is a new instant (none dropped as a duplicate) with 10 values, and
    the transactions a stage started are stopped when it ends."""
    async with CsmsApp(csms_config(tmp_path, auto_register=True)) as app:
        results = await run_mixed(app.ocpp_url, SUSTAINED, connections=4, seconds=0.5)
        sent = sum(result.completed for result in results.values())
        assert sent > 20 and not any(result.errors for result in results.values())
        db = app.services.db
        row = await db.fetch_one(
            "SELECT COUNT(*) AS n, COUNT(transaction_id) AS in_tx FROM meter_values"
        )
        assert row is not None and row["n"] == 10 * sent
        assert row["in_tx"] == 10 * results[SUSTAINED[0]].completed
        active = await db.fetch_one(
            "SELECT COUNT(*) AS n FROM transactions WHERE status = 'Active'"
        )
        assert active == {"n": 0}
        loose = await db.fetch_one(
            "SELECT MIN(connector_id) AS c FROM meter_values WHERE transaction_id IS NULL"
        )
        assert loose == {"c": 0}  # clock-aligned values of the main meter, connector 0


async def test_2_0_1_stages_are_stored_and_end_their_transactions(tmp_path: Path) -> None:
    """The 2.0.1 stages speak ocpp2.0.1: every TransactionEvent answered is a stored event
    with its 10 values, and each transaction a stage started is ended when it stops."""
    async with CsmsApp(csms_config(tmp_path, auto_register=True)) as app:
        updates = await run_load(app.ocpp_url, "2.0.1 TransactionEvent", 3, seconds=0.5)
        sessions = await run_load(app.ocpp_url, "2.0.1 Session mix", 2, seconds=0.5)
        beats = await run_load(app.ocpp_url, "2.0.1 Heartbeat", 2, seconds=0.3)
        assert not (updates.errors or sessions.errors or beats.errors)
        assert updates.completed > 10 and sessions.completed >= 12 and beats.completed > 10
        db = app.services.db
        started = 3 + sessions.completed // 6  # one per connection, one per session
        events = 3 * 2 + updates.completed + sessions.completed // 6 * 5  # Started, Ended
        rows = await db.fetch_one(
            "SELECT COUNT(*) AS n, SUM(status = 'Active') AS active,"
            " COUNT(station_transaction_id) AS named FROM transactions"
        )
        assert rows == {"n": started, "active": 0, "named": started}
        samples = await db.fetch_one("SELECT COUNT(*) AS n FROM meter_values")
        assert samples == {"n": 10 * events}
        await app.services.log.flush()
        beat_rows = await db.fetch_one(
            "SELECT COUNT(*) AS n FROM message_log WHERE action = 'Heartbeat'"
            " AND direction = 'in' AND message_type = 2"
        )
        assert beat_rows == {"n": beats.completed}


def test_rates_of_a_stage_s_first_and_last_tenth() -> None:
    result = Result(completed=30, seconds=10.0, began=100.0)
    result.moments = [100.0 + i * 0.1 for i in range(10)] + [109.5] * 2
    assert result.rate_in(0.0, 0.1) == pytest.approx(10.0)  # 10 in the first second
    assert result.rate_in(0.9, 1.0) == pytest.approx(2.0)


def test_each_simulated_version_has_its_capacity_target() -> None:
    report = _report(2.5, 0)
    report["simulator_201"] = {"charge_points": 10000, "connected_after_hold": 9990,
                               "kib_per_charge_point": 41.0, "errors": {}}  # fmt: skip
    missed = [goal for goal, _, ok in targets(report) if not ok]
    assert missed == ["10000 simulated 2.0.1 stations in one process, < 50 KiB each"]  # 10 dropped
