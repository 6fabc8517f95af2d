"""The OCPP 1.6J charge point logic, as its station uses it (`simulator.behaviour.Behaviour`):
what a person at the charger does, the boot and heartbeat settings, and the answers to the
CSMS, each part in its own module over one `State16`."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from ocppj import V16, Dialect

from ..behaviour import Services
from ..dispatch import Handler
from ..errors import InvalidAction
from ..meter import EV
from .auth import AuthStore, IdTagInfo
from .config import Configuration
from .connector import Connector, Transaction
from .features import FeatureOperations
from .operations import CoreOperations, boot_payload
from .security import SecurityOperations
from .state import State16
from .transactions import Transactions16

__all__ = ["Behaviour16"]

# action -> the part of the behaviour whose op_<action> answers it
_HANDLED_BY = {
    name[3:]: part
    for part, cls in (
        ("core", CoreOperations),
        ("features", FeatureOperations),
        ("security", SecurityOperations),
    )
    for name in dir(cls)
    if name.startswith("op_")
}


class Behaviour16:
    """One OCPP 1.6J charge point: its state, transaction logic and operation handlers."""

    version = "1.6"
    dialect: Dialect = V16
    OPERATIONS = frozenset(_HANDLED_BY)  # the CSMS-initiated actions it answers

    def __init__(self, station: Services) -> None:
        self.station = station
        self.state = State16(station)
        self.state.config.on_change = self._config_changed
        self.tx = Transactions16(self.state)
        self.core = CoreOperations(self.state, self.tx)
        self.features = FeatureOperations(self.state, self.tx)
        self.security = SecurityOperations(self.state, self.core, self.features)

    @property
    def operations(self) -> frozenset[str]:
        return self.OPERATIONS

    def handler(self, action: str) -> Handler:
        handler: Handler = getattr(getattr(self, _HANDLED_BY[action]), "op_" + action)
        return handler

    @property
    def config(self) -> Configuration:
        return self.state.config

    @property
    def connectors(self) -> dict[int, Connector]:
        return self.state.connectors

    @property
    def auth(self) -> AuthStore:
        return self.state.auth

    @property
    def firmware_version(self) -> str:
        return self.state.firmware_version

    def _config_changed(self, name: str, value: str) -> None:
        if name == "HeartbeatInterval":
            self.station.wake()
        elif name == "ClockAlignedDataInterval" and self.station.ready.is_set():
            self.tx.start_aligned()

    # -- the boot and the link ---------------------------------------------------------------

    def boot_payload(self) -> dict[str, Any]:
        return boot_payload(self.state)

    def booted(self, interval: int) -> None:
        if interval > 0:
            self.state.config.set("HeartbeatInterval", interval)

    async def after_boot(self, booted: bool) -> None:
        await self.tx.after_boot(booted)
        self.tx.start_aligned()

    def heartbeat_s(self) -> float:
        return self.state.seconds("HeartbeatInterval")

    def ping_interval(self) -> float | None:
        return self.state.config.get_int("WebSocketPingInterval") or None

    def message_attempts(self) -> int:
        return self.state.config.get_int("TransactionMessageAttempts")

    def message_retry_s(self) -> float:
        return self.state.seconds("TransactionMessageRetryInterval")

    # -- reading the state -------------------------------------------------------------------

    def configure(self, values: Mapping[str, Any]) -> None:
        """Set configuration keys locally (readonly ones too), as at installation."""
        for name, value in values.items():
            self.state.config.set(name, value)

    def connector(self, connector_id: int) -> Connector:
        return self.state.connector(connector_id)

    def status(self, connector_id: int) -> str:
        return str(self.state.connector(connector_id).status)

    def transaction(self, connector_id: int) -> Transaction | None:
        return self.state.connector(connector_id).transaction

    async def wait_status(self, connector_id: int, status: str, timeout: float) -> None:
        await self.tx.wait_status(connector_id, status, timeout)

    # -- what a person at the charger does ---------------------------------------------------

    async def plug_in(self, connector_id: int, ev: EV | None) -> None:
        """Plug an EV in; starts charging if a tag was already authorized here."""
        c = self.state.connector(connector_id)
        if c.plugged:
            raise InvalidAction(f"connector {connector_id} already has a cable in")
        c.plugged = True
        c.finishing = False
        c.ev = ev or dataclasses.replace(self.station.spec.ev)
        c.meter.set(ev=c.ev)
        if c.transaction is None and c.authorized_tag is not None:
            await self.tx.begin(c, c.authorized_tag)
        else:
            await self.tx.settle(c)

    async def unplug(self, connector_id: int) -> None:
        """Pull the cable out: ends a running transaction (EVDisconnected) when configured."""
        c = self.state.connector(connector_id)
        if not c.plugged:
            raise InvalidAction(f"connector {connector_id} has no cable in")
        c.plugged = False
        c.finishing = False
        c.ev = None
        c.meter.set(ev=None)
        if c.transaction is not None and self.state.config.get_bool(
            "StopTransactionOnEVSideDisconnect"
        ):
            await self.tx.end(c, "EVDisconnected")
        else:
            await self.tx.settle(c)

    async def present_tag(self, connector_id: int, id_tag: str) -> IdTagInfo:
        """Hold a tag to the reader: authorizes and starts, or stops the running transaction.
        Returns the idTagInfo the decision was based on."""
        c = self.state.connector(connector_id)
        tx = c.transaction
        if tx is not None:
            if id_tag == tx.id_tag:
                await self.tx.end(c, "Local", id_tag)
                return {"status": "Accepted"}
            info = await self.tx.authorize(id_tag)
            if (
                info.get("status") == "Accepted"
                and tx.parent_id_tag
                and (info.get("parentIdTag") == tx.parent_id_tag)
            ):
                await self.tx.end(c, "Local", id_tag)
            return info
        if c.faulted or not c.operative:
            raise InvalidAction(f"connector {connector_id} is {c.status}: cannot start")
        info = await self.tx.authorize(id_tag)
        reservation = c.reservation
        if (
            reservation is not None
            and id_tag != reservation.id_tag
            and not (
                reservation.parent_id_tag and info.get("parentIdTag") == reservation.parent_id_tag
            )
        ):
            return {**info, "status": "Invalid"} if info.get("status") == "Accepted" else info
        if info.get("status") != "Accepted":
            return info
        c.authorized_tag = id_tag
        c.parent_of_tag = info.get("parentIdTag")
        if c.plugged:
            await self.tx.begin(c, id_tag)
        else:
            await self.tx.settle(c)
            self.tx.wait_for_cable(c)
        return info

    def cache_tag(self, id_tag: str, status: str, expiry: str | None) -> None:
        """An entry in the authorization cache, as if the CSMS had answered so before."""
        info: IdTagInfo = {"status": status}
        if expiry is not None:
            info["expiryDate"] = expiry
        self.state.auth.cache[id_tag] = info

    async def stop_charging(self, connector_id: int, reason: str, id_tag: str | None) -> None:
        """End the transaction on the connector (the button on the charger, or a given reason)."""
        c = self.state.connector(connector_id)
        if c.transaction is None:
            raise InvalidAction(f"connector {connector_id} has no transaction")
        await self.tx.end(c, reason, id_tag)

    async def suspend(self, connector_id: int, side: str) -> None:
        """Pause the energy flow from the EV side (SuspendedEV) or the charger side."""
        c = self.state.connector(connector_id)
        if c.transaction is None:
            raise InvalidAction(f"connector {connector_id} has no transaction to suspend")
        if side.upper() == "EV":
            c.suspended_by_ev = True
        elif side.upper() == "EVSE":
            c.suspended_by_evse = True
        else:
            raise InvalidAction(f"side must be EV or EVSE, not {side!r}")
        await self.tx.settle(c)

    async def resume(self, connector_id: int) -> None:
        c = self.state.connector(connector_id)
        c.suspended_by_ev = c.suspended_by_evse = False
        await self.tx.settle(c)

    async def fault(self, connector_id: int, error_code: str, info: str | None) -> None:
        """Raise a fault: the connector goes Faulted and energy stops until `clear_fault`."""
        c = self.state.connector(connector_id)
        c.faulted, c.error_code, c.info = True, error_code, info
        await self.tx.settle(c)

    async def clear_fault(self, connector_id: int) -> None:
        c = self.state.connector(connector_id)
        c.faulted, c.error_code, c.info = False, "NoError", None
        await self.tx.settle(c)

    async def restart(self, kind: str) -> None:
        await self.tx.restart(kind)

    async def power_loss(self) -> None:
        await self.tx.power_loss()
