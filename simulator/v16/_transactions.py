"""What a person at the charger does, and the transactions that follow: plug, tag, charge,
suspend, stop, unplug, faults, reboots; status reporting, authorization, meter values."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Coroutine
from datetime import datetime, timedelta
from typing import Any

from ocppj import CallTimeout, ConnectionLost, RpcError
from ocppj.timestamps import iso

from ..clock import wait_any
from ..errors import InvalidAction, NotConnected
from ._core import Core
from ._delivery import Queued
from .auth import IdTagInfo
from .connector import Connector, Status, Transaction

log = logging.getLogger("simulator")
S = Status
_TICK = timedelta(milliseconds=1)
_HORIZON = timedelta(days=1)


class Transactions(Core):
    """The driver's actions and the transaction logic of a 1.6 charge point."""

    _timers: dict[str, asyncio.Task[Any]]

    # -- reading the state -------------------------------------------------------------------

    def connector(self, connector_id: int) -> Connector:
        try:
            return self.connectors[connector_id]
        except KeyError:
            raise InvalidAction(f"{self.identity} has no connector {connector_id}") from None

    def status(self, connector_id: int) -> str:
        return str(self.connector(connector_id).status)

    def transaction(self, connector_id: int) -> Transaction | None:
        return self.connector(connector_id).transaction

    async def wait_status(self, connector_id: int, status: str, timeout: float = 5.0) -> None:
        """Wait until the connector is in `status`; ExpectationFailed after `timeout`."""
        from ..errors import ExpectationFailed

        c = self.connector(connector_id)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while c.status != status:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise ExpectationFailed(
                    f"connector {connector_id} is {c.status}, not {status}, after {timeout:g} s"
                )
            try:
                await asyncio.wait_for(c.status_changed().wait(), remaining)
            except TimeoutError:
                continue

    # -- status ------------------------------------------------------------------------------

    async def _after_boot(self, booted: bool) -> None:
        for c in list(self.connectors.values()):
            if booted or c.reported != c.status:
                await self._report(c)

    async def _report(self, c: Connector) -> None:
        if not self.online:
            return
        status = c.status
        payload: dict[str, Any] = {
            "connectorId": c.connector_id,
            "errorCode": c.error_code,
            "status": str(status),
            "timestamp": self.timestamp(),
        }
        if c.info:
            payload["info"] = c.info
        try:
            await self._call("StatusNotification", payload)
        except (RpcError, NotConnected) as exc:
            log.info("%s: StatusNotification not delivered: %s", self.identity, exc)
            return
        c.reported = status

    async def _settle(self, c: Connector, report: bool = True) -> None:
        """Put the connector in the status its situation calls for, and tell the CSMS."""
        target = c.resting_status()
        if c.status == S.PREPARING and target == S.UNAVAILABLE:
            # Section 4.9 has no Preparing -> Unavailable: the session being prepared ends
            # first (B1, Available), then the connector is taken out of service (A8).
            c.set_status(S.AVAILABLE)
            if report:
                await self._report(c)
        changed = c.set_status(target)
        self._apply_limit(c)
        if self.profiles.installed:
            self._schedule_limit_change()
        if changed and report:
            await self._report(c)

    def _apply_limit(self, c: Connector) -> None:
        tx = c.transaction
        limit = self.profiles.limit_w(
            c.connector_id, self.now(), tx.started_at if tx else None, c.meter.voltage
        )
        c.meter.set(flowing=c.status == S.CHARGING, limit_w=limit)

    def _apply_limits(self) -> None:
        """Apply the limits in force on every connector; wake up again at the next change."""
        for c in self.connectors.values():
            self._apply_limit(c)
        self._schedule_limit_change()

    def _schedule_limit_change(self) -> None:
        now = self.now()
        moments: set[datetime] = set()
        for c in self.connectors.values():
            tx_start = c.transaction.started_at if c.transaction else None
            for item in self.profiles.installed:
                moments |= item.boundaries(now + _TICK, now + _HORIZON, tx_start)
        if not moments:
            self._cancel("profiles")
            return
        wait = (min(moments) - now).total_seconds()
        self._timer("profiles", self._limits_after(wait))

    async def _limits_after(self, seconds: float) -> None:
        await self.clock.sleep(seconds)
        self._apply_limits()

    def _set_operative(self, c: Connector, operative: bool) -> None:
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
        self._cancel(f"timeout:{c.connector_id}")
        if c.reservation is not None:
            c.reservation = None
            self._cancel(f"reservation:{c.connector_id}")

    # -- timers ------------------------------------------------------------------------------

    def _timer(self, key: str, work: Coroutine[Any, Any, None]) -> None:
        if not hasattr(self, "_timers"):
            self._timers = {}
        self._cancel(key)
        self._timers[key] = self.spawn(work, name=key)

    def _cancel(self, key: str) -> None:
        timers = getattr(self, "_timers", {})
        task = timers.pop(key, None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    async def _connection_timeout(self, c: Connector) -> None:
        await self.clock.sleep(self.seconds("ConnectionTimeOut"))
        if c.transaction is None and not c.plugged and c.authorized_tag is not None:
            c.authorized_tag = None
            c.pending_profile = None
            await self._settle(c)

    # -- authorization -----------------------------------------------------------------------

    async def _authorize(self, id_tag: str) -> IdTagInfo:
        """Authorize online (or locally first with LocalPreAuthorize); offline per
        LocalAuthorizeOffline and AllowOfflineTxForUnknownId."""
        local = self.auth.lookup(id_tag, self.now())
        if self.online:
            if (
                local is not None
                and local[0].get("status") == "Accepted"
                and (self.config.get_bool("LocalPreAuthorize"))
            ):
                return local[0]
            try:
                answer = await self._call("Authorize", {"idTag": id_tag})
            except (NotConnected, ConnectionLost, CallTimeout) as exc:
                log.info("%s: Authorize failed (%s): deciding offline", self.identity, exc)
            else:
                info: IdTagInfo = answer["idTagInfo"]
                self.auth.remember(id_tag, info)
                return info
        if local is not None:
            if self.config.get_bool("LocalAuthorizeOffline"):
                return local[0]
            return {"status": "Invalid"}
        if self.config.get_bool("AllowOfflineTxForUnknownId"):
            return {"status": "Accepted"}
        return {"status": "Invalid"}

    # -- transactions ------------------------------------------------------------------------

    async def _begin(self, c: Connector, id_tag: str) -> Transaction:
        self._cancel(f"timeout:{c.connector_id}")
        if c.status == S.FINISHING:  # a new session with the cable still in: via Preparing
            c.finishing = False
            await self._settle(c)
        reservation = c.reservation
        whole = self.connectors[0]  # a reservation of the charge point (connectorId 0)
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
            self._cancel("reservation:0")
        tx = Transaction(
            connector_id=c.connector_id,
            id_tag=id_tag,
            meter_start=c.meter.register_wh(),
            started_at=self.now(),
            reservation_id=reservation.reservation_id if reservation else None,
            parent_id_tag=c.parent_of_tag,
        )
        c.transaction, c.authorized_tag, c.reservation = tx, None, None
        c.suspended_by_ev = c.suspended_by_evse = False
        self._cancel(f"reservation:{c.connector_id}")
        if c.pending_profile is not None:
            self.profiles.install(c.connector_id, c.pending_profile, tx_id=None, force=True)
            c.pending_profile = None
        tx.begin_values = c.meter.sample(
            self.config.get_list("StopTxnSampledData"), "Transaction.Begin"
        )
        payload: dict[str, Any] = {
            "connectorId": c.connector_id,
            "idTag": id_tag,
            "meterStart": tx.meter_start,
            "timestamp": self.timestamp(),
        }
        if tx.reservation_id is not None:
            payload["reservationId"] = tx.reservation_id

        def started(result: dict[str, Any] | None) -> None:
            tx.started.set()
            if result is None:
                return
            tx.transaction_id = result["transactionId"]
            info = result["idTagInfo"]
            self.auth.remember(id_tag, info)
            if info.get("status") != "Accepted" and c.transaction is tx:
                tx.authorized = False
                if self.config.get_bool("StopTransactionOnInvalidId"):
                    self.spawn(self._end(c, "DeAuthorized"), name="deauthorized")
                else:
                    self.spawn(self._settle(c), name="suspend invalid")

        await self.deliver(Queued("StartTransaction", lambda: payload, started))
        if c.transaction is tx:
            await self._settle(c)
            self._timer(f"sample:{c.connector_id}", self._sample_loop(c, tx))
        return tx

    def _end_locally(self, c: Connector, reason: str, id_tag: str | None) -> Queued:
        """Close the transaction in the model and queue its StopTransaction."""
        tx = c.transaction
        assert tx is not None
        self._cancel(f"sample:{c.connector_id}")
        c.meter.set(flowing=False)
        meter_stop = c.meter.register_wh()
        end_values = c.meter.sample(self.config.get_list("StopTxnSampledData"), "Transaction.End")
        stamp = self.timestamp()
        c.transaction = None
        tx.stop_reason = reason
        c.finishing = c.plugged
        c.suspended_by_ev = c.suspended_by_evse = False
        self.profiles.end_transaction(c.connector_id)
        if c.scheduled_operative is not None:
            self._set_operative(c, c.scheduled_operative)

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
        self.enqueue(item)
        return item

    async def _end(self, c: Connector, reason: str, id_tag: str | None = None) -> None:
        item = self._end_locally(c, reason, id_tag)
        session = self._session
        if session is not None and self.online:
            await wait_any(session.closed, item.done)
        await self._settle(c)

    def _meter_values(
        self, c: Connector, tx: Transaction | None, context: str, measurands: list[str]
    ) -> Queued | dict[str, Any]:
        values = c.meter.sample(measurands, context)
        stamp = self.timestamp()
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
        while c.transaction is tx:
            interval = self.seconds("MeterValueSampleInterval")
            if interval <= 0:
                return
            await self.clock.sleep(interval)
            if c.transaction is not tx:
                return
            self._apply_limit(c)  # schedules move on with time
            item = self._meter_values(
                c, tx, "Sample.Periodic", self.config.get_list("MeterValuesSampledData")
            )
            assert isinstance(item, Queued)
            self.enqueue(item)

    async def _aligned_loop(self) -> None:
        """Clock-aligned MeterValues every ClockAlignedDataInterval seconds (0: off)."""
        while (interval := self.seconds("ClockAlignedDataInterval")) > 0:
            now = self.now().timestamp()
            await self.clock.sleep(math.ceil((now + 1e-6) / interval) * interval - now)
            for c in self.connectors.values():
                if c.connector_id == 0:
                    continue
                tx = c.transaction
                made = self._meter_values(
                    c, tx, "Sample.Clock", self.config.get_list("MeterValuesAlignedData")
                )
                if isinstance(made, Queued):
                    self.enqueue(made)
                    stop_data = c.meter.sample(
                        self.config.get_list("StopTxnAlignedData"), "Sample.Clock"
                    )
                    if stop_data and tx is not None:
                        tx.aligned_values.append(
                            {"timestamp": self.timestamp(), "sampledValue": stop_data}
                        )
                elif self.online:  # outside transactions: dropped while offline
                    try:
                        await self._call("MeterValues", made)
                    except (RpcError, NotConnected) as exc:
                        log.info("%s: aligned MeterValues lost: %s", self.identity, exc)
