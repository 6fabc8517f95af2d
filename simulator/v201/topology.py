"""The parts of a 2.0.1 station: EVSEs, each with its connectors (one used at a time), its
meter and its transaction; the connector statuses of 2.0.1 (Available, Occupied, Reserved,
Unavailable, Faulted) and where a connector rests."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from ..meter import EV, Meter

__all__ = ["Authorization", "Connector201", "Evse", "Reservation201", "Status", "Transaction201"]

Payload = dict[str, Any]


class Status(StrEnum):
    AVAILABLE = "Available"
    OCCUPIED = "Occupied"
    RESERVED = "Reserved"
    UNAVAILABLE = "Unavailable"
    FAULTED = "Faulted"


@dataclass(slots=True)
class Authorization:
    """An idToken that may charge at an EVSE: authorized, or to be, for a remote start."""

    id_token: Payload  # {"idToken": ..., "type": ...}
    info: Payload  # the idTokenInfo it was accepted with
    remote_start_id: int | None = None
    profile: Payload | None = None  # a remote start's TxProfile, for its transaction


@dataclass(slots=True)
class Reservation201:
    """An EVSE kept for one idToken (or its group) until `expiry`."""

    reservation_id: int
    id_token: Payload
    expiry: datetime
    group_id_token: str | None = None

    def admits(self, token: Payload, group: str | None) -> bool:
        same = (token["idToken"], token["type"]) == (
            self.id_token["idToken"],
            self.id_token["type"],
        )
        return same or (self.group_id_token is not None and group == self.group_id_token)


@dataclass(slots=True, eq=False)
class Transaction201:
    """A transaction as the station runs it; its id is the station's own."""

    transaction_id: str
    evse_id: int
    started_at: datetime
    id_token: Payload | None = None
    group_id_token: str | None = None
    remote_start_id: int | None = None
    reservation_id: int | None = None
    charging_state: str = "Idle"
    meter_start_wh: int = 0  # the register when it started
    stopped_reason: str | None = None  # decided; the Ended event may wait for the cable
    seq_no: int = 0  # the next TransactionEvent's
    charging_s: float = 0.0  # time spent charging, up to `charging_since`
    charging_since: float | None = None  # monotonic, while Charging
    ended_values: list[Payload] = field(default_factory=list)  # meterValues for Ended
    ended: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def id_tag(self) -> str:
        return str(self.id_token["idToken"]) if self.id_token else ""

    def next_seq(self) -> int:
        """seqNo starts at 0 with each transaction and counts every event of it."""
        number, self.seq_no = self.seq_no, self.seq_no + 1
        return number


@dataclass(slots=True, eq=False)
class Evse:
    """One EVSE: its connectors, meter, EV, transaction, authorization and availability."""

    evse_id: int
    meter: Meter
    connectors: list[Connector201] = field(default_factory=list)
    transaction: Transaction201 | None = None
    authorization: Authorization | None = None
    ev: EV | None = None
    operative: bool = True
    scheduled_operative: bool | None = None  # ChangeAvailability waiting for the transaction
    reset_scheduled: bool = False  # an OnIdle Reset of this EVSE, waiting for it
    suspended_by_ev: bool = False
    suspended_by_evse: bool = False
    ev_detected: bool = False  # the parking bay is occupied
    reservation: Reservation201 | None = None
    firmware_hold: bool = False  # Unavailable once idle, until a firmware update ends

    @property
    def plugged(self) -> Connector201 | None:
        """The connector with a cable in."""
        return next((c for c in self.connectors if c.plugged), None)

    @property
    def faulted(self) -> bool:
        return any(c.faulted for c in self.connectors)


@dataclass(slots=True, eq=False)
class Connector201:
    """One connector of an EVSE, by its number on the station and its id on the EVSE."""

    number: int
    evse: Evse
    connector_id: int
    plugged: bool = False
    faulted: bool = False
    operative: bool = True
    scheduled_operative: bool | None = None
    status: Status = Status.AVAILABLE
    reported: Status | None = None  # last status the CSMS was told
    _changed: asyncio.Event | None = None  # made only while someone waits

    @property
    def evse_id(self) -> int:
        return self.evse.evse_id

    @property
    def meter(self) -> Meter:
        return self.evse.meter

    @property
    def transaction(self) -> Transaction201 | None:
        return self.evse.transaction

    def status_changed(self) -> asyncio.Event:
        if self._changed is None:
            self._changed = asyncio.Event()
        return self._changed

    def set_status(self, target: Status) -> bool:
        """True when the status changed."""
        if target == self.status:
            return False
        self.status = target
        if self._changed is not None:
            self._changed.set()
            self._changed = None
        return True

    def resting_status(self) -> Status:
        """Where the connector settles: Faulted; Unavailable out of service, held for a
        firmware update (once no transaction runs there) or while another connector of its
        EVSE is in use; Occupied with a cable in; Reserved; Available."""
        evse = self.evse
        if self.faulted:
            return Status.FAULTED
        if not (evse.operative and self.operative):
            return Status.UNAVAILABLE
        if evse.firmware_hold and evse.transaction is None:
            return Status.UNAVAILABLE
        if self.plugged:
            return Status.OCCUPIED
        if evse.plugged is not None:
            return Status.UNAVAILABLE
        if evse.reservation is not None:
            return Status.RESERVED
        return Status.AVAILABLE
