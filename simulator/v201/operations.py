"""Answers to the CSMS's availability and control operations (OCPP 2.0.1 B11-B12, G03,
F06, C11, D01-D02, P01): Reset (Immediate or OnIdle, the station or one EVSE, Scheduled
while a transaction runs), ChangeAvailability, TriggerMessage, ClearCache, the local list
and DataTransfer; and the reboots that a Reset, a driver or a power cut cause."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from ..incoming import Outcome
from .sampling import Sampling
from .state import State201
from .topology import Evse, Status
from .transactions import Transactions201

__all__ = ["CoreOperations", "boot_payload"]

Payload = dict[str, Any]
Job = Callable[[], Awaitable[None]]


def boot_payload(state: State201) -> Payload:
    """The BootNotification of a 2.0.1 station, with the reason of this boot."""
    spec = state.station.spec
    station: Payload = {
        "model": spec.model[:20],
        "vendorName": spec.vendor,
        "firmwareVersion": state.firmware_version,
    }
    if spec.serial_number:
        station["serialNumber"] = spec.serial_number
    modem = {k: v for k, v in (("iccid", spec.iccid), ("imsi", spec.imsi)) if v}
    if modem:
        station["modem"] = modem
    return {"chargingStation": station, "reason": state.boot_reason}


class CoreOperations:
    """Handlers (`op_<Action>`) of reset, availability, trigger, cache, local list, data."""

    __slots__ = (
        "firmware_status",
        "log_status",
        "rebooting",
        "sampling",
        "sign",
        "state",
        "station",
        "tx",
    )

    def __init__(self, state: State201, tx: Transactions201, sampling: Sampling) -> None:
        self.state = state
        self.station = state.station
        self.tx = tx
        self.sampling = sampling
        self.sign: Callable[[str], Job] | None = None  # certificate type -> send its CSR
        self.rebooting: Callable[[], None] | None = None  # told before each reboot
        self.firmware_status: Callable[[], Payload] | None = None  # the update's, for a trigger
        self.log_status: Callable[[], Payload] | None = None  # the log upload's, for a trigger

    # -- reboots -----------------------------------------------------------------------------

    async def reboot(self, reason: str, trigger: str, stopped: str, abrupt: bool = False) -> None:
        """End every transaction (`trigger`, `stopped`), reconnect, boot with `reason`."""
        state = self.state
        state.reset_scheduled = False  # this is it: nothing waits for the end any more
        for evse in state.evses.values():
            evse.reset_scheduled = False
        for evse in state.evses.values():
            if evse.transaction is not None:
                await self.tx.end(evse, trigger, stopped)
            evse.authorization = None
        state.boot_reason = reason
        if self.rebooting is not None:
            self.rebooting()
        await self.station.restart(abrupt=abrupt)
        for evse in state.evses.values():
            for c in evse.connectors:
                c.set_status(c.resting_status())

    async def power_loss(self) -> None:
        """The link drops at once; the interrupted transactions end (PowerLoss), told after
        the boot (reason PowerUp)."""
        state = self.state
        for evse in state.evses.values():
            if evse.transaction is not None:
                self.tx.end_locally(evse, "AbnormalCondition", "PowerLoss")
            evse.authorization = None
        state.boot_reason = "PowerUp"
        if self.rebooting is not None:
            self.rebooting()
        await self.station.restart(abrupt=True)

    async def on_idle(self, evse: Evse) -> None:
        """A transaction ended: an OnIdle Reset waiting for it runs now."""
        state = self.state
        if evse.reset_scheduled:
            evse.reset_scheduled = False
            await self._reset_evse(evse)
        if state.reset_scheduled and all(e.transaction is None for e in state.evses.values()):
            await self.reboot("RemoteReset", "ResetCommand", "ImmediateReset")

    async def _reset_evse(self, evse: Evse) -> None:
        """An EVSE's own reset: its transaction ends, it is Unavailable a moment, then back."""
        if evse.transaction is not None:
            await self.tx.end(evse, "ResetCommand", "ImmediateReset")
        evse.authorization = None
        for c in evse.connectors:
            if c.set_status(Status.UNAVAILABLE):
                await self.tx.statuses.report(c)
        await self.tx.statuses.settle(evse)

    # -- the operations ----------------------------------------------------------------------

    async def op_Reset(self, p: Payload, outcome: Outcome) -> Payload:
        state = self.state
        immediate = p["type"] == "Immediate"
        evse_id = p.get("evseId")
        if evse_id is not None:
            evse = state.evse(evse_id)
            if evse is None:
                return {"status": "Rejected"}
            if not immediate and evse.transaction is not None:
                evse.reset_scheduled = True
                return {"status": "Scheduled"}
            self.station.after_reply(lambda: self._reset_evse(evse))
            return {"status": "Accepted"}
        busy = any(e.transaction is not None for e in state.evses.values())
        if not immediate and busy:
            state.reset_scheduled = True
            return {"status": "Scheduled"}
        self.station.after_reply(
            lambda: self.reboot("RemoteReset", "ResetCommand", "ImmediateReset")
        )
        return {"status": "Accepted"}

    async def op_ChangeAvailability(self, p: Payload, outcome: Outcome) -> Payload:
        """G03-G04: at once, or Scheduled after the transaction; a connector of an EVSE, an
        EVSE, or the station (then every EVSE)."""
        state = self.state
        operative = p["operationalStatus"] == "Operative"
        where = p.get("evse")
        if where is None:
            state.operative = operative
            evses = list(state.evses.values())
        else:
            found = state.evse(where["id"])
            if found is None:
                return {"status": "Rejected"}
            if operative and not state.operative:
                self.station.explain("the station is Inoperative: its EVSEs stay so")
                return {"status": "Rejected"}
            evses = [found]
        number = where.get("connectorId") if where is not None else None
        scheduled = False
        for evse in evses:
            if number is not None:
                if not 1 <= number <= len(evse.connectors):
                    return {"status": "Rejected"}
                c = evse.connectors[number - 1]
                if evse.transaction is not None and c.operative != operative:
                    c.scheduled_operative, scheduled = operative, True
                else:
                    c.operative = operative
            elif evse.transaction is not None and evse.operative != operative:
                evse.scheduled_operative, scheduled = operative, True
            else:
                evse.operative = operative
                if not operative:
                    self._out_of_service(evse)
        self.station.after_reply(lambda: self.tx.statuses.settle_all(evses))
        return {"status": "Scheduled" if scheduled else "Accepted"}

    def _out_of_service(self, evse: Evse) -> None:
        """An EVSE taken out of service stops waiting for a cable for its authorization."""
        if evse.transaction is None and evse.authorization is not None:
            evse.authorization = None
            self.state.timers.cancel(f"timeout:{evse.evse_id}")

    async def op_TriggerMessage(self, p: Payload, outcome: Outcome) -> Payload:
        state, station = self.state, self.station
        where = p.get("evse")
        evses = list(state.evses.values())
        if where is not None:
            found = state.evse(where["id"])
            if found is None:
                return {"status": "Rejected"}
            evses = [found]
        message = p["requestedMessage"]
        notify = station.notify
        if message == "BootNotification" and station.ready.is_set():
            return {"status": "Rejected"}  # F06.FR.17: the boot is accepted already

        async def boot() -> None:  # the boot loop sends it now, not a boot of its own
            state.boot_reason = "Triggered"
            station.boot_now()

        work: dict[str, Job] = {
            "BootNotification": boot,
            "Heartbeat": lambda: notify("Heartbeat", {}),
            "StatusNotification": lambda: self._statuses(evses, where),
            "MeterValues": lambda: self.sampling.triggered(evses),
            "LogStatusNotification": lambda: notify(
                "LogStatusNotification",
                self.log_status() if self.log_status else {"status": "Idle"},
            ),
            "FirmwareStatusNotification": lambda: notify(
                "FirmwareStatusNotification",
                self.firmware_status() if self.firmware_status else {"status": "Idle"},
            ),
        }
        if self.sign is not None:
            work["SignChargingStationCertificate"] = self.sign("ChargingStationCertificate")
            work["SignV2GCertificate"] = self.sign("V2GCertificate")
        running = [e for e in evses if e.transaction is not None]
        if message == "TransactionEvent":
            if not running:
                return {"status": "Rejected"}
            work[message] = lambda: self._transaction_events(running)
        job = work.get(message)
        if job is None:
            return {"status": "NotImplemented"}

        async def run() -> None:
            await job()

        station.after_reply(run)
        return {"status": "Accepted"}

    async def _statuses(self, evses: list[Evse], where: Payload | None) -> None:
        number = where.get("connectorId") if where is not None else None
        for evse in evses:
            for c in evse.connectors:
                if number is None or c.connector_id == number:
                    await self.tx.statuses.report(c)

    async def _transaction_events(self, evses: list[Evse]) -> None:
        measurands = self.state.model.get_list("SampledDataCtrlr.TxUpdatedMeasurands")
        for evse in evses:
            tx = evse.transaction
            if tx is not None:
                values = self.tx.sample(evse, measurands, "Trigger")
                await self.tx.emit(evse, tx, "Updated", "Trigger", values)

    async def op_ClearCache(self, p: Payload, outcome: Outcome) -> Payload:
        return {"status": self.state.auth.clear_cache()}

    async def op_SendLocalList(self, p: Payload, outcome: Outcome) -> Payload:
        status = self.state.auth.send_local_list(
            p["versionNumber"], p["updateType"], p.get("localAuthorizationList") or []
        )
        return {"status": status}

    async def op_GetLocalListVersion(self, p: Payload, outcome: Outcome) -> Payload:
        return {"versionNumber": self.state.auth.version()}

    async def op_DataTransfer(self, p: Payload, outcome: Outcome) -> Payload:
        return {"status": "UnknownVendorId"}
