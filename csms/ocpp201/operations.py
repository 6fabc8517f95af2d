"""OCPP 2.0.1's CSMS-initiated actions: which the CSMS may send, by functional block, and what
the station's answer to each changes in the CSMS's state: the device model (and the station's
password, SecurityCtrlr.BasicAuthPassword), reservations, charging profiles, the local list
version, and requests (recorded as charger events; the station's notifications report their
progress)."""

from __future__ import annotations

from typing import Any

import orjson

from ocppj.timestamps import normal

from ..domain import Variable
from ..services import Services
from .mapping import id_tag, variable

Payload = dict[str, Any]

REDACTED = "***"  # what the message log and the device model keep of a BasicAuthPassword
PASSWORD = ("SecurityCtrlr", "BasicAuthPassword")

# Every action a CSMS may send in OCPP 2.0.1, by functional block (part 2).
ACTIONS_BY_BLOCK: dict[str, tuple[str, ...]] = {
    "Provisioning": (
        "GetBaseReport",
        "GetReport",
        "GetVariables",
        "Reset",
        "SetNetworkProfile",
        "SetVariables",
    ),
    "Authorization": ("ClearCache",),
    "LocalAuthorizationListManagement": ("GetLocalListVersion", "SendLocalList"),
    "Transactions": ("GetTransactionStatus",),
    "RemoteControl": (
        "RequestStartTransaction",
        "RequestStopTransaction",
        "TriggerMessage",
        "UnlockConnector",
    ),
    "Availability": ("ChangeAvailability",),
    "Reservation": ("CancelReservation", "ReserveNow"),
    "TariffAndCost": ("CostUpdated",),
    "MeterValues": (),
    "SmartCharging": (
        "ClearChargingProfile",
        "GetChargingProfiles",
        "GetCompositeSchedule",
        "SetChargingProfile",
    ),
    "FirmwareManagement": ("PublishFirmware", "UnpublishFirmware", "UpdateFirmware"),
    "ISO15118CertificateManagement": (
        "CertificateSigned",
        "DeleteCertificate",
        "GetInstalledCertificateIds",
        "InstallCertificate",
    ),
    "Diagnostics": (
        "ClearVariableMonitoring",
        "CustomerInformation",
        "GetLog",
        "GetMonitoringReport",
        "SetMonitoringBase",
        "SetMonitoringLevel",
        "SetVariableMonitoring",
    ),
    "DisplayMessage": ("ClearDisplayMessage", "GetDisplayMessages", "SetDisplayMessage"),
    "DataTransfer": ("DataTransfer",),
}
CSMS_ACTIONS: dict[str, str] = {
    action: block for block, actions in ACTIONS_BY_BLOCK.items() for action in actions
}

_REQUEST_EVENTS = {
    action: f"{action}Requested"
    for action in (
        "UpdateFirmware",
        "PublishFirmware",
        "UnpublishFirmware",
        "GetLog",
        "Reset",
        "ChangeAvailability",
        "ClearCache",
        "InstallCertificate",
        "DeleteCertificate",
        "GetBaseReport",
        "GetReport",
        "GetMonitoringReport",
        "CustomerInformation",
        "SetNetworkProfile",
        "RequestStartTransaction",
        "RequestStopTransaction",
        "TriggerMessage",
    )
}
_REQUEST_EVENTS["CertificateSigned"] = "CertificateSignedSent"
_ACCEPTED = ("Accepted", "RebootRequired")


def is_password(data: Payload) -> bool:
    """Whether a SetVariableData (or its result) is the station's Basic Auth password."""
    return (data["component"]["name"], data["variable"]["name"]) == PASSWORD


def _set_variables(request: Payload, result: Payload) -> tuple[list[Variable], str | None]:
    """The variables a SetVariables changed, and the new password if it is one of them."""
    values: dict[tuple[bytes, bytes, str], Payload] = {}
    for data in request["setVariableData"]:
        key = (orjson.dumps(data["component"]), orjson.dumps(data["variable"]))
        values[(*key, data.get("attributeType", "Actual"))] = data
    changed: list[Variable] = []
    password: str | None = None
    for item in result.get("setVariableResult", []):
        if item["attributeStatus"] not in _ACCEPTED:
            continue
        attribute = item.get("attributeType", "Actual")
        key = (orjson.dumps(item["component"]), orjson.dumps(item["variable"]))
        data = values.get((*key, attribute))
        if data is None:
            continue
        value = data["attributeValue"]
        if is_password(data):
            if item["attributeStatus"] == "Accepted":
                password = value
            value = REDACTED
        found = variable(item["component"], item["variable"], value=value, attribute=attribute)
        changed.append(found)
    return changed, password


def _got_variables(result: Payload) -> list[Variable]:
    return [
        variable(
            item["component"],
            item["variable"],
            value=item.get("attributeValue"),
            attribute=item.get("attributeType", "Actual"),
        )
        for item in result.get("getVariableResult", [])
        if item["attributeStatus"] == "Accepted"
    ]


async def keep_profile(services: Services, charger_id: str, evse_id: int, profile: Payload) -> None:
    """A ChargingProfileType the station has on `evse_id`, as the CSMS keeps it."""
    await services.charging_profiles.put(
        charger_id,
        evse_id,
        profile["id"],
        profile["stackLevel"],
        profile["chargingProfilePurpose"],
        None,  # 2.0.1's transactionId is the station's string: kept in the profile itself
        orjson.dumps(profile).decode(),
    )


async def record(
    services: Services, charger_id: str, action: str, request: Payload, result: Payload
) -> None:
    """Bring the CSMS's state in line with a request the station answered with `result`."""
    status = result.get("status")
    chargers = services.chargers
    if action == "SetVariables":
        changed, password = _set_variables(request, result)
        if password is not None:
            await chargers.set_password(charger_id, password)
        await services.device_model.put(charger_id, changed)
    elif action == "GetVariables":
        await services.device_model.put(charger_id, _got_variables(result))
    elif action == "ReserveNow" and status == "Accepted":
        await services.reservations.put(
            charger_id,
            request["id"],
            request.get("evseId", 0),
            id_tag(request["idToken"]) or "",
            normal(request["expiryDateTime"]),
            id_tag(request.get("groupIdToken")),
        )
    elif action == "CancelReservation" and status == "Accepted":
        await services.reservations.set_status(charger_id, request["reservationId"], "Cancelled")
    elif action == "SetChargingProfile" and status == "Accepted":
        await keep_profile(services, charger_id, request["evseId"], request["chargingProfile"])
    elif action == "ClearChargingProfile" and status == "Accepted":
        criteria = request.get("chargingProfileCriteria", {})
        await services.charging_profiles.clear(
            charger_id,
            profile_id=request.get("chargingProfileId"),
            connector_id=criteria.get("evseId"),
            purpose=criteria.get("chargingProfilePurpose"),
            stack_level=criteria.get("stackLevel"),
        )
    elif action == "SendLocalList" and status == "Accepted":
        await chargers.update(charger_id, local_list_version=request["versionNumber"])
    elif action == "GetLocalListVersion":
        await chargers.update(charger_id, local_list_version=result["versionNumber"])
    elif action == "SetNetworkProfile" and status == "Accepted":  # A05: admitted so too
        await chargers.offer_profile(charger_id, request["connectionData"]["securityProfile"])
    kind = _REQUEST_EVENTS.get(action)
    if kind is not None:
        await chargers.add_event(charger_id, kind, status, {"request": request, "response": result})
