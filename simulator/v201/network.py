"""Network connection profiles of a 2.0.1 station (OCPP 2.0.1 B09, B10, A05): SetNetworkProfile
keeps a profile in a configuration slot; at each reboot the station connects by
OCPPCommCtrlr.NetworkConfigurationPriority, NetworkProfileConnectionAttempts failed attempts
on a slot before the next. Slot 0 is the profile it was installed with; the slot in use is
OCPPCommCtrlr.ActiveNetworkProfile. Once a slot of a higher security profile connects, the
station does not go back to a lower one (A05)."""

from __future__ import annotations

from typing import Any

from ..connection import Route, endpoint
from ..incoming import Outcome
from .state import State201

__all__ = ["NetworkProfiles"]

Payload = dict[str, Any]
PRIORITY = "OCPPCommCtrlr.NetworkConfigurationPriority"
ATTEMPTS = "OCPPCommCtrlr.NetworkProfileConnectionAttempts"


class NetworkProfiles:
    """Handler (`op_SetNetworkProfile`) of the profiles, and the connection by priority."""

    __slots__ = ("_installed", "profiles", "state", "station")

    def __init__(self, state: State201) -> None:
        self.state = state
        self.station = state.station
        self._installed: Route | None = None  # slot 0, read when first needed
        self.profiles: dict[int, Payload] = {}  # slot -> connectionData, as the CSMS set it

    def _slot_zero(self) -> Route:
        if self._installed is None:
            self._installed = self.station.route()
        return self._installed

    def offered(self) -> tuple[str, ...]:
        """The configuration slots this station has (the priority's values list)."""
        values = self.state.model.resolve(PRIORITY).values_list
        return values or ("0",)

    async def op_SetNetworkProfile(self, p: Payload, outcome: Outcome) -> Payload:
        slot, data = p["configurationSlot"], p["connectionData"]
        self._slot_zero()  # the installed profile, before any other is used
        problem = self._problem(slot, data)
        if problem is not None:
            self.station.explain(f"SetNetworkProfile Rejected: {problem}")
            return {"status": "Rejected"}
        self.profiles[slot] = data
        return {"status": "Accepted"}

    def _problem(self, slot: int, data: Payload) -> str | None:
        """Why the station cannot keep `data` in `slot` (None: it can)."""
        if str(slot) not in self.offered():
            return f"slot {slot} is not one of {','.join(self.offered())}"
        if slot == self.station.route().slot:
            return f"slot {slot} is in use"
        if data["ocppVersion"] != "OCPP20" or data["ocppTransport"] != "JSON":
            return "it speaks OCPP 2.0.1 over JSON only (OCPP20, JSON)"
        profile = data["securityProfile"]
        current = self.station.security().profile
        if profile < current:
            return f"security profile {profile} is lower than the current {current} (A05)"
        url = endpoint(data["ocppCsmsUrl"], self.state.identity)
        scheme = "wss://" if profile >= 2 else "ws://"
        if not url.startswith(scheme):
            return f"security profile {profile} connects to a {scheme} URL"
        if profile >= 2 and self.station.target(profile) is None:
            return f"no certificates for security profile {profile}"
        return None

    def route(self, slot: int) -> Route | None:
        """The way to connect by `slot`; None when it holds no profile."""
        data = self.profiles.get(slot)
        if data is None:
            return self._slot_zero() if slot == 0 else None
        profile = data["securityProfile"]
        target = self.station.target(profile) if profile >= 2 else None
        context = target.ssl_context if target is not None else None
        return Route(data["ocppCsmsUrl"], profile, context, slot)

    def rebooting(self) -> None:
        """At a reboot: connect by the priority from now on, once the CSMS set a profile."""
        if not self.profiles:
            return  # as installed
        slots = [int(s) for s in self.state.model.get_list(PRIORITY) if s.isdigit()]
        routes = [route for route in map(self.route, slots) if route is not None]
        if routes:
            self.station.use_routes(routes, self.state.model.get_int(ATTEMPTS))
