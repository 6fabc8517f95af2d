"""The `sim run` console's 2.0.1 verb: an EV arriving at and leaving the parking bay."""

from __future__ import annotations

import io

from simulator._console import execute

from ..conftest import MiniCsms
from .conftest import StartStation


async def test_ev_arrives_and_leaves(csms: MiniCsms, start_station: StartStation) -> None:
    points = {
        "TxCtrlr.TxStartPoint": "ParkingBayOccupancy",
        "TxCtrlr.TxStopPoint": "ParkingBayOccupancy",
    }
    cp = await start_station("CS-EV", configuration=points)
    out = io.StringIO()
    assert await execute(cp, "ev 1 arrive", out)
    started = await csms.wait_for("TransactionEvent")
    assert (started["eventType"], started["triggerReason"]) == ("Started", "EVDetected")
    assert await execute(cp, "ev 1 leave", out)
    ended = await csms.wait_for("TransactionEvent", lambda p: p["eventType"] == "Ended")
    assert ended["triggerReason"] == "EVDeparted"
    assert await execute(cp, "ev 1 fly", out)
    assert "! ev: ev 1 arrive or leave, not 'fly'" in out.getvalue()
