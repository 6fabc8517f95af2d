"""OCPP 1.6 payloads as the domain's types (`csms.domain`), and back."""

from __future__ import annotations

from typing import Any

from ..domain import Boot, Sample, StatusChange, TransactionEnd, TransactionStart
from ..services import TagInfo

Payload = dict[str, Any]


def boot(payload: Payload) -> Boot:
    """A BootNotification.req."""
    return Boot(
        vendor=payload["chargePointVendor"],
        model=payload["chargePointModel"],
        serial_number=payload.get("chargePointSerialNumber"),
        charge_box_serial=payload.get("chargeBoxSerialNumber"),
        firmware_version=payload.get("firmwareVersion"),
        iccid=payload.get("iccid"),
        imsi=payload.get("imsi"),
        meter_type=payload.get("meterType"),
        meter_serial=payload.get("meterSerialNumber"),
    )


def status_change(payload: Payload) -> StatusChange:
    """A StatusNotification.req."""
    return StatusChange(
        connector_id=payload["connectorId"],
        status=payload["status"],
        error_code=payload["errorCode"],
        info=payload.get("info"),
        vendor_id=payload.get("vendorId"),
        vendor_error_code=payload.get("vendorErrorCode"),
        timestamp=payload.get("timestamp"),
    )


def transaction_start(payload: Payload) -> TransactionStart:
    """A StartTransaction.req."""
    return TransactionStart(
        connector_id=payload["connectorId"],
        id_tag=payload["idTag"],
        meter_start=payload["meterStart"],
        timestamp=payload["timestamp"],
        reservation_id=payload.get("reservationId"),
    )


def transaction_end(payload: Payload) -> TransactionEnd:
    """A StopTransaction.req, with the samples of its transactionData."""
    return TransactionEnd(
        transaction_id=payload["transactionId"],
        meter_stop=payload["meterStop"],
        timestamp=payload["timestamp"],
        reason=payload.get("reason", "Local"),
        id_tag=payload.get("idTag"),
        samples=tuple(samples(payload.get("transactionData", []))),
    )


def samples(meter_value: list[Payload]) -> list[Sample]:
    """MeterValue entries (a MeterValues.req's meterValue, a StopTransaction.req's
    transactionData): each sampled value with its entry's timestamp."""
    return [
        Sample(
            entry["timestamp"],
            sample["value"],
            sample.get("measurand", "Energy.Active.Import.Register"),
            sample.get("unit"),
            sample.get("phase"),
            sample.get("location"),
            sample.get("context"),
            sample.get("format"),
        )
        for entry in meter_value
        for sample in entry.get("sampledValue", [])
    ]


def id_tag_info(info: TagInfo) -> Payload:
    """The verdict on a tag as 1.6's IdTagInfo."""
    out: Payload = {"status": info.status}
    if info.expiry_date:
        out["expiryDate"] = info.expiry_date
    if info.parent_id_tag:
        out["parentIdTag"] = info.parent_id_tag
    return out
