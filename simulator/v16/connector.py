"""Connectors and the OCPP 1.6 connector status state machine (spec section 4.9)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from ..errors import InvalidTransition
from ..meter import EV, Meter


class Status(StrEnum):
    AVAILABLE = "Available"
    PREPARING = "Preparing"
    CHARGING = "Charging"
    SUSPENDED_EV = "SuspendedEV"
    SUSPENDED_EVSE = "SuspendedEVSE"
    FINISHING = "Finishing"
    RESERVED = "Reserved"
    UNAVAILABLE = "Unavailable"
    FAULTED = "Faulted"


S = Status
# The transitions table of OCPP 1.6 section 4.9 (from -> allowed targets).
TRANSITIONS: dict[Status, frozenset[Status]] = {
    S.AVAILABLE: frozenset(
        {
            S.PREPARING,
            S.CHARGING,
            S.SUSPENDED_EV,
            S.SUSPENDED_EVSE,
            S.RESERVED,
            S.UNAVAILABLE,
            S.FAULTED,
        }
    ),
    S.PREPARING: frozenset(
        {S.AVAILABLE, S.CHARGING, S.SUSPENDED_EV, S.SUSPENDED_EVSE, S.FINISHING, S.FAULTED}
    ),
    S.CHARGING: frozenset(
        {S.AVAILABLE, S.SUSPENDED_EV, S.SUSPENDED_EVSE, S.FINISHING, S.UNAVAILABLE, S.FAULTED}
    ),
    S.SUSPENDED_EV: frozenset(
        {S.AVAILABLE, S.CHARGING, S.SUSPENDED_EVSE, S.FINISHING, S.UNAVAILABLE, S.FAULTED}
    ),
    S.SUSPENDED_EVSE: frozenset(
        {S.AVAILABLE, S.CHARGING, S.SUSPENDED_EV, S.FINISHING, S.UNAVAILABLE, S.FAULTED}
    ),
    S.FINISHING: frozenset({S.AVAILABLE, S.PREPARING, S.UNAVAILABLE, S.FAULTED}),
    S.RESERVED: frozenset({S.AVAILABLE, S.PREPARING, S.UNAVAILABLE, S.FAULTED}),
    S.UNAVAILABLE: frozenset(
        {S.AVAILABLE, S.PREPARING, S.CHARGING, S.SUSPENDED_EV, S.SUSPENDED_EVSE, S.FAULTED}
    ),
    S.FAULTED: frozenset(
        {
            S.AVAILABLE,
            S.PREPARING,
            S.CHARGING,
            S.SUSPENDED_EV,
            S.SUSPENDED_EVSE,
            S.FINISHING,
            S.RESERVED,
            S.UNAVAILABLE,
        }
    ),
}
CONNECTOR_ZERO = frozenset({S.AVAILABLE, S.UNAVAILABLE, S.FAULTED})


def check_transition(connector_id: int, current: Status, target: Status) -> None:
    """Raise InvalidTransition unless `current -> target` is allowed (same status is a no-op)."""
    if current == target:
        return
    if connector_id == 0 and target not in CONNECTOR_ZERO:
        raise InvalidTransition(0, current, target, "connector 0 is Available/Unavailable/Faulted")
    if target not in TRANSITIONS[current]:
        raise InvalidTransition(connector_id, current, target)


@dataclass(slots=True)
class Transaction:
    """A transaction as the charge point knows it; `transaction_id` comes from the CSMS."""

    connector_id: int
    id_tag: str
    meter_start: int
    started_at: datetime
    reservation_id: int | None = None
    parent_id_tag: str | None = None
    transaction_id: int | None = None
    authorized: bool = True
    stop_reason: str | None = None
    begin_values: list[dict[str, Any]] = field(default_factory=list)
    aligned_values: list[dict[str, Any]] = field(default_factory=list)
    started: asyncio.Event = field(default_factory=asyncio.Event)  # StartTransaction answered
    ended: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass(slots=True)
class Reservation:
    reservation_id: int
    connector_id: int
    id_tag: str
    expiry: datetime
    parent_id_tag: str | None = None


@dataclass(slots=True)
class Connector:
    """One outlet: its status, cable, EV, meter, transaction, reservation and availability."""

    connector_id: int
    meter: Meter
    status: Status = S.AVAILABLE
    error_code: str = "NoError"
    info: str | None = None
    plugged: bool = False
    ev: EV | None = None
    transaction: Transaction | None = None
    reservation: Reservation | None = None
    operative: bool = True
    scheduled_operative: bool | None = None  # availability change waiting for the transaction
    authorized_tag: str | None = None  # authorized, waiting for the cable
    reservation_for_tag: int | None = None
    parent_of_tag: str | None = None
    suspended_by_evse: bool = False
    suspended_by_ev: bool = False
    faulted: bool = False
    finishing: bool = False  # transaction over, cable still in
    pending_profile: dict[str, Any] | None = None  # TxProfile of a RemoteStart
    reported: Status | None = None  # last status the CSMS has been told
    _changed: asyncio.Event | None = None  # made only while someone waits

    @property
    def evse_id(self) -> int:
        """In 1.6 each connector is its own EVSE."""
        return self.connector_id

    def status_changed(self) -> asyncio.Event:
        """An event set at the next status change."""
        if self._changed is None:
            self._changed = asyncio.Event()
        return self._changed

    def set_status(self, target: Status) -> bool:
        """Move to `target` (InvalidTransition if not allowed). True when the status changed."""
        check_transition(self.connector_id, self.status, target)
        if target == self.status:
            return False
        self.status = target
        if self._changed is not None:
            self._changed.set()
            self._changed = None
        return True

    def resting_status(self) -> Status:
        """Where the connector settles when nothing forces a status."""
        if self.faulted:
            return S.FAULTED
        if self.connector_id == 0:  # the charge point as a whole
            return S.AVAILABLE if self.operative else S.UNAVAILABLE
        if self.transaction is not None:
            if not self.plugged or self.suspended_by_ev or (self.ev and self.ev.full):
                return S.SUSPENDED_EV
            if self.suspended_by_evse or not self.transaction.authorized or not self.operative:
                return S.SUSPENDED_EVSE
            return S.CHARGING
        if not self.operative:
            return S.UNAVAILABLE
        if self.plugged and self.finishing:
            return S.FINISHING
        if self.plugged or self.authorized_tag is not None:
            return S.PREPARING
        if self.reservation is not None:
            return S.RESERVED
        return S.AVAILABLE
