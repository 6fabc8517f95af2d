"""Reservations of a 2.0.1 station (OCPP 2.0.1 H01-H04): ReserveNow keeps an EVSE for one
idToken (or its group) until it expires (ReservationStatusUpdate Expired) or is cancelled;
the transaction of that token uses it up (its reservationId in the Started event)."""

from __future__ import annotations

import functools
from typing import Any

from ocppj.timestamps import parse

from ..incoming import Outcome
from .state import State201
from .statuses import Statuses
from .topology import Evse, Reservation201

__all__ = ["ReservationOperations"]

Payload = dict[str, Any]


class ReservationOperations:
    """Handlers (`op_<Action>`) of ReserveNow and CancelReservation."""

    __slots__ = ("state", "station", "statuses")

    def __init__(self, state: State201, statuses: Statuses) -> None:
        self.state = state
        self.station = state.station
        self.statuses = statuses

    async def op_ReserveNow(self, p: Payload, outcome: Outcome) -> Payload:
        model = self.state.model
        if not model.get_bool("ReservationCtrlr.Enabled"):
            return {"status": "Rejected"}
        evse_id = p.get("evseId")
        if evse_id is None:  # ReservationCtrlr.NonEvseSpecific is false (H01.FR.19)
            self.station.explain("a reservation of no EVSE in particular is not supported")
            return {"status": "Rejected"}
        evse = self.state.evse(evse_id)
        if evse is None:
            return {"status": "Rejected"}
        if evse.faulted:
            return {"status": "Faulted"}
        if not evse.operative or evse.firmware_hold:
            return {"status": "Unavailable"}
        existing = evse.reservation
        if (existing is not None and existing.reservation_id != p["id"]) or (
            evse.transaction is not None
            or evse.plugged is not None
            or evse.authorization is not None
        ):
            return {"status": "Occupied"}
        group = p.get("groupIdToken")
        reservation = Reservation201(
            p["id"], p["idToken"], parse(p["expiryDateTime"]), group["idToken"] if group else None
        )
        evse.reservation = reservation
        self.state.timers.start(f"reservation:{evse_id}", self._expire(evse, reservation))
        self.station.after_reply(lambda: self.statuses.settle(evse))
        return {"status": "Accepted"}

    async def _expire(self, evse: Evse, reservation: Reservation201) -> None:
        wait = (reservation.expiry - self.station.now()).total_seconds()
        if wait > 0:
            await self.station.clock.sleep(wait)
        if evse.reservation is reservation:
            evse.reservation = None
            await self.statuses.settle(evse)
            update: Payload = {"reservationId": reservation.reservation_id}
            update["reservationUpdateStatus"] = "Expired"
            await self.station.notify("ReservationStatusUpdate", update)

    async def op_CancelReservation(self, p: Payload, outcome: Outcome) -> Payload:
        for evse in self.state.evses.values():
            reservation = evse.reservation
            if reservation is not None and reservation.reservation_id == p["reservationId"]:
                evse.reservation = None
                self.state.timers.cancel(f"reservation:{evse.evse_id}")
                self.station.after_reply(functools.partial(self.statuses.settle, evse))
                return {"status": "Accepted"}
        return {"status": "Rejected"}
