"""Smart charging (K01-K10, F01): SetChargingProfile and its rejections, ReportChargingProfiles
pages, ClearChargingProfile, the composite schedule of stacked profiles, the limit on the
metered power (and ChargingRateChanged), a TxProfile gone with its transaction, a remote
start's TxProfile, profiles kept across a reboot."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from ocpp.v201 import call

from simulator import EV

from ...conftest import eventually
from .conftest import MiniCsms, StartStation

CTRLR = {"name": "SmartChargingCtrlr"}


def at(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


def profile(
    number: int,
    purpose: str = "TxDefaultProfile",
    level: int = 0,
    limits: list[tuple[int, float]] | None = None,
    unit: str = "W",
    kind: str = "Absolute",
    **more: Any,
) -> dict[str, Any]:
    """A profile of one schedule; Absolute ones start a minute ago unless `start` says."""
    periods = [{"startPeriod": s, "limit": v} for s, v in (limits or [(0, 8000.0)])]
    schedule: dict[str, Any] = {"id": 1, "chargingRateUnit": unit}
    schedule["chargingSchedulePeriod"] = periods
    if kind != "Relative":
        schedule["startSchedule"] = more.pop("start", at(-60))
    schedule.update(more.pop("schedule", {}))
    return {
        "id": number,
        "stackLevel": level,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": kind,
        "chargingSchedule": [schedule],
        **more,
    }


async def set_profile(csms: MiniCsms, cp_id: str, evse_id: int, info: dict[str, Any]) -> Any:
    return await csms.call(cp_id, call.SetChargingProfile(evse_id=evse_id, charging_profile=info))


async def reason(csms: MiniCsms, cp_id: str, evse_id: int, info: dict[str, Any]) -> str:
    """The reasonCode of a Rejected SetChargingProfile."""
    answer = await set_profile(csms, cp_id, evse_id, info)
    assert answer.status == "Rejected", info
    return str(answer.status_info["reason_code"])


async def entries(csms: MiniCsms, cp_id: str) -> str:
    name = {"name": "Entries", "instance": "ChargingProfiles"}
    got = await csms.call(
        cp_id, call.GetVariables(get_variable_data=[{"component": CTRLR, "variable": name}])
    )
    return str(got.get_variable_result[0]["attribute_value"])


async def charging(csms: MiniCsms, cp: Any, connector: int = 1) -> str:
    """A transaction charging at `connector`; its id."""
    await cp.plug_in(connector)
    await cp.present_tag(connector, f"TAG-{connector}")
    started = await csms.wait_for(
        "TransactionEvent",
        lambda p: p["eventType"] == "Started" and p["evse"]["id"] == connector,
    )
    return str(started["transactionInfo"]["transactionId"])


async def test_set_charging_profile_is_checked_against_the_station(
    csms: MiniCsms, start_station: StartStation
) -> None:
    cp = await start_station("CS-SET")
    first = profile(1, validTo=at(1800))
    assert (await set_profile(csms, "CS-SET", 0, first)).status == "Accepted"
    assert await entries(csms, "CS-SET") == "1"
    assert await reason(csms, "CS-SET", 5, profile(2)) == "UnknownEVSE"
    station_max = profile(2, "ChargingStationMaxProfile")
    assert await reason(csms, "CS-SET", 1, station_max) == "InvalidValue"
    external = profile(2, "ChargingStationExternalConstraints")
    assert await reason(csms, "CS-SET", 0, external) == "UnsupportedPurpose"
    assert await reason(csms, "CS-SET", 1, profile(2, "TxProfile")) == "MissingParam"
    stray = profile(2, "TxProfile", transactionId="NOT-RUNNING")
    assert await reason(csms, "CS-SET", 1, stray) == "TxNotFound"
    assert await reason(csms, "CS-SET", 0, profile(2, level=11)) == "InvalidStackLevel"
    many = profile(2, limits=[(n * 60, 5000.0) for n in range(25)])  # PeriodsPerSchedule 24
    assert await reason(csms, "CS-SET", 0, many) == "InvalidSchedule"
    late = profile(2, limits=[(30, 5000.0)])  # the first period starts at 0
    assert await reason(csms, "CS-SET", 0, late) == "InvalidSchedule"
    unsorted = profile(2, limits=[(0, 5000.0), (600, 4000.0), (300, 3000.0)])
    assert await reason(csms, "CS-SET", 0, unsorted) == "InvalidSchedule"
    no_start = profile(2, schedule={"startSchedule": None})
    del no_start["chargingSchedule"][0]["startSchedule"]
    assert await reason(csms, "CS-SET", 0, no_start) == "InvalidSchedule"
    # K01.FR.06: another id at the same purpose, stack level and EVSE is refused...
    assert await reason(csms, "CS-SET", 0, profile(2)) == "DuplicateProfile"
    # ...unless their validity periods do not overlap
    later = profile(2, validFrom=at(3600), validTo=at(7200))
    assert (await set_profile(csms, "CS-SET", 0, later)).status == "Accepted"
    replaced = {**first, "stackLevel": 1}  # K01.FR.05: the same id replaces it
    assert (await set_profile(csms, "CS-SET", 0, replaced)).status == "Accepted"
    assert await entries(csms, "CS-SET") == "2"
    cp.configure({"SmartChargingCtrlr.RateUnit": "W"})
    assert await reason(csms, "CS-SET", 0, profile(3, level=1, unit="A")) == "UnsupportedRateUnit"
    cp.configure({"SmartChargingCtrlr.Enabled": False})
    assert await reason(csms, "CS-SET", 0, profile(3, level=1)) == "NotEnabled"
    assert cp.failures == []


async def test_odd_input_gets_an_answer(csms: MiniCsms, start_station: StartStation) -> None:
    """Dates and numbers the schema lets through but the station cannot use are refused;
    nothing fails inside the station."""
    cp = await start_station("CS-ODD")
    await charging(csms, cp)
    assert await reason(csms, "CS-ODD", 0, profile(1, validTo="9999-12-31T23:59:59Z")) == (
        "InvalidValue"
    )
    far = profile(1, limits=[(0, 1.0), (10**12, 2.0)])
    assert await reason(csms, "CS-ODD", 0, far) == "InvalidSchedule"
    endless = profile(1, schedule={"duration": 10**15})
    assert await reason(csms, "CS-ODD", 0, endless) == "InvalidSchedule"
    daily = profile(
        1, limits=[(0, 9000.0), (3600, 5000.0)], kind="Recurring", recurrencyKind="Daily"
    )
    assert (await set_profile(csms, "CS-ODD", 0, daily)).status == "Accepted"
    long = call.GetCompositeSchedule(duration=10**12, evse_id=1)
    schedule = (await csms.call("CS-ODD", long)).schedule
    assert schedule["duration"] == 7 * 24 * 3600  # cut to a week
    assert len(schedule["charging_schedule_period"]) == 1 + 2 * 7  # then two changes a day
    negative = await csms.call("CS-ODD", call.GetCompositeSchedule(duration=-5, evse_id=1))
    assert negative.schedule["duration"] == 0
    assert cp.failures == []


async def test_profiles_are_reported_in_pages_per_evse(
    csms: MiniCsms, start_station: StartStation
) -> None:
    await start_station("CS-REP", connectors=2)
    station_max = profile(1, "ChargingStationMaxProfile", limits=[(0, 30000.0)])
    assert (await set_profile(csms, "CS-REP", 0, station_max)).status == "Accepted"
    for level in range(5):
        answer = await set_profile(csms, "CS-REP", 1, profile(10 + level, level=level))
        assert answer.status == "Accepted"
    assert (await set_profile(csms, "CS-REP", 2, profile(20))).status == "Accepted"
    got = await csms.call("CS-REP", call.GetChargingProfiles(request_id=3, charging_profile={}))
    assert got.status == "Accepted"
    await csms.wait_for("ReportChargingProfiles", lambda p: not p.get("tbc"))
    pages = csms.payloads("ReportChargingProfiles", "CS-REP")
    assert [(p["evseId"], len(p["chargingProfile"]), p["tbc"]) for p in pages] == [
        (0, 1, True),
        (1, 4, True),
        (1, 1, True),
        (2, 1, False),
    ]
    assert {p["requestId"] for p in pages} == {3}
    assert {p["chargingLimitSource"] for p in pages} == {"CSO"}
    ids = sorted(c["id"] for p in pages for c in p["chargingProfile"])
    assert ids == [1, 10, 11, 12, 13, 14, 20]

    async def report(request_id: int, **criteria: Any) -> list[int] | None:
        evse = criteria.pop("evse_id", None)
        asked = call.GetChargingProfiles(
            request_id=request_id, charging_profile=criteria, evse_id=evse
        )
        if (await csms.call("CS-REP", asked)).status == "NoProfiles":
            return None
        last = await csms.wait_for(
            "ReportChargingProfiles", lambda p: p["requestId"] == request_id and not p["tbc"]
        )
        sent = [p for p in csms.payloads("ReportChargingProfiles") if p["requestId"] == request_id]
        assert sent[-1] == last
        return sorted(c["id"] for p in sent for c in p["chargingProfile"])

    assert await report(4, chargingProfilePurpose="ChargingStationMaxProfile") == [1]
    assert await report(5, evse_id=2) == [20]
    assert await report(6, evse_id=0) == [1]
    assert await report(7, stackLevel=3) == [13]
    assert await report(8, chargingProfileId=[11, 20, 99]) == [11, 20]
    assert await report(9, chargingLimitSource=["CSO"]) is not None
    assert await report(10, chargingLimitSource=["EMS"]) is None
    assert await report(11, stackLevel=3, evse_id=2) is None


async def test_clear_charging_profile_by_id_or_criteria(
    csms: MiniCsms, start_station: StartStation
) -> None:
    await start_station("CS-CLR", connectors=2)
    for number, evse, level in ((1, 0, 0), (2, 1, 0), (3, 1, 1), (4, 2, 1)):
        answer = await set_profile(csms, "CS-CLR", evse, profile(number, level=level))
        assert answer.status == "Accepted"

    async def clear(**what: Any) -> str:
        return str((await csms.call("CS-CLR", call.ClearChargingProfile(**what))).status)

    assert await clear(charging_profile_id=2) == "Accepted"
    assert await clear(charging_profile_id=2) == "Unknown"
    assert await entries(csms, "CS-CLR") == "3"
    assert await clear(charging_profile_criteria={"evseId": 1, "stackLevel": 0}) == "Unknown"
    assert await clear(charging_profile_criteria={"stackLevel": 1}) == "Accepted"  # 3 and 4
    assert await entries(csms, "CS-CLR") == "1"
    purpose = {"chargingProfilePurpose": "ChargingStationMaxProfile"}
    assert await clear(charging_profile_criteria=purpose) == "Unknown"
    assert await clear() == "Accepted"  # no criteria: all of them
    assert await clear() == "Unknown"
    assert await entries(csms, "CS-CLR") == "0"


async def composite(csms: MiniCsms, cp_id: str, evse_id: int, unit: str = "W") -> Any:
    asked = call.GetCompositeSchedule(duration=3600, evse_id=evse_id, charging_rate_unit=unit)
    return await csms.call(cp_id, asked)


def periods(answer: Any) -> list[tuple[int, float]]:
    assert answer.status == "Accepted"
    return [(p["start_period"], p["limit"]) for p in answer.schedule["charging_schedule_period"]]


async def test_composite_schedule_of_stacked_profiles(
    csms: MiniCsms, start_station: StartStation
) -> None:
    cp = await start_station("CS-CMP", connectors=2)
    station_max = profile(1, "ChargingStationMaxProfile", limits=[(0, 30000.0)])
    assert (await set_profile(csms, "CS-CMP", 0, station_max)).status == "Accepted"
    assert periods(await composite(csms, "CS-CMP", 1)) == [(0, 22000.0)]  # the EVSE's own
    assert periods(await composite(csms, "CS-CMP", 0)) == [(0, 30000.0)]  # 2 x 22 kW, capped
    whole = (await composite(csms, "CS-CMP", 0)).schedule
    assert whole["evse_id"] == 0 and whole["duration"] == 3600
    assert whole["charging_rate_unit"] == "W" and whole["schedule_start"]
    # TxDefault 8 kW, and above it for 400 s from 100 s ago, 4 kW: during a transaction
    assert (await set_profile(csms, "CS-CMP", 0, profile(2))).status == "Accepted"
    short = profile(3, level=1, limits=[(0, 4000.0)], start=at(-100), schedule={"duration": 400})
    assert (await set_profile(csms, "CS-CMP", 0, short)).status == "Accepted"
    assert periods(await composite(csms, "CS-CMP", 1)) == [(0, 22000.0)]  # no transaction
    tx_id = await charging(csms, cp)
    stacked = periods(await composite(csms, "CS-CMP", 1))
    assert [limit for _, limit in stacked] == [4000.0, 8000.0]
    assert stacked[0][0] == 0 and 298 <= stacked[1][0] <= 300
    total = periods(await composite(csms, "CS-CMP", 0))  # EVSE 2 idle: its 22 kW
    assert [limit for _, limit in total] == [26000.0, 30000.0]
    # the EVSE's own TxDefault beats the station-wide ones; a TxProfile beats both
    own = profile(4, limits=[(0, 5000.0)])
    assert (await set_profile(csms, "CS-CMP", 1, own)).status == "Accepted"
    assert periods(await composite(csms, "CS-CMP", 1)) == [(0, 5000.0)]
    tx = profile(5, "TxProfile", limits=[(0, 6.0)], unit="A", kind="Relative", transactionId=tx_id)
    assert (await set_profile(csms, "CS-CMP", 1, tx)).status == "Accepted"
    assert periods(await composite(csms, "CS-CMP", 1, "A")) == [(0, 6.0)]
    assert periods(await composite(csms, "CS-CMP", 1)) == [(0, 4140.0)]  # 6 A x 230 V x 3
    unknown = await composite(csms, "CS-CMP", 7)
    assert unknown.status == "Rejected" and unknown.status_info["reason_code"] == "UnknownEVSE"
    cp.configure({"SmartChargingCtrlr.RateUnit": "W"})
    assert (await composite(csms, "CS-CMP", 1, "A")).status == "Rejected"
    assert cp.failures == []


class FastMeter:
    """Real time, but the meter's hours pass in real seconds."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic() * 3600

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def reading(event: dict[str, Any], measurand: str) -> float:
    values = event["meterValue"][0]["sampledValue"]
    return float(next(v["value"] for v in values if v["measurand"] == measurand))


