"""The benchmark's load generator counts what the CSMS really answered."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from csms import CsmsApp
from ocpp_bench.bench import simulator
from ocpp_bench.bench.load import boot_storm, run_load, steady_heartbeats
from ocpp_bench.bench.runner import targets
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
        result = await run_load(app.ocpp_url, "MeterValues", connections=4, seconds=1.0, rate=40)
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


def test_simulator_capacity_runs_in_its_own_process() -> None:
    figures = simulator.run_in_child(
        ["--count", "20", "--heartbeat", "1", "--hold", "2", "--checkpoints", "10"]
    )
    assert [stage["booted"] for stage in figures.stages] == [10, 20]
    assert figures.connected == 20 and not figures.errors
    assert figures.heartbeats >= 20  # about 40: 20 chargers, one beat a second, 2 s
    assert 0 < figures.kib_per_charge_point < 1024


def _report(heartbeat_ratio: float, storm_failed: int) -> dict[str, Any]:
    def rates(heartbeat: float, meter: float) -> dict[str, Any]:
        return {"Heartbeat": {"max_per_s": heartbeat}, "MeterValues": {"max_per_s": meter}}

    return {
        "ours": rates(1000 * heartbeat_ratio, 3000),
        "reference": rates(1000, 1000),
        "boot_storms": [
            {"chargers": 1000, "seconds_to_all_accepted": 1, "failed": 0},
            {"chargers": 10000, "seconds_to_all_accepted": 14, "failed": storm_failed},
        ],
        "steady": {"chargers": 10000, "p99_ms": 12.0, "errors": 0},
        "simulator": {"charge_points": 10000, "connected_after_hold": 10000,
                      "kib_per_charge_point": 38.0},
    }  # fmt: skip


def test_targets_are_checked_against_the_figures() -> None:
    met = {goal: ok for goal, _, ok in targets(_report(1.5, 0))}
    assert all(met.values()) and len(met) == 5
    missed = [goal for goal, _, ok in targets(_report(0.9, 3)) if not ok]
    assert missed == [
        "Heartbeat ours/reference >= 1",
        "boot storm of 10000 accepted within 60 s, none failed",
    ]
