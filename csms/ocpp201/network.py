"""A 2.0.1 station's security profile upgrade as the CSMS follows it (A05): SetNetworkProfile
puts a profile of a higher security profile in a slot, SetVariables puts that slot first in
OCPPCommCtrlr.NetworkConfigurationPriority, and Reset makes the station connect by it. Once
the Reset is accepted the charger is registered with its new security profile, so the CSMS
admits its reconnect there and refuses the lower one from then on (as 1.6's SecurityProfile
key does)."""

from __future__ import annotations

import orjson

from ..services import Services

__all__ = ["follow_reset"]


async def _first_slot(services: Services, charger_id: str) -> int | None:
    """The first slot of the priority the station accepted, if the CSMS set one."""
    for row in await services.device_model.variables(charger_id):
        if (row["component"].lower(), row["variable"].lower()) != (
            "ocppcommctrlr",
            "networkconfigurationpriority",
        ) or row["attribute"] != "Actual":
            continue
        first = str(row["value"] or "").split(",")[0].strip()
        return int(first) if first.isdigit() else None
    return None


async def _profile_in(services: Services, charger_id: str, slot: int) -> int | None:
    """The security profile of the last profile the station accepted into `slot`."""
    events = await services.chargers.events(charger_id, "SetNetworkProfileRequested")
    for event in reversed(events):
        if event["detail"] != "Accepted" or not event["payload"]:
            continue
        request = orjson.loads(event["payload"])["request"]
        if request["configurationSlot"] == slot:
            profile: int = request["connectionData"]["securityProfile"]
            return profile
    return None


async def follow_reset(services: Services, charger_id: str) -> None:
    """The station accepted a Reset of itself: it reconnects by its priority. A first slot
    of a higher security profile than the registry's moves the charger to that profile."""
    slot = await _first_slot(services, charger_id)
    if slot is None:
        return
    profile = await _profile_in(services, charger_id, slot)
    row = await services.chargers.get(charger_id)
    if profile is None or row is None or profile <= (row["security_profile"] or 1):
        return
    await services.chargers.update(charger_id, security_profile=profile)
    await services.chargers.add_event(
        charger_id, "SecurityProfileUpgraded", str(profile), {"slot": slot}
    )