def rate_wh_per_s(events: list[dict[str, Any]]) -> float:
    """Energy over real time between the first and last of `events`."""
    first, last = events[0], events[-1]
    energy = reading(last, "Energy.Active.Import.Register")
    energy -= reading(first, "Energy.Active.Import.Register")
    seconds = datetime.fromisoformat(last["timestamp"]) - datetime.fromisoformat(first["timestamp"])
    return energy / seconds.total_seconds()


async def test_a_tx_profile_lowers_the_metered_energy_and_goes_with_its_transaction(
    csms: MiniCsms, start_station: StartStation
) -> None:
    cp = await start_station(
        "CS-LIM",
        clock=FastMeter(),
        time_scale=0.02,  # TxUpdatedInterval 10 s: an Updated event every 0.2 s
        ev=EV(capacity_wh=1e9, max_power_w=11_000),
        configuration={"SampledDataCtrlr.TxUpdatedInterval": "10"},
    )
    tx_id = await charging(csms, cp)

    def periodic() -> list[dict[str, Any]]:
        return [
            p
            for p in csms.payloads("TransactionEvent", "CS-LIM")
            if p["triggerReason"] == "MeterValuePeriodic"
        ]

    async def three_more(count: int) -> bool:
        return len(periodic()) >= count + 3

    await eventually(lambda: three_more(0))
    before = rate_wh_per_s(periodic()[:3])
    assert 10_000 < before < 11_500  # 11 kW: 11 kWh a (real) second
    tx = profile(7, "TxProfile", limits=[(0, 6.0)], unit="A", kind="Relative", transactionId=tx_id)
    assert (await set_profile(csms, "CS-LIM", 1, tx)).status == "Accepted"
    changed = await csms.wait_for(
        "TransactionEvent", lambda p: p["triggerReason"] == "ChargingRateChanged"
    )
    assert changed["eventType"] == "Updated"
    assert 4000 < reading(changed, "Power.Active.Import") <= 4140  # 6 A x 230 V x 3 phases
    count = len(periodic())
    await eventually(lambda: three_more(count))
    after = rate_wh_per_s(periodic()[count:])
    assert 3_900 < after < 4_300
    assert await entries(csms, "CS-LIM") == "1"
    await cp.stop_charging(1)
    await csms.wait_for("TransactionEvent", lambda p: p["eventType"] == "Ended")
    assert await entries(csms, "CS-LIM") == "0"  # the TxProfile went with its transaction
    purpose = {"chargingProfilePurpose": "TxProfile"}
    gone = await csms.call(
        "CS-LIM", call.GetChargingProfiles(request_id=1, charging_profile=purpose)
    )
    assert gone.status == "NoProfiles"
    assert await reason(csms, "CS-LIM", 1, tx) == "TxNotFound"
    assert cp.failures == []


