"""Whether a 2.0.1 station takes a charging profile (OCPP 2.0.1 K01, F01): the purpose fits
the EVSE (ChargingStationMaxProfile on 0 only, a TxProfile for a transaction running on its
EVSE, ChargingStationExternalConstraints never from the CSMS), the stack level, the number of
periods and the rate unit fit SmartChargingCtrlr, the schedule is well formed, and no other
profile holds its place (K01.FR.06, K01.FR.39). A problem is a statusInfo reasonCode and why."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ocppj.timestamps import parse

from ..profiles import TX, Installed, out_of_range
from .state import State201

__all__ = ["STATION_MAX", "Problem", "set_problem", "start_problem"]

Payload = dict[str, Any]
Problem = tuple[str, str]  # reasonCode, additionalInfo
STATION_MAX = "ChargingStationMaxProfile"
EXTERNAL = "ChargingStationExternalConstraints"
ENTRIES = "SmartChargingCtrlr.Entries[ChargingProfiles]"  # its maxLimit: the most installed


def set_problem(state: State201, evse_id: int, profile: Payload) -> Problem | None:
    """Why a SetChargingProfile is Rejected (None: it is taken)."""
    purpose = profile["chargingProfilePurpose"]
    if evse_id != 0 and state.evse(evse_id) is None:
        return "UnknownEVSE", f"no EVSE {evse_id}"
    if purpose == EXTERNAL:
        return "UnsupportedPurpose", f"{EXTERNAL} are set by the station, not the CSMS"
    if purpose == STATION_MAX and evse_id != 0:
        return "InvalidValue", f"a {STATION_MAX} is for evseId 0"
    if purpose == STATION_MAX and profile["chargingProfileKind"] == "Relative":
        return "InvalidValue", f"a {STATION_MAX} cannot be Relative"
    if purpose == TX:
        wanted = profile.get("transactionId")
        if evse_id == 0:
            return "InvalidValue", "a TxProfile is for one EVSE, not evseId 0"
        if wanted is None:
            return "MissingParam", "a TxProfile needs the transactionId"
        evse = state.evse(evse_id)
        tx = evse.transaction if evse is not None else None
        if tx is None or tx.transaction_id != wanted:
            return "TxNotFound", f"no transaction {wanted} runs on EVSE {evse_id}"
    return _schedule_problem(state, profile) or _place_problem(state, evse_id, profile)


def start_problem(state: State201, profile: Payload) -> Problem | None:
    """Why a RequestStartTransaction's chargingProfile is refused (None: it is taken)."""
    if profile["chargingProfilePurpose"] != TX:
        return "InvalidValue", "a remote start's profile is a TxProfile"
    return _schedule_problem(state, profile)


def _schedule_problem(state: State201, profile: Payload) -> Problem | None:
    model = state.model
    most_level = model.get_int("SmartChargingCtrlr.ProfileStackLevel")
    if profile["stackLevel"] > most_level:
        return "InvalidStackLevel", f"stack level {profile['stackLevel']} above {most_level}"
    schedules = profile["chargingSchedule"]
    if len(schedules) > 1:
        return "InvalidSchedule", "one chargingSchedule only (no ISO 15118 here)"
    schedule = schedules[0]
    unit, units = schedule["chargingRateUnit"], model.get_list("SmartChargingCtrlr.RateUnit")
    if unit not in units:
        return "UnsupportedRateUnit", f"{unit} not in RateUnit {','.join(units)}"
    periods = schedule["chargingSchedulePeriod"]
    most = model.get_int("SmartChargingCtrlr.PeriodsPerSchedule")
    if len(periods) > most:
        return "InvalidSchedule", f"{len(periods)} periods, PeriodsPerSchedule is {most}"
    starts = [period["startPeriod"] for period in periods]
    if starts[0] != 0 or starts != sorted(set(starts)):
        return "InvalidSchedule", "periods start at 0 and go up (K01.FR.31, K01.FR.35)"
    beyond = out_of_range(profile, schedule)
    if beyond is not None:
        return ("InvalidSchedule" if "lasts" in beyond else "InvalidValue"), beyond
    phases = state.station.spec.phases
    switching = model.get_bool("SmartChargingCtrlr.ACPhaseSwitchingSupported")
    for period in periods:
        if period.get("numberPhases", 0) > phases:
            return "InvalidSchedule", f"numberPhases above the station's {phases}"
        if "phaseToUse" in period and (period.get("numberPhases") != 1 or not switching):
            return "InvalidSchedule", "phaseToUse needs numberPhases 1 and phase switching"
    kind = profile["chargingProfileKind"]
    if kind != "Relative" and "startSchedule" not in schedule:
        return "InvalidSchedule", f"an {kind} schedule needs startSchedule (K01.FR.40)"
    if kind == "Relative" and "startSchedule" in schedule:
        return "InvalidSchedule", "a Relative schedule has no startSchedule (K01.FR.41)"
    if kind == "Recurring" and "recurrencyKind" not in profile:
        return "MissingParam", "a Recurring profile needs recurrencyKind"
    return None


def _validity(profile: Payload) -> tuple[datetime | None, datetime | None]:
    begin, end = profile.get("validFrom"), profile.get("validTo")
    return (parse(begin) if begin else None), (parse(end) if end else None)


def _overlap(one: Payload, other: Payload) -> bool:
    (begin, end), (other_begin, other_end) = _validity(one), _validity(other)
    return (begin is None or other_end is None or begin < other_end) and (
        other_begin is None or end is None or other_begin < end
    )


def _place_problem(state: State201, evse_id: int, profile: Payload) -> Problem | None:
    """K01.FR.06: no other profile of the purpose and stack level on the EVSE with an
    overlapping validity; K01.FR.39: for a TxProfile, none of the transaction's at that
    level. A profile of the same id is replaced (K01.FR.05)."""

    def holds(item: Installed) -> bool:
        if item.profile_id == profile["id"] or item.where != evse_id:
            return False
        if item.purpose != profile["chargingProfilePurpose"] or item.level != profile["stackLevel"]:
            return False
        if item.purpose == TX:
            return bool(item.profile.get("transactionId") == profile.get("transactionId"))
        return _overlap(item.profile, profile)

    taken = next((item for item in state.profiles.installed if holds(item)), None)
    if taken is not None:
        return "DuplicateProfile", f"profile {taken.profile_id} holds that stack level"
    replaces = any(item.profile_id == profile["id"] for item in state.profiles.installed)
    most = int(state.model.resolve(ENTRIES).max_limit or 0)
    if not replaces and len(state.profiles.installed) >= most:
        return "Rejected", f"{most} profiles installed already"
    return None
