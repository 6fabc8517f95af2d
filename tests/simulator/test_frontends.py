"""The fleet runner and the command line, over the same charge point."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import sys

from simulator import create_charge_point
from simulator._console import execute
from simulator.fleet import Fleet, FleetOptions, summary

from .conftest import MiniCsms, fast_spec


async def test_fleet_charging_profile_and_summary(csms: MiniCsms) -> None:
    options = FleetOptions(
        url=csms.url,
        count=5,
        rate=200,
        id_pattern="FL-{n:02d}",
        profile="charging",
        charge_s=0.2,
        pause_s=0.1,
    )
    fleet = Fleet(options)
    runner = asyncio.create_task(fleet.run())
    await csms.wait_for("StopTransaction", timeout=5)
    while len({r.cp_id for r in csms.received if r.action == "StopTransaction"}) < 5:
        await csms.wait_for("StopTransaction", start=len(csms.received), timeout=5)
    fleet.stop()
    stats = await runner
    assert stats.messages["BootNotification"] == 5
    assert stats.messages["StartTransaction"] >= 5
    assert stats.percentiles("StartTransaction")["p50"] > 0
    assert sorted(set(csms.connections)) == [f"FL-{n:02d}" for n in range(1, 6)]
    text = "\n".join(summary(fleet, 1.0))
    assert "boots accepted: 5" in text and "StartTransaction" in text


async def test_console_commands(csms: MiniCsms) -> None:
    cp = create_charge_point(fast_spec("CP-CONSOLE"), csms.url)
    out = io.StringIO()
    async with cp:
        for line in ("plug 1", "tag 1 TAG-C", "status", "stop 1", "unplug 1", "bogus"):
            assert await execute(cp, line, out)
        assert not await execute(cp, "quit", out)
    text = out.getvalue()
    assert "connector 1: Charging" in text
    assert "unknown command 'bogus'" in text
    assert [p["reason"] for p in csms.payloads("StopTransaction")] == ["Local"]


async def test_sim_run_prints_traffic_and_stops_cleanly_on_sigterm(csms: MiniCsms) -> None:
    env = {**os.environ, "OCPP_BENCH_URL": csms.url}  # options also come from the environment
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ocpp_bench.cli",
        "sim",
        "run",
        "--id",
        "CP-PROC",
        "--no-input",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    try:
        await csms.wait_for("StatusNotification", lambda p: p["connectorId"] == 1, timeout=15)
        process.send_signal(signal.SIGTERM)
        stdout, stderr = await asyncio.wait_for(process.communicate(), 15)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, stderr.decode()
    text = stdout.decode()
    assert "CP  -> CSMS CALL       BootNotification" in text
    assert "CSMS -> CP  CALLRESULT BootNotification" in text
    assert "Traceback" not in stderr.decode()
