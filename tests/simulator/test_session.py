"""A full charging session against the `ocpp`-library CSMS."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection

from simulator import InvalidTransition, Status, SystemClock, create_charge_point

from .conftest import MiniCsms, StartCp, fast_spec
from .test_misbehaving_csms import tiny_csms


async def test_boot_then_statuses_for_every_connector(csms: MiniCsms, start_cp: StartCp) -> None:
    cp = await start_cp("CP-BOOT", connectors=2, serial_number="SN-1")
    boot = await csms.wait_for("BootNotification")
    assert boot["chargePointVendor"] == "ocpp-bench"
    assert boot["chargePointSerialNumber"] == "SN-1"
    for n in (0, 1, 2):
        await csms.wait_for("StatusNotification", lambda p, n=n: p["connectorId"] == n)
    assert cp.config.get("HeartbeatInterval") == "60"  # taken from the boot answer


async def test_full_session(csms: MiniCsms, start_cp: StartCp) -> None:
    cp = await start_cp("CP-FULL", configuration={"MeterValueSampleInterval": "1"}, time_scale=0.1)
    await cp.plug_in(1)
    assert cp.status(1) == Status.PREPARING
    info = await cp.present_tag(1, "TAG-1")
    assert info["status"] == "Accepted"
    assert cp.status(1) == Status.CHARGING
    start = await csms.wait_for("StartTransaction")
    assert start["idTag"] == "TAG-1" and start["connectorId"] == 1
    tx = cp.transaction(1)
    assert tx is not None and tx.transaction_id is not None
    values = await csms.wait_for("MeterValues", timeout=3)
    assert values["transactionId"] == tx.transaction_id
    measurands = {v["measurand"] for v in values["meterValue"][0]["sampledValue"]}
    assert {"Energy.Active.Import.Register", "Power.Active.Import"} <= measurands
    await cp.suspend(1, "EV")
    assert cp.status(1) == Status.SUSPENDED_EV
    await cp.resume(1)
    await cp.present_tag(1, "TAG-1")  # same tag again: stop
    stop = await csms.wait_for("StopTransaction")
    assert stop["transactionId"] == tx.transaction_id
    assert stop["reason"] == "Local"
    assert stop["meterStop"] >= start["meterStart"]
    assert cp.connector(1).meter.energy_wh > 0  # 11 kW for a fraction of a second
    power = [
        float(v["value"])
        for p in csms.payloads("MeterValues")
        for v in p["meterValue"][0]["sampledValue"]
        if v["measurand"] == "Power.Active.Import"
    ]
    assert power and all(10_800 < w <= 11_000 for w in power)
    assert cp.status(1) == Status.FINISHING
    await cp.unplug(1)
    assert cp.status(1) == Status.AVAILABLE
    statuses = [p["status"] for p in csms.payloads("StatusNotification") if p["connectorId"] == 1]
    assert statuses == [
        "Available",
        "Preparing",
        "Charging",
        "SuspendedEV",
        "Charging",
        "Finishing",
        "Available",
    ]
    actions = [e.action for e in cp.transcript.calls("out")]
    assert actions.index("StartTransaction") < actions.index("StopTransaction")


async def test_invalid_transition_is_refused_not_sent(csms: MiniCsms, start_cp: StartCp) -> None:
    cp = await start_cp("CP-BAD")
    sent = len(csms.payloads("StatusNotification"))
    with pytest.raises(InvalidTransition, match="Available -> Finishing"):
        cp.connector(1).set_status(Status.FINISHING)
    assert cp.status(1) == Status.AVAILABLE
    assert len(csms.payloads("StatusNotification")) == sent


async def test_heartbeat_at_the_interval_the_csms_set(csms: MiniCsms, start_cp: StartCp) -> None:
    csms.boot_interval = 2  # "2 s", scaled to 0.1 s
    cp = await start_cp("CP-HB", time_scale=0.05)
    assert cp.config.get("HeartbeatInterval") == "2"
    await csms.wait_for("Heartbeat", timeout=2)
    while len(csms.payloads("Heartbeat")) < 3:
        await csms.wait_for("Heartbeat", start=len(csms.received), timeout=2)
    beats = [e.at for e in cp.transcript.calls("out", "Heartbeat")]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(beats)]
    assert all(0.09 <= gap < 0.5 for gap in gaps), gaps


async def test_second_session_with_the_cable_still_in(csms: MiniCsms, start_cp: StartCp) -> None:
    cp = await start_cp("CP-AGAIN")
    await cp.plug_in(1)
    await cp.present_tag(1, "A")
    await cp.stop_charging(1)
    assert cp.status(1) == Status.FINISHING
    await cp.present_tag(1, "B")
    assert cp.status(1) == Status.CHARGING
    statuses = [p["status"] for p in csms.payloads("StatusNotification") if p["connectorId"] == 1]
    assert statuses[-3:] == ["Finishing", "Preparing", "Charging"]
    assert [p["idTag"] for p in csms.payloads("StartTransaction")] == ["A", "B"]


async def test_clock_set_from_the_boot_answer(csms: MiniCsms, start_cp: StartCp) -> None:
    csms.clock_skew_s = 3600.0
    cp = await start_cp("CP-CLOCK")
    await cp.plug_in(1)
    stamp = csms.payloads("StatusNotification")[-1]["timestamp"]
    ahead = datetime.fromisoformat(stamp.replace("Z", "+00:00")) - datetime.now(UTC)
    assert timedelta(minutes=59) < ahead < timedelta(minutes=61)


class _LateClock(SystemClock):
    """The system clock 0.9 s into a second when the test starts: a CSMS that tells whole
    seconds is up to 0.9 s 'behind' it without being wrong."""

    def __init__(self) -> None:
        real = datetime.now(UTC)
        self._shift = real.replace(microsecond=900_000) - real

    def now(self) -> datetime:
        return super().now() + self._shift


async def test_a_currenttime_without_fractions_never_steps_the_clock_back() -> None:
    clock = _LateClock()

    async def whole_seconds(websocket: ServerConnection, frame: list[Any]) -> None:
        told = clock.now().replace(microsecond=0).isoformat().replace("+00:00", "Z")
        answer: dict[str, Any] = {"currentTime": told}
        if frame[2] == "BootNotification":
            answer |= {"status": "Accepted", "interval": 1}
        elif frame[2] != "Heartbeat":
            answer = {}
        await websocket.send(json.dumps([3, frame[1], answer]))

    async with tiny_csms(whole_seconds) as (_, url):
        cp = create_charge_point(fast_spec("CP-WHOLE", time_scale=0.05), url, clock=clock)
        async with cp:
            await cp.transcript.wait_for(
                lambda _: len(cp.transcript.calls("out", "Heartbeat")) >= 4, 5, what="4 beats"
            )
    stamps = [entry.at for entry in cp.transcript]
    assert stamps == sorted(stamps), "\n".join(cp.transcript.lines())
    assert abs((cp.now() - clock.now()).total_seconds()) < 1  # it agrees with the CSMS
