"""Transactions of a 2.0.1 station (OCPP 2.0.1 E): they start at the first TxStartPoint
reached and end when a TxStopPoint is lost; every change is a TransactionEvent (Started,
Updated, Ended) with its trigger reason, a `seqNo` from 0 per transaction, `offline: true`
when it happened offline, through the station's outbox (MessageAttempts,
MessageAttemptInterval)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from ..outbox import Queued
from .metering import meter_value
from .state import State201
from .statuses import Statuses
from .topology import Authorization, Evse, Transaction201

__all__ = ["Transactions201", "charging_state", "conditions"]

log = logging.getLogger("simulator")
Payload = dict[str, Any]
# the stop reason of a trigger, when none is given
REASONS = {
    "EVCommunicationLost": "EVDisconnected",
    "EVDeparted": "EVDisconnected",
    "StopAuthorized": "Local",
    "RemoteStop": "Remote",
    "Deauthorized": "DeAuthorized",
    "EVConnectTimeout": "Timeout",
    "ResetCommand": "ImmediateReset",
    "ChargingStateChanged": "StoppedByEV",
}


def charging_state(evse: Evse) -> str:
    if evse.plugged is None:
        return "Idle"
    if evse.authorization is None:
        return "EVConnected"
    if evse.suspended_by_evse or evse.faulted or not evse.operative:
        return "SuspendedEVSE"
    if evse.suspended_by_ev or evse.ev is None or evse.ev.full:
        return "SuspendedEV"
    return "Charging"


def conditions(evse: Evse) -> set[str]:
    """The TxStartPoint/TxStopPoint conditions that hold at `evse` now."""
    held: set[str] = set()
    connected, authorized = evse.plugged is not None, evse.authorization is not None
    if evse.ev_detected:
        held.add("ParkingBayOccupancy")
    if connected:
        held.add("EVConnected")
    if authorized:
        held.add("Authorized")
    if connected and authorized:
        held |= {"PowerPathClosed", "DataSigned"}
    if charging_state(evse) == "Charging":
        held.add("EnergyTransfer")
    return held


class Transactions201:
    """What follows for the transactions from a driver's action or a CSMS's call."""

    __slots__ = ("limit", "on_idle", "on_started", "pending", "state", "station", "statuses")

    def __init__(self, state: State201, statuses: Statuses) -> None:
        self.state = state
        self.station = state.station
        self.statuses = statuses
        self.pending: dict[str, int] = {}  # transactionId -> its events not yet delivered
        # the behaviour's: a transaction started (its sampling begins); one ended (what
        # waited for it: a Reset)
        self.on_started: Callable[[Evse, Transaction201], None] | None = None
        self.on_idle: Callable[[Evse], Awaitable[None]] | None = None
        self.limit: Callable[[Evse], float | None] | None = None  # the power limit in force

    # -- the one way in: something changed at an EVSE ----------------------------------------

    async def update(
        self,
        evse: Evse,
        trigger: str,
        before: set[str],
        reason: str | None = None,
        stop_token: Payload | None = None,
    ) -> None:
        """After a change at `evse` (`before`: the conditions that held before it): start a
        transaction at a TxStartPoint, end it at a lost TxStopPoint, else tell the change."""
        model = self.state.model
        after = conditions(evse)
        tx = evse.transaction
        if tx is None:
            starts = set(model.get_list("TxCtrlr.TxStartPoint"))
            ready = evse.operative and not evse.faulted and not evse.firmware_hold
            if after & starts and ready and self._may_start():
                await self.start(evse, trigger)
            else:
                self.apply_flow(evse)
            await self.statuses.settle(evse)
            return
        lost = before - after
        stops = set(model.get_list("TxCtrlr.TxStopPoint"))
        if lost & stops or not after:
            ended = tx.stopped_reason or reason or REASONS.get(trigger, "Other")
            await self.end(evse, trigger, ended, stop_token)
            return
        state = charging_state(evse)
        if trigger == "ChargingStateChanged" and state == tx.charging_state:
            await self.statuses.settle(evse)
            return
        self.apply_flow(evse)
        extra: Payload = {}
        auth = evse.authorization
        if trigger in ("Authorized", "RemoteStart") and auth is not None:
            tx.id_token = auth.id_token
            tx.group_id_token = _group(auth.info)
            extra["idToken"] = auth.id_token
            if auth.remote_start_id is not None:
                tx.remote_start_id = auth.remote_start_id
        await self.emit(evse, tx, "Updated", trigger, extra=extra)
        await self.statuses.settle(evse)

    def _may_start(self) -> bool:
        """B02.FR.05, B03.FR.06: while its boot is Pending or Rejected, no transaction starts
        unless TxCtrlr.TxBeforeAcceptedEnabled (its events then wait for Accepted)."""
        if self.station.registration not in ("Pending", "Rejected"):
            return True
        return self.state.model.get_bool("TxCtrlr.TxBeforeAcceptedEnabled")

    def apply_flow(self, evse: Evse) -> None:
        """Energy flows while a transaction is Charging, up to the limit in force; its time
        spent charging counts."""
        tx = evse.transaction
        flowing = tx is not None and charging_state(evse) == "Charging"
        evse.meter.set(flowing=flowing, limit_w=self.limit(evse) if self.limit else None)
        if tx is None:
            return
        now = self.station.clock.monotonic()
        if tx.charging_since is not None:
            tx.charging_s += now - tx.charging_since
        tx.charging_since = now if flowing else None

    # -- start and end -----------------------------------------------------------------------

    async def start(self, evse: Evse, trigger: str) -> Transaction201:
        station, model = self.station, self.state.model
        auth = evse.authorization
        tx = Transaction201(str(uuid.uuid4()), evse.evse_id, station.now())
        tx.meter_start_wh = evse.meter.register_wh()
        if auth is not None:
            tx.id_token, tx.group_id_token = auth.id_token, _group(auth.info)
            tx.remote_start_id = auth.remote_start_id
        reservation = evse.reservation
        if reservation is not None and auth is not None:  # used by its token
            tx.reservation_id, evse.reservation = reservation.reservation_id, None
            self.state.timers.cancel(f"reservation:{evse.evse_id}")
        evse.transaction = tx
        self.state.timers.cancel(f"timeout:{evse.evse_id}")
        self.apply_flow(evse)
        extra: Payload = {}
        if tx.id_token is not None:
            extra["idToken"] = tx.id_token
        if tx.reservation_id is not None:
            extra["reservationId"] = tx.reservation_id
        begin = self.sample(
            evse, model.get_list("SampledDataCtrlr.TxStartedMeasurands"), "Transaction.Begin"
        )
        await self.emit(evse, tx, "Started", trigger, begin, extra)
        if self.on_started is not None and evse.transaction is tx:
            self.on_started(evse, tx)
        return tx

    async def end(
        self, evse: Evse, trigger: str, reason: str, stop_token: Payload | None = None
    ) -> None:
        item = self.end_locally(evse, trigger, reason, stop_token)
        await self.station.delivered(item)
        await self.after_end(evse)

    def end_locally(
        self, evse: Evse, trigger: str, reason: str, stop_token: Payload | None = None
    ) -> Queued:
        """Close the transaction in the model and queue its Ended event."""
        state = self.state
        tx = evse.transaction
        assert tx is not None
        for timer in ("sample", "ended", "timeout"):
            state.timers.cancel(f"{timer}:{evse.evse_id}")
        tx.stopped_reason = reason
        evse.transaction = None
        evse.authorization = None
        evse.suspended_by_ev = evse.suspended_by_evse = False
        self.apply_flow(evse)
        if tx.charging_since is not None:
            tx.charging_s += self.station.clock.monotonic() - tx.charging_since
            tx.charging_since = None
        final = self.sample(
            evse, state.model.get_list("SampledDataCtrlr.TxEndedMeasurands"), "Transaction.End"
        )
        extra: Payload = {"idToken": stop_token} if stop_token is not None else {}
        item = self.event(evse, tx, "Ended", trigger, [*tx.ended_values, *final], extra)
        self.station.enqueue(item)
        tx.ended.set()
        return item

    async def after_end(self, evse: Evse) -> None:
        """What waited for the transaction's end: an availability change, a Reset."""
        if evse.scheduled_operative is not None:
            evse.operative, evse.scheduled_operative = evse.scheduled_operative, None
        for c in evse.connectors:
            if c.scheduled_operative is not None:
                c.operative, c.scheduled_operative = c.scheduled_operative, None
        await self.statuses.settle(evse)
        if self.on_idle is not None:
            await self.on_idle(evse)

    # -- the events --------------------------------------------------------------------------

    def sample(self, evse: Evse, measurands: list[str], context: str) -> list[Payload]:
        station = self.station
        signed = self.state.model.get_bool("SampledDataCtrlr.SignReadings")
        value = meter_value(
            evse.meter,
            measurands,
            context,
            station.timestamp(),
            station.identity if signed else None,
        )
        return [value] if value is not None else []

    def event(
        self,
        evse: Evse,
        tx: Transaction201,
        kind: str,
        trigger: str,
        meter_values: list[Payload] | None = None,
        extra: Payload | None = None,
    ) -> Queued:
        """A TransactionEvent as it is now (its seqNo taken), queued by the caller."""
        station = self.station
        state = tx.charging_state = charging_state(evse)
        info: Payload = {"transactionId": tx.transaction_id, "chargingState": state}
        if kind == "Ended":
            info["stoppedReason"] = tx.stopped_reason or "Other"
        if kind != "Started" or tx.charging_s:
            info["timeSpentCharging"] = int(tx.charging_s)
        if tx.remote_start_id is not None and trigger == "RemoteStart":
            info["remoteStartId"] = tx.remote_start_id
        payload: Payload = {
            "eventType": kind,
            "timestamp": station.timestamp(),
            "triggerReason": trigger,
            "seqNo": tx.next_seq(),
            "transactionInfo": info,
        }
        if not station.online:
            payload["offline"] = True
        connector = evse.plugged
        where: Payload = {"id": evse.evse_id}
        if connector is not None:
            where["connectorId"] = connector.connector_id
        if kind == "Started" or connector is not None:
            payload["evse"] = where
        if meter_values:
            payload["meterValue"] = meter_values
        payload.update(extra or {})
        pending = self.pending
        pending[tx.transaction_id] = pending.get(tx.transaction_id, 0) + 1

        def answered(result: Payload | None) -> None:
            left = pending.get(tx.transaction_id, 1) - 1
            if left:
                pending[tx.transaction_id] = left
            else:
                pending.pop(tx.transaction_id, None)
            if result is not None:
                self._answered(evse, tx, payload, result)

        return Queued("TransactionEvent", lambda: payload, answered)

    async def emit(
        self,
        evse: Evse,
        tx: Transaction201,
        kind: str,
        trigger: str,
        meter_values: list[Payload] | None = None,
        extra: Payload | None = None,
    ) -> None:
        await self.station.deliver(self.event(evse, tx, kind, trigger, meter_values, extra))

    def _answered(self, evse: Evse, tx: Transaction201, sent: Payload, result: Payload) -> None:
        """A TransactionEvent's idTokenInfo: cached; not Accepted, the transaction is
        deauthorized (StopTxOnInvalidId ends it)."""
        info = result.get("idTokenInfo")
        token = sent.get("idToken")
        if info is None or token is None:
            return
        self.state.auth.remember(token, info)
        if info.get("status") == "Accepted" or evse.transaction is not tx:
            return
        self.station.spawn(self.deauthorize(evse, tx), name="deauthorized")

    async def deauthorize(self, evse: Evse, tx: Transaction201) -> None:
        """The CSMS did not accept the transaction's token (E05, E06): it may take up to
        TxCtrlr.MaxEnergyOnInvalidId Wh in all (0: no more), then StopTxOnInvalidId ends it
        (Deauthorized), or else the energy stops (SuspendedEVSE) and it goes on."""
        most = self.state.model.get_int("TxCtrlr.MaxEnergyOnInvalidId")
        while evse.transaction is tx and most:
            left = most - (evse.meter.register_wh() - tx.meter_start_wh)
            if left <= 0:
                break
            power = evse.meter.power_w
            await self.station.clock.sleep(min(5.0, left * 3600 / power) if power else 1.0)
        if evse.transaction is not tx:
            return
        if self.state.model.get_bool("TxCtrlr.StopTxOnInvalidId"):
            await self.stop(evse, "Deauthorized", "DeAuthorized")
        elif not evse.suspended_by_evse:
            before = conditions(evse)
            evse.suspended_by_evse = True
            await self.update(evse, "ChargingStateChanged", before)

    async def stop(
        self, evse: Evse, trigger: str, reason: str, stop_token: Payload | None = None
    ) -> None:
        """Authorization ends (a tag, a remote stop, a deauthorization): the transaction ends
        when its TxStopPoint says, or later, when the cable is out."""
        tx = evse.transaction
        before = conditions(evse)
        evse.authorization = None
        if tx is not None:
            tx.stopped_reason = reason
        await self.update(evse, trigger, before, reason, stop_token)

    def wait_for_cable(self, evse: Evse) -> None:
        """An authorization without a cable waits TxCtrlr.EVConnectionTimeOut for it."""
        if evse.plugged is None and evse.authorization is not None:
            work = self._cable_timeout(evse, evse.authorization)
            self.state.timers.start(f"timeout:{evse.evse_id}", work)

    async def _cable_timeout(self, evse: Evse, auth: Authorization) -> None:
        await self.station.clock.sleep(self.state.seconds("TxCtrlr.EVConnectionTimeOut"))
        if evse.plugged is not None or evse.authorization is not auth:
            return
        if evse.transaction is not None:  # started at Authorized: ended (E03)
            await self.end(evse, "EVConnectTimeout", "Timeout")
        else:
            evse.authorization = None
            await self.statuses.settle(evse)

    def authorized(self, evse: Evse, auth: Authorization) -> set[str]:
        """`auth` may charge at `evse`; the conditions before it, for `update`."""
        before = conditions(evse)
        evse.authorization = auth
        return before


def _group(info: Payload) -> str | None:
    group = info.get("groupIdToken")
    return str(group["idToken"]) if group else None
