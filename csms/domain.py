"""What the CSMS's services and store take and return, in no OCPP version's words.

A version's adapter (`csms/ocpp16/mapping.py` for 1.6) turns its payloads into these; the
services decide on them and the store keeps them under its own column names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

# 1.6 numbers its transactions (the CSMS picks an integer); 2.0.1's are strings the charger
# picks (`TransactionEvent.transaction_id`), kept beside the integer record number.
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
    """A connector's new status (connector 0: the charger as a whole; `evse_id` 0: a 1.6
    connector, under no EVSE)."""

    connector_id: int
    status: str
    error_code: str | None  # None: the version reports none (2.0.1)
    info: str | None = None
    vendor_id: str | None = None
    vendor_error_code: str | None = None
    timestamp: str | None = None  # when the charger saw it, as it said
    evse_id: int = 0


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


@dataclass(frozen=True, slots=True)
class TransactionStart:
    """A transaction begun on a connector, which the CSMS numbers (1.6's StartTransaction)."""

    connector_id: int
    id_tag: str
    meter_start: int  # Wh
    timestamp: str
    reservation_id: int | None = None


@dataclass(frozen=True, slots=True)
class TransactionEnd:
    """The end of a transaction the CSMS numbered, with the samples sent at its end."""

    transaction_id: int
    meter_stop: int  # Wh
    timestamp: str
    reason: str
    id_tag: str | None = None
    samples: tuple[Sample, ...] = ()


@dataclass(frozen=True, slots=True)
class TransactionEvent:
    """One report on a transaction its station numbers (2.0.1's TransactionEvent). The first
    the CSMS receives opens the record, whatever its kind (events sent offline come late);
    one of kind Ended closes it. `seq_no` orders them and tells a retry from a new one."""

    transaction_id: str  # the station's
    seq_no: int
    kind: str  # Started | Updated | Ended
    timestamp: str
    trigger: str
    offline: bool = False
    evse_id: int | None = None
    connector_id: int | None = None
    id_tag: str | None = None
    token_type: str | None = None  # the id token's type
    charging_state: str | None = None
    stop_reason: str | None = None
    remote_start_id: int | None = None
    reservation_id: int | None = None
    samples: tuple[Sample, ...] = ()


@dataclass(frozen=True, slots=True)
class Variable:
    """One attribute of a variable of a station's device model (2.0.1's components and
    variables); EVSE and connector 0: not of one."""

    component: str
    variable: str
    value: str | None = None
    attribute: str = "Actual"  # Actual | Target | MinSet | MaxSet
    component_instance: str = ""
    variable_instance: str = ""
    evse_id: int = 0
    connector_id: int = 0
    mutability: str | None = None
    characteristics: dict[str, Any] | None = None  # unit, dataType, limits, ... (JSON-able)


@dataclass(frozen=True, slots=True)
class CustomerPart:
    """One part of what a station keeps of a customer (2.0.1's NotifyCustomerInformation):
    parts share `request_id`, count up from 0 in `seq_no`, `more` when another follows."""

    request_id: int
    seq_no: int
    more: bool
    generated_at: str
    data: str


@dataclass(frozen=True, slots=True)
class ReportPart:
    """One part of a report of a station's device model (2.0.1's NotifyReport): parts share
    `request_id`, count up from 0 in `seq_no`, and `more` says whether another follows."""

    request_id: int
    seq_no: int
    more: bool
    generated_at: str
    variables: tuple[Variable, ...] = ()
