"""`ocpp-bench sim run` and `sim fleet` with `--ocpp 2.0.1`: the real CLI in a subprocess
against the 2.0.1 test CSMS, with bounded waits."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator

import pytest
from ocpp.v201 import call

from ..conftest import MiniCsms

SIM = [sys.executable, "-m", "ocpp_bench.cli", "sim"]
ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}


@pytest.fixture
async def started() -> AsyncIterator[list[asyncio.subprocess.Process]]:
    """Processes started by the test, killed if it fails before they end."""
    processes: list[asyncio.subprocess.Process] = []
    yield processes
    for process in processes:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def spawn(
    started: list[asyncio.subprocess.Process], *args: str
) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        *SIM, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=ENV
    )
    started.append(process)
    return process


async def test_sim_run_speaks_2_0_1(
    csms: MiniCsms, started: list[asyncio.subprocess.Process]
) -> None:
    process = await spawn(
        started,
        *("run", "--ocpp", "2.0.1", "--url", csms.url, "--id", "CS-RUN", "--plugged"),
        "--no-input",
    )
    boot = await csms.wait_for("BootNotification", timeout=15)
    assert boot["reason"] == "PowerUp"
    status = await csms.wait_for("StatusNotification", timeout=5)
    assert status["connectorStatus"] == "Occupied"  # the cable is in from the start
    answer = await csms.call(
        "CS-RUN",
        call.RequestStartTransaction(
            id_token={"idToken": "R-1", "type": "Central"}, remote_start_id=5
        ),
    )
    assert answer.status == "Accepted"
    started_event = await csms.wait_for("TransactionEvent", timeout=5)
    assert started_event["eventType"] == "Started"
    assert started_event["transactionInfo"]["remoteStartId"] == 5
    process.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(process.communicate(), 15)
    assert process.returncode == 0, err.decode()


async def test_sim_fleet_of_2_0_1_stations_charges_and_ends_its_transactions(
    csms: MiniCsms, started: list[asyncio.subprocess.Process]
) -> None:
    process = await spawn(
        started,
        *("fleet", "--ocpp", "2.0.1", "--url", csms.url, "--count", "2", "--rate", "100"),
        *("--profile", "charging", "--charge-seconds", "600", "--id-pattern", "FL-{n}"),
    )
    for n in (1, 2):
        while not [
            p for p in csms.payloads("TransactionEvent", f"FL-{n}") if p["eventType"] == "Started"
        ]:
            await csms.wait_for("TransactionEvent", start=len(csms.received), timeout=15)
    process.send_signal(signal.SIGINT)
    out, err = await asyncio.wait_for(process.communicate(), 15)
    assert process.returncode == 0, err.decode()
    ended = {
        r.cp_id
        for r in csms.received
        if r.action == "TransactionEvent" and r.payload["eventType"] == "Ended"
    }
    assert ended == {"FL-1", "FL-2"}  # each open transaction ended at the stop
    assert "TransactionEvent" in out.decode()
