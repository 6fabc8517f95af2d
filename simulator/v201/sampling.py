"""Meter values of a 2.0.1 station over time (OCPP 2.0.1 J): during a transaction, an
Updated TransactionEvent (MeterValuePeriodic) every SampledDataCtrlr.TxUpdatedInterval and
a sample kept for the Ended event every TxEndedInterval; clock-aligned values every
AlignedDataCtrlr.Interval, in an Updated event (MeterValueClock) during a transaction and in
MeterValues outside one (none while any runs, with SendDuringIdle)."""

from __future__ import annotations

import logging
import math

from ocppj import RpcError

from ..errors import NotConnected
from .metering import meter_value
from .state import State201
from .topology import Evse, Transaction201
from .transactions import Transactions201

__all__ = ["Sampling"]

log = logging.getLogger("simulator")


class Sampling:
    """The sampling loops of one station, as its timers."""

    __slots__ = ("state", "station", "tx")

    def __init__(self, state: State201, tx: Transactions201) -> None:
        self.state = state
        self.station = state.station
        self.tx = tx

    def transaction_started(self, evse: Evse, tx: Transaction201) -> None:
        timers = self.state.timers
        timers.start(f"sample:{evse.evse_id}", self._periodic(evse, tx))
        timers.start(f"ended:{evse.evse_id}", self._ended_samples(evse, tx))

    def restart(self) -> None:
        """An interval changed: the loops of the running transactions start again."""
        for evse in self.state.evses.values():
            if evse.transaction is not None:
                self.transaction_started(evse, evse.transaction)
        self.start_aligned(again=True)

    async def _periodic(self, evse: Evse, tx: Transaction201) -> None:
        state = self.state
        while evse.transaction is tx:
            interval = state.seconds("SampledDataCtrlr.TxUpdatedInterval")
            if interval <= 0:
                return
            await self.station.clock.sleep(interval)
            if evse.transaction is not tx:
                return
            measurands = state.model.get_list("SampledDataCtrlr.TxUpdatedMeasurands")
            values = self.tx.sample(evse, measurands, "Sample.Periodic")
            if values:
                self.station.enqueue(
                    self.tx.event(evse, tx, "Updated", "MeterValuePeriodic", values)
                )

    async def _ended_samples(self, evse: Evse, tx: Transaction201) -> None:
        state = self.state
        while evse.transaction is tx:
            interval = state.seconds("SampledDataCtrlr.TxEndedInterval")
            if interval <= 0:
                return
            await self.station.clock.sleep(interval)
            if evse.transaction is not tx:
                return
            measurands = state.model.get_list("SampledDataCtrlr.TxEndedMeasurands")
            tx.ended_values.extend(self.tx.sample(evse, measurands, "Sample.Periodic"))

    def start_aligned(self, again: bool = False) -> None:
        """Clock-aligned values, when AlignedDataCtrlr.Interval asks and none run yet."""
        state = self.state
        if state.model.get_int("AlignedDataCtrlr.Interval") <= 0:
            state.timers.cancel("aligned")
        elif again or not state.timers.running("aligned"):
            state.timers.start("aligned", self._aligned())

    async def _aligned(self) -> None:
        state, station = self.state, self.station
        model = state.model
        while (interval := state.seconds("AlignedDataCtrlr.Interval")) > 0:
            now = station.now().timestamp()
            await station.clock.sleep(math.ceil((now + 1e-6) / interval) * interval - now)
            busy = any(evse.transaction is not None for evse in state.evses.values())
            if busy and model.get_bool("AlignedDataCtrlr.SendDuringIdle"):
                continue
            measurands = model.get_list("AlignedDataCtrlr.Measurands")
            ended = model.get_list("AlignedDataCtrlr.TxEndedMeasurands")
            for evse in state.evses.values():
                tx = evse.transaction
                if tx is not None:
                    values = self.tx.sample(evse, measurands, "Sample.Clock")
                    if values:
                        station.enqueue(
                            self.tx.event(evse, tx, "Updated", "MeterValueClock", values)
                        )
                    if ended:
                        tx.ended_values.extend(self.tx.sample(evse, ended, "Sample.Clock"))
                elif station.online:  # outside transactions: dropped while offline
                    await self._meter_values(evse, measurands, "Sample.Clock")

    async def _meter_values(self, evse: Evse, measurands: list[str], context: str) -> None:
        station = self.station
        value = meter_value(evse.meter, measurands, context, station.timestamp())
        if value is None:
            return
        try:
            await station.call("MeterValues", {"evseId": evse.evse_id, "meterValue": [value]})
        except (RpcError, NotConnected) as exc:
            log.info("%s: MeterValues lost: %s", station.identity, exc)

    async def triggered(self, evses: list[Evse]) -> None:
        """TriggerMessage MeterValues: the aligned measurands now, per EVSE."""
        measurands = self.state.model.get_list("AlignedDataCtrlr.Measurands")
        for evse in evses:
            await self._meter_values(evse, measurands, "Trigger")
