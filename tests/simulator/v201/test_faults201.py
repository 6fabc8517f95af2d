"""`--faults` on a 2.0.1 station: the misbehaviours reach a 2.0.1 CSMS as they do a 1.6 one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ocppj.timestamps import parse
from simulator import Faults

from ..conftest import MiniCsms
from .conftest import StartStation


async def test_storm_and_clock_drift(csms: MiniCsms, start_station: StartStation) -> None:
    cp = await start_station("CS-F", faults=Faults(storm=2, clock_drift_s=-3600))
    await cp.plug_in(1)
    status = await csms.wait_for("StatusNotification", lambda p: p["connectorStatus"] == "Occupied")
    late = datetime.now(UTC) - parse(status["timestamp"])
    assert timedelta(minutes=59) < late < timedelta(minutes=61)  # an hour behind
    assert len(csms.payloads("Heartbeat", "CS-F")) >= 2 * len(csms.payloads("BootNotification"))
    assert cp.faults_injected["storm_heartbeat"] >= 4
    assert cp.faults_injected["clock_drift"] >= 2
