"""Connector statuses of a 2.0.1 station (OCPP 2.0.1 G01): settled from the EVSE's
situation, each change told in a StatusNotification (evseId, connectorId), all of them after
a boot; problems told in NotifyEvent (a connector's Problem variable)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from ocppj import RpcError

from ..clock import wait_status
from ..errors import NotConnected
from .state import State201
from .topology import Connector201, Evse

__all__ = ["Statuses"]

log = logging.getLogger("simulator")


class Statuses:
    """The status side of the connectors of `state`."""

    __slots__ = ("_event_ids", "state", "station")

    def __init__(self, state: State201) -> None:
        self.state = state
        self.station = state.station
        self._event_ids = 0

    async def report(self, c: Connector201) -> None:
        station = self.station
        if not station.online:
            return
        status = c.status
        payload = {
            "timestamp": station.timestamp(),
            "connectorStatus": str(status),
            "evseId": c.evse_id,
            "connectorId": c.connector_id,
        }
        try:
            await station.call("StatusNotification", payload)
        except (RpcError, NotConnected) as exc:
            log.info("%s: StatusNotification not delivered: %s", station.identity, exc)
            return
        c.reported = status

    async def settle(self, evse: Evse, report: bool = True) -> None:
        """Each connector of `evse` in the status its situation calls for, told when changed."""
        for c in evse.connectors:
            if c.set_status(c.resting_status()) and report:
                await self.report(c)

    async def settle_all(self, evses: Iterable[Evse] | None = None) -> None:
        for evse in list(self.state.evses.values() if evses is None else evses):
            await self.settle(evse)

    async def after_boot(self, booted: bool) -> None:
        """Every status after a boot; after a reconnect, those the CSMS was not told."""
        for c in list(self.state.connectors.values()):
            if booted or c.reported != c.status:
                await self.report(c)

    async def wait_status(self, number: int, status: str, timeout: float) -> None:
        await wait_status(self.state.connector(number), number, status, timeout)

    async def problem(
        self, c: Connector201, active: bool, code: str | None, component: str = "Connector"
    ) -> None:
        """NotifyEvent: the Problem variable of the connector (or of `component` on it, e.g.
        ConnectorPlugRetentionLock) set or cleared."""
        station = self.station
        if not station.online:
            return
        self._event_ids += 1
        event: dict[str, Any] = {
            "eventId": self._event_ids,
            "timestamp": station.timestamp(),
            "trigger": "Delta",
            "actualValue": str(active).lower(),
            "eventNotificationType": "HardWiredNotification",
            "component": {
                "name": component,
                "evse": {"id": c.evse_id, "connectorId": c.connector_id},
            },
            "variable": {"name": "Problem"},
            "cleared": not active,
        }
        if code:
            event["techCode"] = code[:50]
        await station.notify(
            "NotifyEvent",
            {"generatedAt": station.timestamp(), "seqNo": 0, "eventData": [event]},
        )
