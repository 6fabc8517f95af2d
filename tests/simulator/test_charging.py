"""Reservations, smart charging, the local list and the meter."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from ocpp.v16 import call

from simulator import EV, Status
from simulator.v16.metering import sampled_values

from .conftest import MiniCsms, StartCp


def in_seconds(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


async def test_reservation_used_by_its_tag(csms: MiniCsms, start_cp: StartCp) -> None:
    cp = await start_cp("CP-RES")
    answer = await csms.call(
        "CP-RES",
        call.ReserveNow(
            connector_id=1, expiry_date=in_seconds(30), id_tag="MINE", reservation_id=7
        ),
    )
    assert answer.status == "Accepted"
    await cp.wait_status(1, "Reserved")
    again = await csms.call(
        "CP-RES",
        call.ReserveNow(connector_id=1, expiry_date=in_seconds(30), id_tag="X", reservation_id=8),
    )
    assert again.status == "Occupied"
    refused = await cp.present_tag(1, "OTHER")
    assert refused["status"] == "Invalid"
    assert cp.status(1) == Status.RESERVED
    await cp.plug_in(1)
    await cp.present_tag(1, "MINE")
    start = await csms.wait_for("StartTransaction")
    assert start["reservationId"] == 7 and start["idTag"] == "MINE"


async def test_reservation_expires(csms: MiniCsms, start_cp: StartCp) -> None:
    cp = await start_cp("CP-EXP")
    answer = await csms.call(
        "CP-EXP",
        call.ReserveNow(connector_id=1, expiry_date=in_seconds(0.4), id_tag="T", reservation_id=1),
    )
    assert answer.status == "Accepted"
    await cp.wait_status(1, "Reserved", timeout=1)
    await cp.wait_status(1, "Available", timeout=2)
    statuses = [p["status"] for p in csms.payloads("StatusNotification") if p["connectorId"] == 1]
    assert statuses[-2:] == ["Reserved", "Available"]
    cancel = await csms.call("CP-EXP", call.CancelReservation(reservation_id=1))
    assert cancel.status == "Rejected"  # already gone


async def test_rfc3339_lower_case_dates_are_understood(csms: MiniCsms, start_cp: StartCp) -> None:
    """RFC 3339 allows a lower-case t and z; both were an internal error before."""
    cp = await start_cp("CP-LOWER")
    expiry = (datetime.now(UTC) + timedelta(seconds=0.5)).strftime("%Y-%m-%dt%H:%M:%S.%fz")
    answer = await csms.call(
        "CP-LOWER",
        call.ReserveNow(connector_id=1, expiry_date=expiry, id_tag="T", reservation_id=3),
    )
    assert answer.status == "Accepted"
    await cp.wait_status(1, "Reserved", timeout=1)
    await cp.wait_status(1, "Available", timeout=3)  # and it expires when it says
    assert cp.failures == []


async def test_reservation_with_parent_id_tag(csms: MiniCsms, start_cp: StartCp) -> None:
    csms.tags["CHILD"] = {"status": "Accepted", "parentIdTag": "FLEET"}
    cp = await start_cp("CP-PARENT")
    await csms.call(
        "CP-PARENT",
        call.ReserveNow(
            connector_id=1,
            expiry_date=in_seconds(30),
            id_tag="OWNER",
            reservation_id=3,
            parent_id_tag="FLEET",
        ),
    )
    await cp.plug_in(1)
    info = await cp.present_tag(1, "CHILD")
    assert info["status"] == "Accepted"
    assert (await csms.wait_for("StartTransaction"))["reservationId"] == 3


def tx_profile(limit: float, unit: str = "A") -> dict[str, object]:
    return {
        "chargingProfileId": 11,
        "stackLevel": 1,
        "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": {
            "chargingRateUnit": unit,
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
        },
    }


async def test_charging_profile_changes_metered_power(csms: MiniCsms, start_cp: StartCp) -> None:
    cp = await start_cp("CP-SC", ev=EV(max_power_w=22_000))
    await cp.plug_in(1)
    await cp.present_tag(1, "T")
    meter = cp.connector(1).meter
    assert 21_000 < meter.power_w <= 22_000
    tx = cp.transaction(1)
    assert tx is not None
    await tx.started.wait()
    profile = {**tx_profile(10), "transactionId": tx.transaction_id}
    answer = await csms.call(
        "CP-SC", call.SetChargingProfile(connector_id=1, cs_charging_profiles=profile)
    )
    assert answer.status == "Accepted"
    assert 6_700 < meter.power_w <= 6_900  # 10 A x 230 V x 3 phases
    composite = await csms.call(
        "CP-SC", call.GetCompositeSchedule(connector_id=1, duration=600, charging_rate_unit="A")
    )
    assert composite.status == "Accepted"
    assert composite.charging_schedule["charging_schedule_period"][0]["limit"] == 10
    cpmax = {
        "chargingProfileId": 1,
        "stackLevel": 0,
        "chargingProfilePurpose": "ChargePointMaxProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": {
            "startSchedule": in_seconds(-60),
            "chargingRateUnit": "W",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 3000}],
        },
    }
    assert (
        await csms.call(
            "CP-SC", call.SetChargingProfile(connector_id=0, cs_charging_profiles=cpmax)
        )
    ).status == "Accepted"
    assert 2_900 < meter.power_w <= 3_000  # the lower of the two limits
    cleared = await csms.call("CP-SC", call.ClearChargingProfile())
    assert cleared.status == "Accepted"
    assert meter.power_w > 21_000
    refused = await csms.call(
        "CP-SC", call.SetChargingProfile(connector_id=0, cs_charging_profiles=tx_profile(5))
    )
    assert refused.status == "Rejected"  # a TxProfile needs a connector with a transaction


async def test_a_profile_beyond_the_schedule_maths_is_rejected_not_a_crash(
    csms: MiniCsms, start_cp: StartCp
) -> None:
    cp = await start_cp("CP-BIG")
    default = {**tx_profile(10), "chargingProfilePurpose": "TxDefaultProfile"}
    schedule = default["chargingSchedule"]
    for odd in (
        {**default, "chargingSchedule": {**schedule, "duration": 10**15}},
        {**default, "validTo": "9999-12-31T23:59:59Z"},
        {**default, "chargingSchedule": {**schedule, "startSchedule": "9999-12-31T23:59:59Z"}},
    ):
        answer = await csms.call(
            "CP-BIG", call.SetChargingProfile(connector_id=1, cs_charging_profiles=odd)
        )
        assert answer.status == "Rejected", odd
    accepted = await csms.call(
        "CP-BIG", call.SetChargingProfile(connector_id=1, cs_charging_profiles=default)
    )
    assert accepted.status == "Accepted"  # and the station goes on
    await cp.plug_in(1)
    await cp.present_tag(1, "T")
    assert cp.connector(1).meter.power_w <= 6_900


async def test_remote_start_profile_applies(csms: MiniCsms, start_cp: StartCp) -> None:
    cp = await start_cp("CP-RSP", ev=EV(max_power_w=22_000))
    await cp.plug_in(1)
    await csms.call(
        "CP-RSP",
        call.RemoteStartTransaction(
            id_tag="T", connector_id=1, charging_profile=tx_profile(4000, "W")
        ),
    )
    await cp.wait_status(1, "Charging")
    assert 3_900 < cp.connector(1).meter.power_w <= 4_000


async def test_meter_is_monotonic_and_plausible(csms: MiniCsms, start_cp: StartCp) -> None:
    cp = await start_cp("CP-METER", ev=EV(capacity_wh=1_000, soc=50, max_power_w=7_400))
    await cp.plug_in(1)
    await cp.present_tag(1, "T")
    sample = sampled_values(
        cp.connector(1).meter,
        [
            "Energy.Active.Import.Register",
            "Power.Active.Import",
            "Current.Import",
            "Voltage",
            "SoC",
        ],
        "Sample.Periodic",
    )
    values = {v["measurand"]: float(v["value"]) for v in sample}
    assert 7_200 < values["Power.Active.Import"] <= 7_400
    assert 225 < values["Voltage"] < 235
    assert 10 < values["Current.Import"] < 11  # 7.4 kW over three phases at 230 V
    assert 50 <= values["SoC"] < 60


async def test_local_list_and_offline_authorization(csms: MiniCsms, start_cp: StartCp) -> None:
    cp = await start_cp("CP-LIST")
    entries = [{"idTag": "LOCAL", "idTagInfo": {"status": "Accepted"}}]
    sent = await csms.call(
        "CP-LIST",
        call.SendLocalList(list_version=3, update_type="Full", local_authorization_list=entries),
    )
    assert sent.status == "Accepted"
    version = await csms.call("CP-LIST", call.GetLocalListVersion())
    assert version.list_version == 3
    stale = await csms.call(
        "CP-LIST", call.SendLocalList(list_version=2, update_type="Differential")
    )
    assert stale.status == "VersionMismatch"
    await cp.go_offline()
    assert (await cp.present_tag(1, "LOCAL"))["status"] == "Accepted"  # LocalAuthorizeOffline
    assert cp.status(1) == Status.PREPARING
    assert (await cp.present_tag(1, "STRANGER"))["status"] == "Invalid"


async def test_power_follows_the_schedule_over_time(csms: MiniCsms, start_cp: StartCp) -> None:
    cp = await start_cp("CP-SCHED", ev=EV(max_power_w=22_000))
    await cp.plug_in(1)
    await cp.present_tag(1, "T")
    # an absolute schedule that started 59.7 s ago: 3 kW now, 6 kW from its 60th second on
    started = datetime.now(UTC) - timedelta(seconds=59.7)
    profile = {
        "chargingProfileId": 5,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": {
            "startSchedule": started.isoformat(),
            "chargingRateUnit": "W",
            "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": 3000},
                {"startPeriod": 60, "limit": 6000},
            ],
        },
    }
    answer = await csms.call(
        "CP-SCHED", call.SetChargingProfile(connector_id=0, cs_charging_profiles=profile)
    )
    assert answer.status == "Accepted"
    meter = cp.connector(1).meter
    assert 2_900 < meter.power_w <= 3_000
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 3
    while meter.limit_w != 6000:  # applied by the charge point's own timer, no sampling needed
        assert loop.time() < deadline, "the second period never took over"
        await asyncio.sleep(0.02)
    assert 5_800 < meter.power_w <= 6_000
