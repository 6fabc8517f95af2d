"""OCPP 1.6 smart charging: installed profiles stacked by purpose and level, the limit in force
at a moment, and the composite schedule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ocppj.timestamps import iso, parse

CP_MAX = "ChargePointMaxProfile"
TX_DEFAULT = "TxDefaultProfile"
TX = "TxProfile"
RECURRENCE = {"Daily": timedelta(days=1), "Weekly": timedelta(days=7)}


@dataclass(slots=True)
class Installed:
    connector_id: int
    profile: dict[str, Any]

    @property
    def purpose(self) -> str:
        return str(self.profile["chargingProfilePurpose"])

    @property
    def level(self) -> int:
        return int(self.profile["stackLevel"])

    @property
    def schedule(self) -> dict[str, Any]:
        return dict(self.profile["chargingSchedule"])

    def start(self, at: datetime, tx_start: datetime | None) -> datetime | None:
        """When this profile's schedule started, as seen at `at` (None: not applicable)."""
        kind = self.profile["chargingProfileKind"]
        if kind == "Relative":
            return tx_start
        begin = self.schedule.get("startSchedule") or self.profile.get("validFrom")
        if begin is None:
            return tx_start if kind == "Relative" else at
        origin = parse(begin)
        if kind == "Recurring":
            period = RECURRENCE[self.profile.get("recurrencyKind", "Daily")]
            if at >= origin:
                origin += period * ((at - origin) // period)
        return origin

    def limit(self, at: datetime, tx_start: datetime | None) -> tuple[float, str, int] | None:
        """(limit, unit, phases) in force at `at`, or None when the profile is not active."""
        valid_from = self.profile.get("validFrom")
        valid_to = self.profile.get("validTo")
        if valid_from and at < parse(valid_from):
            return None
        if valid_to and at >= parse(valid_to):
            return None
        start = self.start(at, tx_start)
        if start is None or at < start:
            return None
        offset = (at - start).total_seconds()
        schedule = self.schedule
        duration = schedule.get("duration")
        if duration is not None and offset >= duration:
            return None
        chosen = None
        for period in schedule["chargingSchedulePeriod"]:
            if period["startPeriod"] <= offset:
                chosen = period
        if chosen is None:
            return None
        return float(chosen["limit"]), schedule["chargingRateUnit"], chosen.get("numberPhases", 3)

    def boundaries(
        self, begin: datetime, end: datetime, tx_start: datetime | None
    ) -> set[datetime]:
        """Moments in [begin, end) where this profile's limit may change."""
        out: set[datetime] = set()
        for key in ("validFrom", "validTo"):
            if self.profile.get(key):
                out.add(parse(self.profile[key]))
        cursor = begin
        while cursor < end:
            start = self.start(cursor, tx_start)
            if start is None:
                break
            for period in self.schedule["chargingSchedulePeriod"]:
                out.add(start + timedelta(seconds=period["startPeriod"]))
            if self.schedule.get("duration") is not None:
                out.add(start + timedelta(seconds=self.schedule["duration"]))
            if self.profile["chargingProfileKind"] != "Recurring":
                break
            cursor = start + RECURRENCE[self.profile.get("recurrencyKind", "Daily")]
            out.add(cursor)
        return {moment for moment in out if begin <= moment < end}


def to_watts(limit: float, unit: str, phases: int, voltage: float) -> float:
    return limit if unit == "W" else limit * voltage * phases


class ProfileStore:
    """The charging profiles installed on one charge point."""

    __slots__ = ("installed", "max_level")

    def __init__(self, max_level: int = 10) -> None:
        self.installed: list[Installed] = []
        self.max_level = max_level

    def install(
        self, connector_id: int, profile: dict[str, Any], tx_id: int | None, force: bool = False
    ) -> str:
        """SetChargingProfile: Accepted or Rejected (NotSupported is decided by the caller)."""
        purpose = profile["chargingProfilePurpose"]
        if profile["stackLevel"] > self.max_level:
            return "Rejected"
        if purpose == CP_MAX and connector_id != 0:
            return "Rejected"
        if purpose == TX and not force:
            if connector_id == 0 or tx_id is None:
                return "Rejected"
            if profile.get("transactionId") not in (None, tx_id):
                return "Rejected"
        self.installed = [
            item
            for item in self.installed
            if item.profile["chargingProfileId"] != profile["chargingProfileId"]
            and not (
                item.connector_id == connector_id
                and item.purpose == purpose
                and item.level == profile["stackLevel"]
            )
        ]
        self.installed.append(Installed(connector_id, dict(profile)))
        return "Accepted"

    def clear(
        self,
        profile_id: int | None = None,
        connector_id: int | None = None,
        purpose: str | None = None,
        stack_level: int | None = None,
    ) -> str:
        """ClearChargingProfile: Accepted when something was removed, else Unknown."""

        def doomed(item: Installed) -> bool:
            if profile_id is not None:
                return bool(item.profile["chargingProfileId"] == profile_id)
            return (
                (connector_id is None or item.connector_id == connector_id)
                and (purpose is None or item.purpose == purpose)
                and (stack_level is None or item.level == stack_level)
            )

        kept = [item for item in self.installed if not doomed(item)]
        removed = len(kept) != len(self.installed)
        self.installed = kept
        return "Accepted" if removed else "Unknown"

    def end_transaction(self, connector_id: int) -> None:
        self.installed = [
            i for i in self.installed if not (i.purpose == TX and i.connector_id == connector_id)
        ]

    def _top(
        self, purpose: str, connector_ids: tuple[int, ...], at: datetime, tx: datetime | None
    ) -> tuple[float, str, int] | None:
        for connector_id in connector_ids:  # a connector's own profiles beat connector 0's
            candidates = sorted(
                (
                    i
                    for i in self.installed
                    if i.purpose == purpose and i.connector_id == connector_id
                ),
                key=lambda i: -i.level,
            )
            for item in candidates:
                found = item.limit(at, tx)
                if found is not None:
                    return found
        return None

    def limit_w(
        self, connector_id: int, at: datetime, tx_start: datetime | None, voltage: float
    ) -> float | None:
        """The power limit in force on `connector_id` at `at` (None: no profile applies)."""
        limits: list[float] = []
        cp_max = self._top(CP_MAX, (0,), at, tx_start)
        if cp_max is not None:
            limits.append(to_watts(cp_max[0], cp_max[1], cp_max[2], voltage))
        if connector_id:
            own = self._top(TX, (connector_id,), at, tx_start) if tx_start else None
            if own is None and tx_start is not None:
                own = self._top(TX_DEFAULT, (connector_id, 0), at, tx_start)
            if own is not None:
                limits.append(to_watts(own[0], own[1], own[2], voltage))
        return min(limits) if limits else None

    def composite(
        self,
        connector_id: int,
        start: datetime,
        duration: int,
        unit: str,
        tx_start: datetime | None,
        voltage: float,
        phases: int,
    ) -> dict[str, Any] | None:
        """The chargingSchedule of GetCompositeSchedule, or None when no profile applies."""
        end = start + timedelta(seconds=duration)
        moments = {start}
        for item in self.installed:
            moments |= item.boundaries(start, end, tx_start)
        periods: list[dict[str, Any]] = []
        for moment in sorted(moments):
            limit_w = self.limit_w(connector_id, moment, tx_start, voltage)
            if limit_w is None:
                continue
            limit = limit_w if unit == "W" else limit_w / (voltage * phases)
            if periods and periods[-1]["limit"] == round(limit, 1):
                continue
            periods.append(
                {"startPeriod": int((moment - start).total_seconds()), "limit": round(limit, 1)}
            )
        if not periods:
            return None
        return {
            "duration": duration,
            "startSchedule": iso(start),
            "chargingRateUnit": unit,
            "chargingSchedulePeriod": periods,
        }
