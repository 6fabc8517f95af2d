"""Smart charging as both OCPP versions do it: the charging profiles installed, stacked by
purpose and stack level (a connector's or EVSE's own before the whole station's), the limit in
force at a moment, when it may change next, and the composite schedule. Each version installs
and clears them by its own rules (`simulator.v16.profiles`, `simulator.v201.charging`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ocppj.timestamps import iso, parse

__all__ = ["TX", "TX_DEFAULT", "Installed", "Profiles", "to_watts"]

TX_DEFAULT = "TxDefaultProfile"
TX = "TxProfile"
RECURRENCE = {"Daily": timedelta(days=1), "Weekly": timedelta(days=7)}
TICK = timedelta(milliseconds=1)  # a change is looked for from just after now...
HORIZON = timedelta(days=1)  # ...up to a day ahead
Limit = tuple[float, str, int]  # the limit, its unit (A or W), the number of phases


@dataclass(slots=True)
class Installed:
    """One profile as the CSMS sent it, where it applies (a 1.6 connector, a 2.0.1 EVSE; 0:
    the whole station) and the schedule it follows (2.0.1: the first of its list)."""

    where: int
    profile_id: int
    profile: dict[str, Any]
    schedule: dict[str, Any]

    @property
    def purpose(self) -> str:
        return str(self.profile["chargingProfilePurpose"])

    @property
    def level(self) -> int:
        return int(self.profile["stackLevel"])

    def start(self, at: datetime, tx_start: datetime | None) -> datetime | None:
        """When this profile's schedule started, as seen at `at` (None: not applicable)."""
        kind = self.profile["chargingProfileKind"]
        if kind == "Relative":
            return tx_start
        begin = self.schedule.get("startSchedule") or self.profile.get("validFrom")
        if begin is None:
            return at
        origin = parse(begin)
        if kind == "Recurring":
            period = RECURRENCE[self.profile.get("recurrencyKind", "Daily")]
            if at >= origin:
                origin += period * ((at - origin) // period)
        return origin

    def limit(self, at: datetime, tx_start: datetime | None) -> Limit | None:
        """The limit in force at `at`, or None when the profile is not active."""
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


def to_watts(limit: Limit, voltage: float) -> float:
    value, unit, phases = limit
    return value if unit == "W" else value * voltage * phases


class Profiles:
    """The charging profiles installed on one station. `station_max` names the purpose that
    caps the whole station (1.6 ChargePointMaxProfile, 2.0.1 ChargingStationMaxProfile)."""

    __slots__ = ("installed", "station_max")

    def __init__(self, station_max: str) -> None:
        self.installed: list[Installed] = []
        self.station_max = station_max

    def put(self, item: Installed) -> None:
        """Install `item`; a profile of the same id is replaced."""
        self.remove(lambda old: old.profile_id == item.profile_id)
        self.installed.append(item)

    def remove(self, doomed: Callable[[Installed], bool]) -> bool:
        """Remove the profiles `doomed` picks; True when there were any."""
        kept = [item for item in self.installed if not doomed(item)]
        removed = len(kept) != len(self.installed)
        self.installed = kept
        return removed

    def _top(
        self, purpose: str, places: tuple[int, ...], at: datetime, tx: datetime | None
    ) -> Limit | None:
        for where in places:  # a connector's (EVSE's) own profiles beat the station's
            candidates = sorted(
                (i for i in self.installed if i.purpose == purpose and i.where == where),
                key=lambda i: -i.level,
            )
            for item in candidates:
                found = item.limit(at, tx)
                if found is not None:
                    return found
        return None

    def limit_w(
        self, where: int, at: datetime, tx_start: datetime | None, voltage: float
    ) -> float | None:
        """The power limit in force at `where` at `at` (None: no profile applies): the
        station's maximum and, during a transaction, its TxProfile or else the TxDefault."""
        limits: list[float] = []
        station = self._top(self.station_max, (0,), at, tx_start)
        if station is not None:
            limits.append(to_watts(station, voltage))
        if where and tx_start is not None:
            own = self._top(TX, (where,), at, tx_start)
            if own is None:
                own = self._top(TX_DEFAULT, (where, 0), at, tx_start)
            if own is not None:
                limits.append(to_watts(own, voltage))
        return min(limits) if limits else None

    def _moments(
        self, begin: datetime, end: datetime, tx_starts: Iterable[datetime | None]
    ) -> set[datetime]:
        moments: set[datetime] = set()
        for tx_start in set(tx_starts):
            for item in self.installed:
                moments |= item.boundaries(begin, end, tx_start)
        return moments

    def next_change(self, now: datetime, tx_starts: Iterable[datetime | None]) -> float | None:
        """Seconds until a limit may change, within a day, for transactions started at
        `tx_starts` (None: none); None when none will."""
        moments = self._moments(now + TICK, now + HORIZON, tx_starts)
        return (min(moments) - now).total_seconds() if moments else None

    def schedule(
        self,
        start: datetime,
        duration: int,
        unit: str,
        limit_at: Callable[[datetime], float | None],
        tx_starts: Iterable[datetime | None],
        voltage: float,
        phases: int,
    ) -> dict[str, Any] | None:
        """A composite schedule of `limit_at` (watts at a moment, None: no limit) over
        `duration` seconds from `start`, in `unit`; None when no moment has a limit."""
        end = start + timedelta(seconds=duration)
        periods: list[dict[str, Any]] = []
        for moment in sorted({start} | self._moments(start, end, tx_starts)):
            limit_w = limit_at(moment)
            if limit_w is None:
                continue
            limit = round(limit_w if unit == "W" else limit_w / (voltage * phases), 1)
            if periods and periods[-1]["limit"] == limit:
                continue
            periods.append({"startPeriod": int((moment - start).total_seconds()), "limit": limit})
        if not periods:
            return None
        return {
            "duration": duration,
            "startSchedule": iso(start),
            "chargingRateUnit": unit,
            "chargingSchedulePeriod": periods,
        }


LONGEST = 10**9  # seconds a period may start at, or a schedule last (some 31 years)


def fits(moment: str) -> bool:
    """Whether a profile's date-time can be computed with (its periods after it included)."""
    try:
        return parse(moment).year < 9000
    except ValueError:
        return False


def out_of_range(profile: dict[str, Any], schedule: dict[str, Any]) -> str | None:
    """What in a profile's times the schedule maths cannot handle; None when all is fine."""
    starts = [period["startPeriod"] for period in schedule["chargingSchedulePeriod"]]
    if max((*starts, schedule.get("duration", 0))) > LONGEST:
        return f"a schedule lasts {LONGEST} s at the most"
    for moment in (profile.get("validFrom"), profile.get("validTo"), schedule.get("startSchedule")):
        if moment is not None and not fits(moment):
            return f"{moment!r} is not a date-time before the year 9000"
    return None