async def test_a_schedule_moving_on_changes_the_rate_of_the_transaction(
    csms: MiniCsms, start_station: StartStation
) -> None:
    cp = await start_station("CS-STEP", ev=EV(max_power_w=11_000))
    await charging(csms, cp)
    meter = cp.connector(1).meter
    assert meter.power_w > 10_000
    steps = profile(1, limits=[(0, 7000.0), (2, 3000.0)], start=at(0))
    assert (await set_profile(csms, "CS-STEP", 0, steps)).status == "Accepted"
    events = []
    for limit in (7000, 3000):  # told at once, then when the second period begins
        events.append(
            await csms.wait_for(
                "TransactionEvent",
                lambda p, limit=limit: (
                    p["triggerReason"] == "ChargingRateChanged"
                    and limit - 120 < reading(p, "Power.Active.Import") <= limit
                ),
            )
        )
    assert meter.power_w <= 3000
    gap = datetime.fromisoformat(events[1]["timestamp"]) - datetime.fromisoformat(
        events[0]["timestamp"]
    )
    assert 1.0 < gap.total_seconds() < 3.0
    assert cp.failures == []


async def test_a_remote_start_takes_its_tx_profile(
    csms: MiniCsms, start_station: StartStation
) -> None:
    cp = await start_station("CS-RS", ev=EV(max_power_w=22_000))
    token = {"idToken": "APP-1", "type": "Central"}
    default = profile(1, "TxDefaultProfile")
    refused = await csms.call(
        "CS-RS",
        call.RequestStartTransaction(
            id_token=token, remote_start_id=5, evse_id=1, charging_profile=default
        ),
    )
    assert refused.status == "Rejected"  # F01.FR.09: a TxProfile only
    tx = profile(9, "TxProfile", limits=[(0, 10.0)], unit="A", kind="Relative")
    answer = await csms.call(
        "CS-RS",
        call.RequestStartTransaction(
            id_token=token, remote_start_id=6, evse_id=1, charging_profile=tx
        ),
    )
    assert answer.status == "Accepted"
    await cp.plug_in(1)
    started = await csms.wait_for("TransactionEvent", lambda p: p["eventType"] == "Started")
    tx_id = started["transactionInfo"]["transactionId"]
    assert 6_700 < cp.connector(1).meter.power_w <= 6_900  # 10 A x 230 V x 3 phases
    assert await entries(csms, "CS-RS") == "1"
    asked = call.GetChargingProfiles(request_id=2, charging_profile={"chargingProfileId": [9]})
    assert (await csms.call("CS-RS", asked)).status == "Accepted"
    report = await csms.wait_for("ReportChargingProfiles")
    assert report["evseId"] == 1
    assert report["chargingProfile"][0]["transactionId"] == tx_id
    assert cp.failures == []


async def test_profiles_stay_across_a_reboot(csms: MiniCsms, start_station: StartStation) -> None:
    await start_station("CS-BOOT")
    assert (await set_profile(csms, "CS-BOOT", 0, profile(3))).status == "Accepted"
    reset = await csms.call("CS-BOOT", call.Reset(type="Immediate"))
    assert reset.status == "Accepted"
    await csms.wait_connected("CS-BOOT", 2)
    await eventually(lambda: _booted(csms, "CS-BOOT", 2))
    assert await entries(csms, "CS-BOOT") == "1"
    asked = call.GetChargingProfiles(request_id=4, charging_profile={})
    assert (await csms.call("CS-BOOT", asked)).status == "Accepted"
    report = await csms.wait_for("ReportChargingProfiles", lambda p: p["requestId"] == 4)
    assert [c["id"] for c in report["chargingProfile"]] == [3]


async def _booted(csms: MiniCsms, cp_id: str, count: int) -> bool:
    return len(csms.payloads("BootNotification", cp_id)) >= count
