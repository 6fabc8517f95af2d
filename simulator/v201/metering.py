"""Meter readings as OCPP 2.0.1 writes them: sampledValue entries (a number, its unit of
measure, measurand, context and location), optionally signed, in the meterValue of a
TransactionEvent or a MeterValues request."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from ..meter import Meter
from .variables import MEASURANDS

__all__ = ["meter_value", "sampled_values"]

Payload = dict[str, Any]
_KNOWN = frozenset(MEASURANDS)


def _signed(identity: str, measurand: str, value: float, stamp: str) -> Payload:
    """A signed meter value: the reading and a digest of it (no real meter key in a
    simulator; the structure is what a CSMS parses)."""
    data = json.dumps({"id": identity, "m": measurand, "v": value, "t": stamp}).encode()
    return {
        "signedMeterData": base64.b64encode(data).decode(),
        "signingMethod": "SHA256",
        "encodingMethod": "OCMF",
        "publicKey": base64.b64encode(hashlib.sha256(identity.encode()).digest()).decode(),
    }


def sampled_values(
    meter: Meter,
    measurands: list[str],
    context: str,
    *,
    signed_by: str | None = None,
    stamp: str = "",
) -> list[Payload]:
    """The sampledValue list for `measurands` now (those the meter does not measure, or
    2.0.1 does not know, are left out); signed by `signed_by` when given."""
    readings = meter.readings()
    out: list[Payload] = []
    for name in measurands:
        if name not in readings or name not in _KNOWN:
            continue
        value, unit, location = readings[name]
        number: float = round(value) if unit in ("Wh", "W", "Percent") else round(value, 1)
        entry: Payload = {
            "value": number,
            "context": context,
            "measurand": name,
            "location": location,
        }
        if unit:
            entry["unitOfMeasure"] = {"unit": unit}
        if signed_by is not None:
            entry["signedMeterValue"] = _signed(signed_by, name, number, stamp)
        out.append(entry)
    return out


def meter_value(
    meter: Meter,
    measurands: list[str],
    context: str,
    stamp: str,
    signed_by: str | None = None,
) -> Payload | None:
    """One meterValue at `stamp`; None when there is nothing to sample."""
    values = sampled_values(meter, measurands, context, signed_by=signed_by, stamp=stamp)
    return {"timestamp": stamp, "sampledValue": values} if values else None
