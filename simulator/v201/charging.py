"""Smart charging of a 2.0.1 station (OCPP 2.0.1 K01-K10): SetChargingProfile by the rules of
`profile_checks`, GetChargingProfiles with ReportChargingProfiles pages per EVSE,
ClearChargingProfile, GetCompositeSchedule (evseId 0: the grid connection, every EVSE's
limit added up); the limit in force caps each EVSE's meter, and a change of a transaction's
rate by more than LimitChangeSignificance is told (ChargingRateChanged). A TxProfile goes
with its transaction; the others stay while the station runs (reboots included)."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from ..incoming import Outcome
from ..profiles import TX, Installed
from .profile_checks import set_problem
from .reports import send_pages
from .state import State201
from .topology import Evse
from .transactions import Transactions201

__all__ = ["SmartCharging"]

Payload = dict[str, Any]
PAGE = 4  # profiles per ReportChargingProfiles
LONGEST = 7 * 24 * 3600  # the longest composite schedule told (a longer one is cut)
SOURCE = "CSO"  # the charging limit source of every profile the CSMS sets


def _rejected(status: str, code: str, why: str) -> Payload:
    return {"status": status, "statusInfo": {"reasonCode": code, "additionalInfo": why}}


def _matches(item: Installed, evse_id: int | None, wanted: Payload) -> bool:
    """GetChargingProfiles: on the EVSE asked (0: the station's own; none: all) and every
    criterion given."""
    ids, sources = wanted.get("chargingProfileId"), wanted.get("chargingLimitSource")
    return (
        (evse_id is None or item.where == evse_id)
        and wanted.get("chargingProfilePurpose") in (None, item.purpose)
        and wanted.get("stackLevel") in (None, item.level)
        and (not ids or item.profile_id in ids)
        and (not sources or SOURCE in sources)
    )


class SmartCharging:
    """Handlers (`op_<Action>`) of the charging profiles, and the limits they put on the
    EVSEs' meters (`limit_w`, which the transactions apply)."""

    __slots__ = ("profiles", "state", "station", "tx")

    def __init__(self, state: State201, tx: Transactions201) -> None:
        self.state = state
        self.station = state.station
        self.tx = tx
        self.profiles = state.profiles

    async def op_SetChargingProfile(self, p: Payload, outcome: Outcome) -> Payload:
        if not self.state.model.get_bool("SmartChargingCtrlr.Enabled"):
            return _rejected("Rejected", "NotEnabled", "SmartChargingCtrlr is not enabled")
        evse_id, profile = p["evseId"], p["chargingProfile"]
        problem = set_problem(self.state, evse_id, profile)
        if problem is not None:
            self.station.explain(problem[1])
            return _rejected("Rejected", *problem)
        self.install(evse_id, profile)
        self.station.after_reply(self.refresh)
        return {"status": "Accepted"}

    async def op_GetChargingProfiles(self, p: Payload, outcome: Outcome) -> Payload:
        evse_id, wanted = p.get("evseId"), p["chargingProfile"]
        chosen = [i for i in self.profiles.installed if _matches(i, evse_id, wanted)]
        if not chosen:
            return {"status": "NoProfiles"}
        request_id = p["requestId"]
        self.station.after_reply(lambda: self._report(request_id, chosen))
        return {"status": "Accepted"}

    async def _report(self, request_id: int, chosen: list[Installed]) -> None:
        cut: list[tuple[int, list[Payload]]] = []
        for where in sorted({item.where for item in chosen}):
            mine = [item.profile for item in chosen if item.where == where]
            cut += [(where, mine[n : n + PAGE]) for n in range(0, len(mine), PAGE)]

        def page(number: int) -> Payload:
            where, profiles = cut[number]
            return {
                "requestId": request_id,
                "chargingLimitSource": SOURCE,
                "evseId": where,
                "chargingProfile": profiles,
            }

        await send_pages(self.station, "ReportChargingProfiles", len(cut), page)

    async def op_ClearChargingProfile(self, p: Payload, outcome: Outcome) -> Payload:
        """By id, or else by the criteria given (none: every profile)."""
        wanted, criteria = p.get("chargingProfileId"), p.get("chargingProfileCriteria") or {}

        def doomed(item: Installed) -> bool:
            if wanted is not None:
                return bool(item.profile_id == wanted)
            return (
                criteria.get("evseId") in (None, item.where)
                and criteria.get("chargingProfilePurpose") in (None, item.purpose)
                and criteria.get("stackLevel") in (None, item.level)
            )

        if not self.profiles.remove(doomed):
            return {"status": "Unknown"}
        self.station.after_reply(self.refresh)
        return {"status": "Accepted"}

    async def op_GetCompositeSchedule(self, p: Payload, outcome: Outcome) -> Payload:
        evse_id, duration = p["evseId"], max(0, min(p["duration"], LONGEST))
        unit = p.get("chargingRateUnit", "W")
        evse = self.state.evse(evse_id)
        if evse_id != 0 and evse is None:
            return _rejected("Rejected", "UnknownEVSE", f"no EVSE {evse_id}")
        if unit not in self.state.model.get_list("SmartChargingCtrlr.RateUnit"):
            return _rejected("Rejected", "UnsupportedRateUnit", f"{unit} not in RateUnit")
        evses = list(self.state.evses.values()) if evse is None else [evse]
        meter = evses[0].meter

        def limit_at(at: datetime) -> float:
            total = sum(self._evse_w(e, at) for e in evses)
            station = self.profiles.limit_w(0, at, None, meter.voltage)
            return total if station is None else min(total, station)

        starts = [e.transaction.started_at if e.transaction else None for e in evses]
        now = self.station.now()
        composite = self.profiles.schedule(
            now, duration, unit, limit_at, starts, meter.voltage, meter.phases
        )
        assert composite is not None  # every moment has a limit: the EVSEs' own at least
        schedule = {
            "evseId": evse_id,
            "duration": duration,
            "scheduleStart": composite["startSchedule"],
            "chargingRateUnit": unit,
            "chargingSchedulePeriod": composite["chargingSchedulePeriod"],
        }
        return {"status": "Accepted", "schedule": schedule}

    def _evse_w(self, evse: Evse, at: datetime) -> float:
        limit = self.limit_w(evse, at)
        return min(evse.meter.max_power_w, math.inf if limit is None else limit)

    # -- the limits in force -----------------------------------------------------------------

    def install(self, evse_id: int, profile: Payload) -> None:
        profile = dict(profile)
        schedule = dict(profile["chargingSchedule"][0])
        self.profiles.put(Installed(evse_id, profile["id"], profile, schedule))

    def limit_w(self, evse: Evse, at: datetime | None = None) -> float | None:
        """The power limit in force at `evse` (None: none). The TxProfiles of a transaction
        no longer running there go; a remote start's TxProfile joins the transaction it
        started."""
        tx, auth = evse.transaction, evse.authorization
        self.profiles.remove(
            lambda item: (
                item.purpose == TX
                and item.where == evse.evse_id
                and (tx is None or item.profile.get("transactionId") != tx.transaction_id)
            )
        )
        if tx is not None and auth is not None and auth.profile is not None:
            self.install(evse.evse_id, {**auth.profile, "transactionId": tx.transaction_id})
            auth.profile = None
        return self.profiles.limit_w(
            evse.evse_id,
            at or self.station.now(),
            tx.started_at if tx else None,
            evse.meter.voltage,
        )

    async def refresh(self) -> None:
        self.apply()

    def apply(self) -> None:
        """Put the limits in force now on every EVSE's meter; a transaction whose rate moves
        by more than LimitChangeSignificance (percent) is told in an Updated event
        (ChargingRateChanged); then wait for the next change."""
        model = self.state.model
        significance = float(model.get("SmartChargingCtrlr.LimitChangeSignificance") or 0)
        for evse in self.state.evses.values():
            meter = evse.meter
            before = meter.offered_w
            meter.set(limit_w=self.limit_w(evse))
            tx = evse.transaction
            moved = abs(meter.offered_w - before)
            if tx is None or not moved or moved < before * significance / 100:
                continue
            measurands = model.get_list("SampledDataCtrlr.TxUpdatedMeasurands")
            values = self.tx.sample(evse, measurands, "Other")
            self.station.enqueue(self.tx.event(evse, tx, "Updated", "ChargingRateChanged", values))
        self._watch()

    def _watch(self) -> None:
        evses = self.state.evses.values()
        starts = [e.transaction.started_at if e.transaction else None for e in evses]
        wait = self.profiles.next_change(self.station.now(), starts)
        if wait is None:
            self.state.timers.cancel("profiles")
        else:
            self.state.timers.start("profiles", self._after(wait))

    async def _after(self, seconds: float) -> None:
        await self.station.clock.sleep(seconds)
        await self.refresh()
