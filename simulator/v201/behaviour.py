"""The OCPP 2.0.1 charging station logic, as its station uses it
(`simulator.behaviour.Behaviour`): what a person at the charger does, the boot and heartbeat
settings from the device model, and the answers to the CSMS, each part in its own module
over one `State201`."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from ocppj import V201, Dialect

from ..behaviour import Services
from ..dispatch import Handler
from ..errors import InvalidAction
from ..meter import EV
from .auth import id_token
from .charging import SmartCharging
from .customer import CustomerOperations
from .device_model import DeviceModel
from .display import DisplayOperations
from .firmware import FirmwareOperations
from .logs import LogOperations
from .network import NetworkProfiles
from .operations import CoreOperations, boot_payload
from .remote import RemoteOperations
from .reports import ReportOperations
from .reservations import ReservationOperations
from .sampling import Sampling
from .security import SecurityOperations
from .state import State201
from .statuses import Statuses
from .topology import Authorization, Connector201, Evse, Transaction201
from .transactions import Transactions201, conditions
from .variables import Variable

__all__ = ["Behaviour201"]

Payload = dict[str, Any]
# action -> the part of the behaviour whose op_<action> answers it
_HANDLED_BY = {
    name[3:]: part
    for part, cls in (
        ("reports", ReportOperations),
        ("remote", RemoteOperations),
        ("core", CoreOperations),
        ("reservations", ReservationOperations),
        ("security", SecurityOperations),
        ("firmware", FirmwareOperations),
        ("network", NetworkProfiles),
        ("logs", LogOperations),
        ("customers", CustomerOperations),
        ("display", DisplayOperations),
        ("charging", SmartCharging),
    )
    for name in dir(cls)
    if name.startswith("op_")
}
# 1.6 stop reasons the station's users may give, as 2.0.1 says them
_REASONS = {"HardReset": "ImmediateReset", "SoftReset": "ImmediateReset", "UnlockCommand": "Other"}
_TRIGGERS = {
    "Local": "StopAuthorized",
    "Remote": "RemoteStop",
    "DeAuthorized": "Deauthorized",
    "EVDisconnected": "EVCommunicationLost",
    "Timeout": "EVConnectTimeout",
    "ImmediateReset": "ResetCommand",
    "MasterPass": "StopAuthorized",
}
_RESET_BOOTS = frozenset({"RemoteReset", "LocalReset", "ScheduledReset"})


def _same(one: Payload, other: Payload) -> bool:
    return (one["idToken"], one["type"]) == (other["idToken"], other["type"])


class Behaviour201:
    """One OCPP 2.0.1 charging station: its state, transactions and operation handlers."""

    version = "2.0.1"
    dialect: Dialect = V201
    OPERATIONS = frozenset(_HANDLED_BY)  # the CSMS-initiated actions it answers

    def __init__(self, station: Services) -> None:
        self.station = station
        state = self.state = State201(station)
        self.statuses = Statuses(state)
        self.tx = Transactions201(state, self.statuses)
        self.sampling = Sampling(state, self.tx)
        self.reports = ReportOperations(state)
        self.remote = RemoteOperations(state, self.tx)
        self.core = CoreOperations(state, self.tx, self.sampling)
        self.reservations = ReservationOperations(state, self.statuses)
        self.security = SecurityOperations(state)
        self.firmware = FirmwareOperations(
            state,
            self.statuses,
            self.security,
            lambda: self.core.reboot("FirmwareUpdate", "AbnormalCondition", "Reboot"),
        )
        self.network = NetworkProfiles(state)
        self.logs = LogOperations(state)
        self.customers = CustomerOperations(state)
        self.display = DisplayOperations(state)
        self.charging = SmartCharging(state, self.tx)
        self.core.sign = self.security.sign
        self.core.rebooting = self.network.rebooting
        self.core.firmware_status = self.firmware.report
        self.core.log_status = self.logs.report
        self.tx.on_started = self._started
        self.tx.on_idle = self._idle
        self.tx.limit = self.charging.limit_w
        self.configure(station.spec.configuration)
        state.model.on_change = self._changed

    @property
    def operations(self) -> frozenset[str]:
        return self.OPERATIONS

    def handler(self, action: str) -> Handler:
        handler: Handler = getattr(getattr(self, _HANDLED_BY[action]), "op_" + action)
        return handler

    @property
    def config(self) -> DeviceModel:
        return self.state.model

    @property
    def connectors(self) -> dict[int, Connector201]:
        return self.state.connectors

    @property
    def evses(self) -> dict[int, Evse]:
        return self.state.evses

    def _started(self, evse: Evse, tx: Transaction201) -> None:
        self.sampling.transaction_started(evse, tx)
        self.customers.ran(tx)
        self.charging.apply()  # Relative profiles start with it

    async def _idle(self, evse: Evse) -> None:
        """A transaction ended: what waited for it (a Reset, a firmware update) goes on."""
        await self.core.on_idle(evse)
        await self.firmware.on_idle(evse)

    def _changed(self, var: Variable, value: str) -> None:
        """Settings act when set: the heartbeat, the sampling, the Basic Auth password."""
        station, key = self.station, (var.component, var.name)
        if key == ("OCPPCommCtrlr", "HeartbeatInterval"):
            station.wake()
        elif key == ("SecurityCtrlr", "BasicAuthPassword"):
            station.password = value  # used from the next connection on (A01)
        elif var.component == "SampledDataCtrlr" and station.ready.is_set():
            self.sampling.restart()
        elif key == ("AlignedDataCtrlr", "Interval") and station.ready.is_set():
            self.sampling.start_aligned(again=True)

    # -- the boot and the link ---------------------------------------------------------------

    def boot_payload(self) -> Payload:
        return boot_payload(self.state)

    def booted(self, interval: int) -> None:
        if interval > 0:
            self.state.model.set("OCPPCommCtrlr.HeartbeatInterval", interval)

    async def after_boot(self, booted: bool) -> None:
        state = self.state
        reason, state.boot_reason = state.boot_reason, "Unknown"
        if booted and reason in _RESET_BOOTS:
            await self.security.event("ResetOrReboot", f"boot after {reason}")
        await self.statuses.after_boot(booted)
        self.sampling.start_aligned()

    def heartbeat_s(self) -> float:
        return self.state.seconds("OCPPCommCtrlr.HeartbeatInterval")

    def ping_interval(self) -> float | None:
        return self.state.model.get_int("OCPPCommCtrlr.WebSocketPingInterval") or None

    def message_attempts(self) -> int:
        return self.state.model.get_int("OCPPCommCtrlr.MessageAttempts[TransactionEvent]")

    def message_retry_s(self) -> float:
        return self.state.seconds("OCPPCommCtrlr.MessageAttemptInterval[TransactionEvent]")

    # -- reading the state -------------------------------------------------------------------

    def configure(self, values: Mapping[str, Any]) -> None:
        """Set device-model values locally (read-only ones too), as at installation."""
        for name, value in values.items():
            self.state.model.set(name, value)

    def connector(self, connector_id: int) -> Connector201:
        return self.state.connector(connector_id)

    def status(self, connector_id: int) -> str:
        return str(self.state.connector(connector_id).status)

    def transaction(self, connector_id: int) -> Transaction201 | None:
        return self.state.connector(connector_id).transaction

    async def wait_status(self, connector_id: int, status: str, timeout: float) -> None:
        await self.statuses.wait_status(connector_id, status, timeout)

    # -- what a person at the charger does ---------------------------------------------------

    async def plug_in(self, connector_id: int, ev: EV | None) -> None:
        """A cable in: Occupied; a transaction starts or goes on (CablePluggedIn)."""
        c = self.state.connector(connector_id)
        evse = c.evse
        if c.plugged:
            raise InvalidAction(f"connector {connector_id} already has a cable in")
        if evse.plugged is not None:
            raise InvalidAction(f"EVSE {evse.evse_id} is in use at another connector")
        before = conditions(evse)
        c.plugged = True
        evse.ev = ev or dataclasses.replace(self.station.spec.ev)
        evse.meter.set(ev=evse.ev)
        await self.statuses.settle(evse)
        await self.tx.update(evse, "CablePluggedIn", before)

    async def unplug(self, connector_id: int) -> None:
        """The cable out (the EV side lost): with StopTxOnEVSideDisconnect the transaction
        is deauthorized too (E09.FR.01), so it ends at an EVConnected, Authorized or
        PowerPathClosed TxStopPoint (EVCommunicationLost, EVDisconnected: E06); without, it
        goes on without the EV."""
        c = self.state.connector(connector_id)
        evse = c.evse
        if not c.plugged:
            raise InvalidAction(f"connector {connector_id} has no cable in")
        before = conditions(evse)
        c.plugged = False
        evse.ev = None
        evse.meter.set(ev=None)
        tx = evse.transaction
        if tx is not None and not self.state.model.get_bool("TxCtrlr.StopTxOnEVSideDisconnect"):
            self.tx.apply_flow(evse)
            await self.tx.emit(evse, tx, "Updated", "EVCommunicationLost")
            await self.statuses.settle(evse)
            return
        if tx is not None:
            evse.authorization = None
        await self.tx.update(evse, "EVCommunicationLost", before, "EVDisconnected")

    async def present_tag(self, connector_id: int, id_tag: str) -> Payload:
        """A token at the reader (`TYPE:VALUE`, or an ISO14443 card): authorizes and starts,
        or stops the transaction it started (or one of its group, or any with the master
        pass). Returns the idTokenInfo the decision was based on."""
        token = id_token(id_tag)
        c = self.state.connector(connector_id)
        evse, model = c.evse, self.state.model
        tx = evse.transaction
        if tx is not None and tx.id_token is not None:
            if _same(tx.id_token, token):
                await self.tx.stop(evse, "StopAuthorized", "Local", token)
                return {"status": "Accepted"}
            info = await self.state.auth.authorize(token)
            group = (info.get("groupIdToken") or {}).get("idToken")
            if info.get("status") == "Accepted" and group:
                if group == model.get("AuthCtrlr.MasterPassGroupId"):
                    await self.tx.stop(evse, "StopAuthorized", "MasterPass", token)
                elif group == tx.group_id_token:
                    await self.tx.stop(evse, "StopAuthorized", "Local", token)
            return info
        waiting = evse.authorization
        if tx is None and waiting is not None and _same(waiting.id_token, token):
            evse.authorization = None  # the same token again, before the cable: cancelled
            self.state.timers.cancel(f"timeout:{evse.evse_id}")
            await self.statuses.settle(evse)
            return {"status": "Accepted"}
        if evse.faulted or not evse.operative or not c.operative or evse.firmware_hold:
            raise InvalidAction(f"connector {connector_id} is {c.status}: cannot start")
        info = await self.state.auth.authorize(token)
        if info.get("status") != "Accepted":
            return info
        reservation = evse.reservation
        group = (info.get("groupIdToken") or {}).get("idToken")
        if reservation is not None and not reservation.admits(token, group):
            return {**info, "status": "Invalid"}  # kept for another token (H01)
        master = model.get("AuthCtrlr.MasterPassGroupId")
        if master and group == master:
            return info  # a master pass stops transactions, it starts none (C16)
        before = self.tx.authorized(evse, Authorization(token, info))
        await self.tx.update(evse, "Authorized", before)
        self.tx.wait_for_cable(evse)
        return info

    def cache_tag(self, id_tag: str, status: str, expiry: str | None) -> None:
        """An entry in the authorization cache (C10), as if the CSMS had answered so before;
        it lasts AuthCacheCtrlr.LifeTime unless `expiry` says."""
        info: Payload = {"status": status}
        if expiry is not None:
            info["cacheExpiryDateTime"] = expiry
        self.state.auth.put(id_token(id_tag), info)

    async def stop_charging(self, connector_id: int, reason: str, id_tag: str | None) -> None:
        """End the transaction now (the button on the charger, or the reason given)."""
        evse = self.state.connector(connector_id).evse
        if evse.transaction is None:
            raise InvalidAction(f"connector {connector_id} has no transaction")
        stopped = _REASONS.get(reason, reason)
        token = id_token(id_tag) if id_tag else None
        await self.tx.end(evse, _TRIGGERS.get(stopped, "AbnormalCondition"), stopped, token)

    async def suspend(self, connector_id: int, side: str) -> None:
        """Pause the energy flow from the EV side (SuspendedEV) or the charger's."""
        evse = self.state.connector(connector_id).evse
        if evse.transaction is None:
            raise InvalidAction(f"connector {connector_id} has no transaction to suspend")
        before = conditions(evse)
        if side.upper() == "EV":
            evse.suspended_by_ev = True
        elif side.upper() == "EVSE":
            evse.suspended_by_evse = True
        else:
            raise InvalidAction(f"side must be EV or EVSE, not {side!r}")
        await self.tx.update(evse, "ChargingStateChanged", before)

    async def resume(self, connector_id: int) -> None:
        evse = self.state.connector(connector_id).evse
        before = conditions(evse)
        evse.suspended_by_ev = evse.suspended_by_evse = False
        await self.tx.update(evse, "ChargingStateChanged", before)

    async def fault(self, connector_id: int, error_code: str, info: str | None) -> None:
        """A fault: Faulted, told in a NotifyEvent; energy stops until `clear_fault`."""
        c = self.state.connector(connector_id)
        before = conditions(c.evse)
        c.faulted = True
        await self.statuses.problem(c, True, error_code)
        await self.tx.update(c.evse, "ChargingStateChanged", before)

    async def clear_fault(self, connector_id: int) -> None:
        c = self.state.connector(connector_id)
        before = conditions(c.evse)
        c.faulted = False
        await self.statuses.problem(c, False, None)
        await self.tx.update(c.evse, "ChargingStateChanged", before)

    async def ev_detected(self, connector_id: int) -> None:
        """The parking bay of the connector's EVSE is occupied (ParkingBayOccupancy)."""
        evse = self.state.connector(connector_id).evse
        before = conditions(evse)
        evse.ev_detected = True
        await self.tx.update(evse, "EVDetected", before)

    async def ev_departed(self, connector_id: int) -> None:
        evse = self.state.connector(connector_id).evse
        before = conditions(evse)
        evse.ev_detected = False
        await self.tx.update(evse, "EVDeparted", before, "EVDisconnected")

    async def restart(self, kind: str) -> None:
        """A local reboot: the transactions end (Reboot), the boot says LocalReset."""
        await self.core.reboot("LocalReset", "AbnormalCondition", "Reboot", kind == "Hard")

    async def power_loss(self) -> None:
        await self.core.power_loss()
