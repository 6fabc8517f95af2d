"""CSMS-initiated operations: send one to a charger and keep the CSMS's state in step.

`Operations.send()` is what the HTTP API (and any script) uses to make the CSMS act. It checks
that the action is one the CSMS may initiate, sends it (the payload is validated against the
OCPP schema before anything leaves) and, once the charger answered, records what changed:
configuration, the charger's password, reservations, charging profiles, the local list
version, and requests for firmware updates, diagnostics and logs.

Errors, for the caller to map: `UnknownCharger`, `UnknownAction`, `ChargerNotConnected`, and
from the RPC layer `OcppError` (our payload breaks the schema), `CallErrorReceived`,
`InvalidResponse`, `CallTimeout`, `ConnectionLost`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from ocppj import V16, CallTimeout

from .ocpp16 import REDACTED
from .services import Services
from .services.validation import utc_iso

log = logging.getLogger(__name__)

Payload = dict[str, Any]
Caller = Callable[[str, str, Payload, float | None], Awaitable[Payload]]

# Every action a central system may send in OCPP 1.6, by feature profile.
PROFILES: dict[str, tuple[str, ...]] = {
    "Core": (
        "ChangeAvailability",
        "ChangeConfiguration",
        "ClearCache",
        "DataTransfer",
        "GetConfiguration",
        "RemoteStartTransaction",
        "RemoteStopTransaction",
        "Reset",
        "UnlockConnector",
    ),
    "FirmwareManagement": ("GetDiagnostics", "UpdateFirmware"),
    "LocalAuthListManagement": ("GetLocalListVersion", "SendLocalList"),
    "Reservation": ("CancelReservation", "ReserveNow"),
    "SmartCharging": ("ClearChargingProfile", "GetCompositeSchedule", "SetChargingProfile"),
    "RemoteTrigger": ("TriggerMessage",),
    "Security": (
        "CertificateSigned",
        "DeleteCertificate",
        "ExtendedTriggerMessage",
        "GetInstalledCertificateIds",
        "GetLog",
        "InstallCertificate",
        "SignedUpdateFirmware",
    ),
}
CSMS_ACTIONS: dict[str, str] = {
    action: profile for profile, actions in PROFILES.items() for action in actions
}

# Requests whose sending the CSMS records as a charger event (the charger's later
# notifications report their progress).
_REQUEST_EVENTS = {
    "UpdateFirmware": "UpdateFirmwareRequested",
    "SignedUpdateFirmware": "SignedUpdateFirmwareRequested",
    "GetDiagnostics": "GetDiagnosticsRequested",
    "GetLog": "GetLogRequested",
    "Reset": "ResetRequested",
    "ChangeAvailability": "ChangeAvailabilityRequested",
    "ClearCache": "ClearCacheRequested",
    "InstallCertificate": "InstallCertificateRequested",
    "DeleteCertificate": "DeleteCertificateRequested",
    "CertificateSigned": "CertificateSignedSent",
}
_ACCEPTED = ("Accepted", "RebootRequired")


class ChargerNotConnected(LookupError):
    def __init__(self, charger_id: str) -> None:
        self.charger_id = charger_id
        super().__init__(f"Charger {charger_id} is not connected")


class UnknownCharger(LookupError):
    def __init__(self, charger_id: str) -> None:
        self.charger_id = charger_id
        super().__init__(f"Unknown charger {charger_id}")


class UnknownAction(LookupError):
    """Not an action the CSMS may send; `known` tells whether OCPP 1.6 defines it at all."""

    def __init__(self, action: str, known: bool) -> None:
        self.action = action
        self.known = known
        reason = (
            f"{action} is initiated by the charge point, not the CSMS"
            if known
            else f"{action} is not an OCPP 1.6 action"
        )
        super().__init__(reason)


class Operations:
    """Send CSMS-initiated calls through `call` and record their outcome in the store."""

    def __init__(self, services: Services, call: Caller) -> None:
        self.services = services
        self._call = call

    @staticmethod
    def check_action(action: str) -> None:
        if action not in CSMS_ACTIONS:
            raise UnknownAction(action, action in V16.actions)

    async def send(
        self, charger_id: str, action: str, payload: Payload, timeout: float | None = None
    ) -> Payload:
        self.check_action(action)
        if await self.services.chargers.get(charger_id) is None:
            raise UnknownCharger(charger_id)
        limit = self.services.config.call_timeout if timeout is None else timeout
        try:
            # The deadline covers the wait behind another CALL to the same charger (OCPP-J
            # allows one at a time), not only the wait for this CALL's answer.
            async with asyncio.timeout(limit):
                result = await self._call(charger_id, action, payload, limit)
        except CallTimeout:
            raise
        except TimeoutError as exc:
            raise CallTimeout(action, limit) from exc
        await self.record(charger_id, action, payload, result)
        return result

    async def record(self, charger_id: str, action: str, request: Payload, result: Payload) -> None:
        """Bring the CSMS's state in line with a request the charger answered with `result`."""
        status = result.get("status")
        services = self.services
        chargers = services.chargers
        if action == "ChangeConfiguration" and status in _ACCEPTED:
            key, value = request["key"], request["value"]
            if key == "AuthorizationKey":
                if status == "Accepted":
                    await chargers.set_password(charger_id, value)
                value = REDACTED
            elif key == "SecurityProfile" and value.isdigit():
                # the charger reconnects with the new profile; the old one is refused from now
                await chargers.update(charger_id, security_profile=int(value))
            await chargers.set_configuration(charger_id, [(key, value, False)])
        elif action == "GetConfiguration":
            items = [
                (item["key"], item.get("value"), bool(item.get("readonly", False)))
                for item in result.get("configurationKey", [])
            ]
            if items:
                await chargers.set_configuration(charger_id, items)
        elif action == "ReserveNow" and status == "Accepted":
            await services.reservations.put(
                charger_id,
                request["reservationId"],
                request["connectorId"],
                request["idTag"],
                utc_iso(request["expiryDate"]),
                request.get("parentIdTag"),
            )
        elif action == "CancelReservation" and status == "Accepted":
            await services.reservations.set_status(
                charger_id, request["reservationId"], "Cancelled"
            )
        elif action == "SetChargingProfile" and status == "Accepted":
            profile = request["csChargingProfiles"]
            await services.charging_profiles.put(
                charger_id,
                request["connectorId"],
                profile["chargingProfileId"],
                profile["stackLevel"],
                profile["chargingProfilePurpose"],
                profile.get("transactionId"),
                orjson.dumps(profile).decode(),
            )
        elif action == "ClearChargingProfile" and status == "Accepted":
            await services.charging_profiles.clear(
                charger_id,
                profile_id=request.get("id"),
                connector_id=request.get("connectorId"),
                purpose=request.get("chargingProfilePurpose"),
                stack_level=request.get("stackLevel"),
            )
        elif action == "SendLocalList" and status == "Accepted":
            await chargers.update(charger_id, local_list_version=request["listVersion"])
        elif action == "GetLocalListVersion":
            await chargers.update(charger_id, local_list_version=result["listVersion"])
        kind = _REQUEST_EVENTS.get(action)
        if kind is not None:
            await chargers.add_event(
                charger_id, kind, status, {"request": request, "response": result}
            )
