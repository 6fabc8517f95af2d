"""OCPP 1.6's CSMS-initiated actions: which the CSMS may send, by feature profile, and what the
charger's answer to each changes in the CSMS's state: configuration, the charger's password
and security profile, reservations, charging profiles, the local list version, and requests
for firmware updates, diagnostics and logs (recorded as charger events)."""

from __future__ import annotations

from typing import Any

import orjson

from ocppj.timestamps import normal

from ..services import Services

Payload = dict[str, Any]

REDACTED = "***"  # what the message log and the configuration keep of an AuthorizationKey

# Every action a central system may send in OCPP 1.6, by feature profile.
ACTIONS_BY_FEATURE_PROFILE: dict[str, tuple[str, ...]] = {
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
    action: profile for profile, actions in ACTIONS_BY_FEATURE_PROFILE.items() for action in actions
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


async def record(
    services: Services, charger_id: str, action: str, request: Payload, result: Payload
) -> None:
    """Bring the CSMS's state in line with a request the charger answered with `result`."""
    status = result.get("status")
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
            normal(request["expiryDate"]),
            request.get("parentIdTag"),
        )
    elif action == "CancelReservation" and status == "Accepted":
        await services.reservations.set_status(charger_id, request["reservationId"], "Cancelled")
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
        await chargers.add_event(charger_id, kind, status, {"request": request, "response": result})
