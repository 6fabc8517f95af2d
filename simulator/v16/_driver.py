"""What a person at the charger does: plug, tag, stop, unplug, suspend, faults, reboots and
power cuts. Each action changes the model and lets the transaction layer report it."""

from __future__ import annotations

import dataclasses

from ..errors import InvalidAction
from ..meter import EV
from ._transactions import Transactions
from .auth import IdTagInfo


class Driver(Transactions):
    """The driver's (and the electrician's) actions on a 1.6 charge point."""

    async def plug_in(self, connector_id: int = 1, ev: EV | None = None) -> None:
        """Plug an EV in; starts charging if a tag was already authorized here."""
        c = self.connector(connector_id)
        if c.plugged:
            raise InvalidAction(f"connector {connector_id} already has a cable in")
        c.plugged = True
        c.finishing = False
        c.ev = ev or dataclasses.replace(self.spec.ev)
        c.meter.set(ev=c.ev)
        if c.transaction is None and c.authorized_tag is not None:
            await self._begin(c, c.authorized_tag)
        else:
            await self._settle(c)

    async def unplug(self, connector_id: int = 1) -> None:
        """Pull the cable out: ends a running transaction (EVDisconnected) when configured."""
        c = self.connector(connector_id)
        if not c.plugged:
            raise InvalidAction(f"connector {connector_id} has no cable in")
        c.plugged = False
        c.finishing = False
        c.ev = None
        c.meter.set(ev=None)
        if c.transaction is not None and self.config.get_bool("StopTransactionOnEVSideDisconnect"):
            await self._end(c, "EVDisconnected")
        else:
            await self._settle(c)

    async def present_tag(self, connector_id: int, id_tag: str) -> IdTagInfo:
        """Hold a tag to the reader: authorizes and starts, or stops the running transaction.
        Returns the idTagInfo the decision was based on."""
        c = self.connector(connector_id)
        tx = c.transaction
        if tx is not None:
            if id_tag == tx.id_tag:
                await self._end(c, "Local", id_tag)
                return {"status": "Accepted"}
            info = await self._authorize(id_tag)
            if (
                info.get("status") == "Accepted"
                and tx.parent_id_tag
                and (info.get("parentIdTag") == tx.parent_id_tag)
            ):
                await self._end(c, "Local", id_tag)
            return info
        if c.faulted or not c.operative:
            raise InvalidAction(f"connector {connector_id} is {c.status}: cannot start")
        info = await self._authorize(id_tag)
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
            await self._begin(c, id_tag)
        else:
            await self._settle(c)
            self._timer(f"timeout:{connector_id}", self._connection_timeout(c))
        return info

    async def stop_charging(
        self, connector_id: int = 1, reason: str = "Local", id_tag: str | None = None
    ) -> None:
        """End the transaction on the connector (the button on the charger, or a given reason)."""
        c = self.connector(connector_id)
        if c.transaction is None:
            raise InvalidAction(f"connector {connector_id} has no transaction")
        await self._end(c, reason, id_tag)

    async def suspend(self, connector_id: int = 1, side: str = "EV") -> None:
        """Pause the energy flow from the EV side (SuspendedEV) or the charger side."""
        c = self.connector(connector_id)
        if c.transaction is None:
            raise InvalidAction(f"connector {connector_id} has no transaction to suspend")
        if side.upper() == "EV":
            c.suspended_by_ev = True
        elif side.upper() == "EVSE":
            c.suspended_by_evse = True
        else:
            raise InvalidAction(f"side must be EV or EVSE, not {side!r}")
        await self._settle(c)

    async def resume(self, connector_id: int = 1) -> None:
        c = self.connector(connector_id)
        c.suspended_by_ev = c.suspended_by_evse = False
        await self._settle(c)

    async def fault(
        self, connector_id: int = 1, error_code: str = "GroundFailure", info: str | None = None
    ) -> None:
        """Raise a fault: the connector goes Faulted and energy stops until `clear_fault`."""
        c = self.connector(connector_id)
        c.faulted, c.error_code, c.info = True, error_code, info
        await self._settle(c)

    async def clear_fault(self, connector_id: int = 1) -> None:
        c = self.connector(connector_id)
        c.faulted, c.error_code, c.info = False, "NoError", None
        await self._settle(c)

    async def reboot(self, kind: str = "Soft", timeout: float = 10.0) -> None:
        """Restart like a Reset: stop transactions (SoftReset/HardReset), reconnect, boot."""
        await self._restart(kind)
        await self.wait_ready(timeout)

    async def power_loss(self, timeout: float = 10.0) -> None:
        """Power cut and back: the link drops at once; interrupted transactions are reported
        with reason PowerLoss after the boot."""
        for c in self.connectors.values():
            if c.transaction is not None:
                self._end_locally(c, "PowerLoss", None)
            c.authorized_tag = None
        await self._drop_for_restart(abrupt=True)
        for c in self.connectors.values():
            await self._settle(c, report=False)
        await self.wait_ready(timeout)

    async def _restart(self, kind: str) -> None:
        reason = "HardReset" if kind == "Hard" else "SoftReset"
        for c in self.connectors.values():
            if c.transaction is not None:
                await self._end(c, reason)
            c.authorized_tag = None
        await self._drop_for_restart(abrupt=kind == "Hard")
        for c in self.connectors.values():
            await self._settle(c, report=False)
