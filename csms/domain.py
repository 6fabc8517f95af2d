"""What the CSMS's services and store take and return, in no OCPP version's words.

A version's adapter (`csms/ocpp16/mapping.py` for 1.6) turns its payloads into these; the
services decide on them and the store keeps them under its own column names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

# 1.6 numbers its transactions (the CSMS picks an integer); 2.0.1's are strings the charger picks.
TransactionId = int | str


@dataclass(frozen=True, slots=True)
class Boot:
    """What a charger says of itself when it boots; None: not said."""

    vendor: str
    model: str
    serial_number: str | None = None
    charge_box_serial: str | None = None
    firmware_version: str | None = None
    iccid: str | None = None
    imsi: str | None = None
    meter_type: str | None = None
    meter_serial: str | None = None


@dataclass(frozen=True, slots=True)
class StatusChange:
    """A connector's new status (connector 0: the charger as a whole)."""

    connector_id: int
    status: str
    error_code: str
    info: str | None = None
    vendor_id: str | None = None
    vendor_error_code: str | None = None
    timestamp: str | None = None  # when the charger saw it, as it said


class Sample(NamedTuple):
    """One sampled value of a meter reading (a tuple: there are many, on the hot path)."""

    timestamp: str
    value: str
    measurand: str
    unit: str | None = None
    phase: str | None = None
    location: str | None = None
    context: str | None = None
    format: str | None = None
