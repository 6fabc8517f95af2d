"""OCPP 2.0.1 payloads as the domain's types (`csms.domain`), and back."""

from __future__ import annotations

from typing import Any

from ..domain import (
    Boot,
    CustomerPart,
    ReportPart,
    Sample,
    StatusChange,
    TransactionEvent,
    Variable,
)
from ..services import TagInfo

Payload = dict[str, Any]

NO_AUTHORIZATION = "NoAuthorization"  # an idToken type that names no one
GROUP_TOKEN_TYPE = "Central"  # a group's token type when the registry has none for it


def boot(payload: Payload) -> Boot:
    """A BootNotificationRequest."""
    station = payload["chargingStation"]
    modem = station.get("modem", {})
    return Boot(
        vendor=station["vendorName"],
        model=station["model"],
        serial_number=station.get("serialNumber"),
        firmware_version=station.get("firmwareVersion"),
        iccid=modem.get("iccid"),
        imsi=modem.get("imsi"),
    )


def status_change(payload: Payload) -> StatusChange:
    """A StatusNotificationRequest: a connector of an EVSE."""
    return StatusChange(
        connector_id=payload["connectorId"],
        status=payload["connectorStatus"],
        error_code=None,
        timestamp=payload["timestamp"],
        evse_id=payload["evseId"],
    )


def id_tag(token: Payload | None) -> str | None:
    """The registry's key of an IdTokenType; None for none, or one of type NoAuthorization."""
    if token is None or token["type"] == NO_AUTHORIZATION:
        return None
    value: str = token["idToken"]
    return value


def samples(meter_value: list[Payload]) -> list[Sample]:
    """MeterValueType entries: each sampled value with its entry's timestamp, its value scaled
    by its unit's multiplier (the store keeps values as the unit reads them)."""
    found = []
    for entry in meter_value:
        for sample in entry["sampledValue"]:
            unit = sample.get("unitOfMeasure", {})
            multiplier = unit.get("multiplier", 0)
            value = sample["value"] * 10**multiplier if multiplier else sample["value"]
            found.append(
                Sample(
                    entry["timestamp"],
                    str(value),
                    sample.get("measurand", "Energy.Active.Import.Register"),
                    unit.get("unit", "Wh"),
                    sample.get("phase"),
                    sample.get("location"),
                    sample.get("context"),
                    "SignedData" if "signedMeterValue" in sample else None,
                )
            )
    return found


def transaction_event(payload: Payload) -> TransactionEvent:
    """A TransactionEventRequest."""
    info = payload["transactionInfo"]
    evse = payload.get("evse", {})
    return TransactionEvent(
        transaction_id=info["transactionId"],
        seq_no=payload["seqNo"],
        kind=payload["eventType"],
        timestamp=payload["timestamp"],
        trigger=payload["triggerReason"],
        offline=payload.get("offline", False),
        evse_id=evse.get("id"),
        connector_id=evse.get("connectorId"),
        id_tag=id_tag(payload.get("idToken")),
        token_type=payload.get("idToken", {}).get("type"),
        charging_state=info.get("chargingState"),
        stop_reason=info.get("stoppedReason"),
        remote_start_id=info.get("remoteStartId"),
        reservation_id=payload.get("reservationId"),
        samples=tuple(samples(payload.get("meterValue", []))),
    )


def variable(component: Payload, variable: Payload, **fields: Any) -> Variable:
    """A ComponentType and VariableType, with the attribute's fields."""
    evse = component.get("evse", {})
    return Variable(
        component=component["name"],
        variable=variable["name"],
        component_instance=component.get("instance", ""),
        variable_instance=variable.get("instance", ""),
        evse_id=evse.get("id", 0),
        connector_id=evse.get("connectorId", 0),
        **fields,
    )


def customer_part(payload: Payload) -> CustomerPart:
    """A NotifyCustomerInformationRequest."""
    return CustomerPart(
        request_id=payload["requestId"],
        seq_no=payload["seqNo"],
        more=bool(payload.get("tbc", False)),
        generated_at=payload["generatedAt"],
        data=payload["data"],
    )


def report_part(payload: Payload) -> ReportPart:
    """A NotifyReportRequest: one variable per attribute of each reportData."""
    variables = []
    for data in payload.get("reportData", []):
        characteristics = data.get("variableCharacteristics")
        for attribute in data["variableAttribute"]:
            variables.append(
                variable(
                    data["component"],
                    data["variable"],
                    value=attribute.get("value"),
                    attribute=attribute.get("type", "Actual"),
                    mutability=attribute.get("mutability", "ReadWrite"),
                    characteristics=characteristics,
                )
            )
    return ReportPart(
        request_id=payload["requestId"],
        seq_no=payload["seqNo"],
        more=payload.get("tbc", False),
        generated_at=payload["generatedAt"],
        variables=tuple(variables),
    )


def id_token_info(info: TagInfo) -> Payload:
    """The verdict on a token as 2.0.1's IdTokenInfoType (its group as groupIdToken)."""
    out: Payload = {"status": info.status}
    if info.expiry_date:
        out["cacheExpiryDateTime"] = info.expiry_date
    if info.parent_id_tag:
        group_type = info.parent_token_type or GROUP_TOKEN_TYPE
        out["groupIdToken"] = {"idToken": info.parent_id_tag, "type": group_type}
    return out
