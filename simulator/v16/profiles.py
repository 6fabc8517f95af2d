"""OCPP 1.6 smart charging: SetChargingProfile and ClearChargingProfile by the 1.6 rules, over
the installed profiles, limits and composite schedule both versions share
(`simulator.profiles`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..profiles import TX, Installed, Profiles, out_of_range

__all__ = ["CP_MAX", "TX", "ProfileStore"]

CP_MAX = "ChargePointMaxProfile"


class ProfileStore(Profiles):
    """The charging profiles installed on one charge point, by connector (0: all of it)."""

    __slots__ = ("max_level",)

    def __init__(self, max_level: int = 10) -> None:
        super().__init__(CP_MAX)
        self.max_level = max_level

    def install(
        self, connector_id: int, profile: dict[str, Any], tx_id: int | None, force: bool = False
    ) -> str:
        """SetChargingProfile: Accepted or Rejected (NotSupported is decided by the caller).
        The same id, or the same purpose and stack level on the connector, is replaced."""
        purpose = profile["chargingProfilePurpose"]
        if profile["stackLevel"] > self.max_level:
            return "Rejected"
        if out_of_range(profile, profile["chargingSchedule"]) is not None:
            return "Rejected"  # times the schedule maths cannot handle
        if purpose == CP_MAX and connector_id != 0:
            return "Rejected"
        if purpose == TX and not force:
            if connector_id == 0 or tx_id is None:
                return "Rejected"
            if profile.get("transactionId") not in (None, tx_id):
                return "Rejected"
        self.remove(
            lambda item: (
                item.where == connector_id
                and item.purpose == purpose
                and item.level == profile["stackLevel"]
            )
        )
        profile = dict(profile)
        self.put(
            Installed(
                connector_id,
                profile["chargingProfileId"],
                profile,
                dict(profile["chargingSchedule"]),
            )
        )
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
                return item.profile_id == profile_id
            return (
                (connector_id is None or item.where == connector_id)
                and (purpose is None or item.purpose == purpose)
                and (stack_level is None or item.level == stack_level)
            )

        return "Accepted" if self.remove(doomed) else "Unknown"

    def end_transaction(self, connector_id: int) -> None:
        self.remove(lambda item: item.purpose == TX and item.where == connector_id)

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
        return self.schedule(
            start,
            duration,
            unit,
            lambda at: self.limit_w(connector_id, at, tx_start, voltage),
            (tx_start,),
            voltage,
            phases,
        )
