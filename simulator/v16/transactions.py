"""The transaction logic of an OCPP 1.6 charge point: status reporting (section 4.9),
authorization (online, cache, local list, offline rules), transactions and their messages
through the offline queue, meter values (sampled, clock-aligned), charging limits in force,
and the reboots and power cuts that end transactions."""

from __future__ import annotations

import logging
import math
from collections.abc import Coroutine
from typing import Any

from ocppj import CallTimeout, ConnectionLost, RpcError
from ocppj.timestamps import iso

from ..clock import wait_status
from ..errors import NotConnected
from ..outbox import Queued
from .auth import IdTagInfo
from .connector import Connector, Status, Transaction
from .metering import sampled_values
from .state import State16

__all__ = ["Transactions16"]

log = logging.getLogger("simulator")
S = Status


class Transactions16:
    """What follows from a driver's action or a CSMS's call, for the connectors of `state`."""

    __slots__ = ("state", "station")

    def __init__(self, state: State16) -> None:
        self.state = state
        self.station = state.station

    # -- status ------------------------------------------------------------------------------

    async def wait_status(self, connector_id: int, status: str, timeout: float) -> None:
        """Wait until the connector is in `status`; ExpectationFailed after `timeout`."""
        await wait_status(self.state.connector(connector_id), connector_id, status, timeout)

    async def after_boot(self, booted: bool) -> None:
        """Statuses after the boot (all), or after a reconnect (those not reported)."""
        for c in list(self.state.connectors.values()):
            if booted or c.reported != c.status:
                await self.report(c)

    async def report(self, c: Connector) -> None:
        station = self.station
        if not station.online:
            return
        status = c.status
        payload: dict[str, Any] = {
            "connectorId": c.connector_id,
            "errorCode": c.error_code,
            "status": str(status),
            "timestamp": station.timestamp(),
        }
        if c.info:
            payload["info"] = c.info
        try:
            await station.call("StatusNotification", payload)
        except (RpcError, NotConnected) as exc:
            log.info("%s: StatusNotification not delivered: %s", station.identity, exc)
            return
        c.reported = status

    async def settle(self, c: Connector, report: bool = True) -> None:
        """Put the connector in the status its situation calls for, and tell the CSMS."""
        target = c.resting_status()
        if c.status == S.PREPARING and target == S.UNAVAILABLE:
            # Section 4.9 has no Preparing -> Unavailable: the session being prepared ends
            # first (B1, Available), then the connector is taken out of service (A8).
            c.set_status(S.AVAILABLE)
            if report:
                await self.report(c)
        changed = c.set_status(target)
        self.apply_limit(c)
        if self.state.profiles.installed:
            self._schedule_limit_change()
        if changed and report:
            await self.report(c)

    async def settle_all(self, targets: list[Connector]) -> None:
        for c in targets:
            await self.settle(c)

    def set_operative(self, c: Connector, operative: bool) -> None:
        """Make the connector operative or not (ChangeAvailability, at once or after the
        transaction). Out of service, it stops waiting for what would have used it: the tag
        authorized for a session not yet started, the end of a Finishing phase (with the
        cable still in, it is Preparing when operative again: 4.9 H2), and its reservation
        (5.13: terminated when the connector is set Unavailable)."""
        c.operative, c.scheduled_operative = operative, None
        if operative:
            return
        c.authorized_tag = None
        c.pending_profile = None
        c.finishing = False
        timers = self.state.timers
        timers.cancel(f"timeout:{c.connector_id}")
        if c.reservation is not None:
            c.reservation = None
            timers.cancel(f"reservation:{c.connector_id}")

    # -- charging limits ---------------------------------------------------------------------

    def apply_limit(self, c: Connector) -> None:
        tx = c.transaction
        limit = self.state.profiles.limit_w(
            c.connector_id, self.station.now(), tx.started_at if tx else None, c.meter.voltage
        )
        c.meter.set(flowing=c.status == S.CHARGING, limit_w=limit)

    def apply_limits(self) -> None:
        """Apply the limits in force on every connector; wake up again at the next change."""
        for c in self.state.connectors.values():
            self.apply_limit(c)
        self._schedule_limit_change()

    def _schedule_limit_change(self) -> None:
        starts = [
            c.transaction.started_at if c.transaction else None
            for c in self.state.connectors.values()
        ]
        wait = self.state.profiles.next_change(self.station.now(), starts)
        if wait is None:
            self.state.timers.cancel("profiles")
            return
        self.state.timers.start("profiles", self._limits_after(wait))

    async def _limits_after(self, seconds: float) -> None:
        await self.station.clock.sleep(seconds)
        self.apply_limits()

    # -- authorization -----------------------------------------------------------------------

    def wait_for_cable(self, c: Connector) -> None:
        """An authorized tag waits ConnectionTimeOut seconds for the cable."""
        self.state.timers.start(f"timeout:{c.connector_id}", self._connection_timeout(c))

    async def _connection_timeout(self, c: Connector) -> None:
        await self.station.clock.sleep(self.state.seconds("ConnectionTimeOut"))
        if c.transaction is None and not c.plugged and c.authorized_tag is not None:
            c.authorized_tag = None
            c.pending_profile = None
            await self.settle(c)

    async def authorize(self, id_tag: str) -> IdTagInfo:
        """Authorize online (or locally first with LocalPreAuthorize); offline per
        LocalAuthorizeOffline and AllowOfflineTxForUnknownId."""
        state, station = self.state, self.station
        local = state.auth.lookup(id_tag, station.now())
        if station.online:
            if (
                local is not None
                and local[0].get("status") == "Accepted"
                and (state.config.get_bool("LocalPreAuthorize"))
            ):
                return local[0]
            try:
                answer = await station.call("Authorize", {"idTag": id_tag})
            except (NotConnected, ConnectionLost, CallTimeout) as exc:
                log.info("%s: Authorize failed (%s): deciding offline", station.identity, exc)
            else:
                info: IdTagInfo = answer["idTagInfo"]
                state.auth.remember(id_tag, info)
                return info
        if local is not None:
            if state.config.get_bool("LocalAuthorizeOffline"):
                return local[0]
            return {"status": "Invalid"}
        if state.config.get_bool("AllowOfflineTxForUnknownId"):
            return {"status": "Accepted"}
        return {"status": "Invalid"}

    # -- transactions ------------------------------------------------------------------------

    async def begin(self, c: Connector, id_tag: str) -> Transaction:
        state, station = self.state, self.station
        state.timers.cancel(f"timeout:{c.connector_id}")
        if c.status == S.FINISHING:  # a new session with the cable still in: via Preparing
            c.finishing = False
            await self.settle(c)
        reservation = c.reservation
        whole = state.connectors[0]  # a reservation of the charge point (connectorId 0)
        if (
            reservation is None
            and whole.reservation is not None
            and (
                whole.reservation.id_tag == id_tag
                or (
                    whole.reservation.parent_id_tag
                    and whole.reservation.parent_id_tag == c.parent_of_tag
                )
            )
        ):
            reservation, whole.reservation = whole.reservation, None
            state.timers.cancel("reservation:0")
        tx = Transaction(
            connector_id=c.connector_id,
            id_tag=id_tag,
            meter_start=c.meter.register_wh(),
            started_at=station.now(),
            reservation_id=reservation.reservation_id if reservation else None,
            parent_id_tag=c.parent_of_tag,
        )
        c.transaction, c.authorized_tag, c.reservation = tx, None, None
        c.suspended_by_ev = c.suspended_by_evse = False
        state.timers.cancel(f"reservation:{c.connector_id}")
        if c.pending_profile is not None:
            state.profiles.install(c.connector_id, c.pending_profile, tx_id=None, force=True)
            c.pending_profile = None
        tx.begin_values = sampled_values(
            c.meter, state.config.get_list("StopTxnSampledData"), "Transaction.Begin"
        )
        payload: dict[str, Any] = {
            "connectorId": c.connector_id,
            "idTag": id_tag,
            "meterStart": tx.meter_start,
            "timestamp": station.timestamp(),
        }
        if tx.reservation_id is not None:
            payload["reservationId"] = tx.reservation_id

        def started(result: dict[str, Any] | None) -> None:
            tx.started.set()
            if result is None:
                return
            tx.transaction_id = result["transactionId"]
            info = result["idTagInfo"]
            state.auth.remember(id_tag, info)
            if info.get("status") != "Accepted" and c.transaction is tx:
                tx.authorized = False
                if state.config.get_bool("StopTransactionOnInvalidId"):
                    station.spawn(self.end(c, "DeAuthorized"), name="deauthorized")
                else:
                    station.spawn(self.settle(c), name="suspend invalid")

        await station.deliver(Queued("StartTransaction", lambda: payload, started))
        if c.transaction is tx:
            await self.settle(c)
            state.timers.start(f"sample:{c.connector_id}", self._sample_loop(c, tx))
        return tx

    def end_locally(self, c: Connector, reason: str, id_tag: str | None) -> Queued:
        """Close the transaction in the model and queue its StopTransaction."""
        state = self.state
        tx = c.transaction
        assert tx is not None
        state.timers.cancel(f"sample:{c.connector_id}")
        c.meter.set(flowing=False)
        meter_stop = c.meter.register_wh()
        end_values = sampled_values(
            c.meter, state.config.get_list("StopTxnSampledData"), "Transaction.End"
        )
        stamp = self.station.timestamp()
        c.transaction = None
        tx.stop_reason = reason
        c.finishing = c.plugged
        c.suspended_by_ev = c.suspended_by_evse = False
        state.profiles.end_transaction(c.connector_id)
        if c.scheduled_operative is not None:
            self.set_operative(c, c.scheduled_operative)

        def build() -> dict[str, Any] | None:
            if tx.transaction_id is None:
                return None
            payload: dict[str, Any] = {
                "transactionId": tx.transaction_id,
                "meterStop": max(meter_stop, tx.meter_start),
                "timestamp": stamp,
                "reason": reason,
            }
            if id_tag is not None:
                payload["idTag"] = id_tag
            data = []
            if tx.begin_values:
                data.append({"timestamp": iso(tx.started_at), "sampledValue": tx.begin_values})
            data.extend(tx.aligned_values)
            if end_values:
                data.append({"timestamp": stamp, "sampledValue": end_values})
            if data:
                payload["transactionData"] = data
            return payload

        item = Queued("StopTransaction", build, lambda _result: tx.ended.set())
        self.station.enqueue(item)
        return item

    async def end(self, c: Connector, reason: str, id_tag: str | None = None) -> None:
        item = self.end_locally(c, reason, id_tag)
        await self.station.delivered(item)
        await self.settle(c)

    async def end_if(self, c: Connector, transaction_id: int | None, reason: str) -> None:
        if c.transaction is not None and c.transaction.transaction_id == transaction_id:
            await self.end(c, reason)

    # -- reboots -----------------------------------------------------------------------------

    async def restart(self, kind: str) -> None:
        """As after a Reset: end the transactions (SoftReset/HardReset), reconnect, boot."""
        reason = "HardReset" if kind == "Hard" else "SoftReset"
        for c in self.state.connectors.values():
            if c.transaction is not None:
                await self.end(c, reason)
            c.authorized_tag = None
        await self.station.restart(abrupt=kind == "Hard")
        for c in self.state.connectors.values():
            await self.settle(c, report=False)

    async def power_loss(self) -> None:
        """The link drops at once; interrupted transactions are reported with reason
        PowerLoss after the boot."""
        for c in self.state.connectors.values():
            if c.transaction is not None:
                self.end_locally(c, "PowerLoss", None)
            c.authorized_tag = None
        await self.station.restart(abrupt=True)
        for c in self.state.connectors.values():
            await self.settle(c, report=False)

    # -- meter values ------------------------------------------------------------------------

    def meter_values(
        self, c: Connector, tx: Transaction | None, context: str, measurands: list[str]
    ) -> Queued | dict[str, Any]:
        values = sampled_values(c.meter, measurands, context)
        stamp = self.station.timestamp()
        if tx is None:
            return {
                "connectorId": c.connector_id,
                "meterValue": [{"timestamp": stamp, "sampledValue": values}],
            }

        def build() -> dict[str, Any] | None:
            if tx.transaction_id is None or not values:
                return None
            return {
                "connectorId": c.connector_id,
                "transactionId": tx.transaction_id,
                "meterValue": [{"timestamp": stamp, "sampledValue": values}],
            }

        return Queued("MeterValues", build)

    async def _sample_loop(self, c: Connector, tx: Transaction) -> None:
        """MeterValues every MeterValueSampleInterval seconds while the transaction runs."""
        state = self.state
        while c.transaction is tx:
            interval = state.seconds("MeterValueSampleInterval")
            if interval <= 0:
                return
            await self.station.clock.sleep(interval)
            if c.transaction is not tx:
                return
            self.apply_limit(c)  # schedules move on with time
            item = self.meter_values(
                c, tx, "Sample.Periodic", state.config.get_list("MeterValuesSampledData")
            )
            assert isinstance(item, Queued)
            self.station.enqueue(item)

    def start_aligned(self) -> None:
        """Clock-aligned MeterValues, when ClockAlignedDataInterval asks and none run yet."""
        state = self.state
        if state.config.get_int("ClockAlignedDataInterval") > 0 and not state.timers.running(
            "aligned"
        ):
            state.timers.start("aligned", self._aligned_loop())

    async def _aligned_loop(self) -> None:
        """Clock-aligned MeterValues every ClockAlignedDataInterval seconds (0: off)."""
        state, station = self.state, self.station
        while (interval := state.seconds("ClockAlignedDataInterval")) > 0:
            now = station.now().timestamp()
            await station.clock.sleep(math.ceil((now + 1e-6) / interval) * interval - now)
            for c in state.connectors.values():
                if c.connector_id == 0:
                    continue
                tx = c.transaction
                made = self.meter_values(
                    c, tx, "Sample.Clock", state.config.get_list("MeterValuesAlignedData")
                )
                if isinstance(made, Queued):
                    station.enqueue(made)
                    stop_data = sampled_values(
                        c.meter, state.config.get_list("StopTxnAlignedData"), "Sample.Clock"
                    )
                    if stop_data and tx is not None:
                        tx.aligned_values.append(
                            {"timestamp": station.timestamp(), "sampledValue": stop_data}
                        )
                elif station.online:  # outside transactions: dropped while offline
                    try:
                        await station.call("MeterValues", made)
                    except (RpcError, NotConnected) as exc:
                        log.info("%s: aligned MeterValues lost: %s", station.identity, exc)

    def schedule(self, key: str, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` as the timer `key` (a reservation's expiry, say)."""
        self.state.timers.start(key, work)
