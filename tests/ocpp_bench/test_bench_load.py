"""The benchmark's load generator counts what the CSMS really answered."""

from __future__ import annotations

from pathlib import Path

from csms import CsmsApp
from ocpp_bench.bench.load import boot_storm, run_load
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
