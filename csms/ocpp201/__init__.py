"""OCPP 2.0.1's adapter: its handlers, its CSMS-initiated operations, and the rules a 2.0.1
connection applies to its frames."""

from __future__ import annotations

import weakref
from collections.abc import Mapping

from ocppj import V201, Call, CallResult, Dialect, Frame, Handler
from ocppj.errors import SecurityError

from ..adapter import Payload, Peer
from ..services import Services
from . import operations
from .friendly import request_for
from .handlers import handlers
from .operations import ACTIONS_BY_BLOCK, CSMS_ACTIONS, REDACTED, is_password

DIALECT = V201

# What a station whose boot is Pending may send besides BootNotification: what the CSMS asks
# of it meanwhile (reports, and the messages a TriggerMessage can ask for). Rejected: nothing.
PENDING_ALLOWED = frozenset(
    {
        "NotifyReport",
        "NotifyMonitoringReport",
        "NotifyCustomerInformation",
        "Heartbeat",
        "StatusNotification",
        "LogStatusNotification",
        "FirmwareStatusNotification",
        "PublishFirmwareStatusNotification",
        "MeterValues",
        "TransactionEvent",
        "SignCertificate",
    }
)


class Ocpp201:
    """The 2.0.1 side of the CSMS (see `csms.adapter.Adapter`)."""

    dialect: Dialect = DIALECT
    actions_by_profile: Mapping[str, tuple[str, ...]] = ACTIONS_BY_BLOCK
    csms_actions: Mapping[str, str] = CSMS_ACTIONS

    def __init__(self) -> None:
        # the connections whose last boot was answered Pending (weak: gone with them)
        self._pending: weakref.WeakSet[Peer] = weakref.WeakSet()

    def handlers(self, services: Services, peer: Peer) -> dict[str, Handler]:
        def on_boot(status: str) -> None:
            if status == "Pending":
                self._pending.add(peer)
            else:
                self._pending.discard(peer)

        return handlers(services, peer, on_boot)

    def guard(self, peer: Peer, action: str) -> None:
        """Until its boot is accepted a station may send BootNotification, and while Pending
        what the CSMS asks of it; anything else is refused with SecurityError (B02, B03)."""
        if peer.boot_accepted or action == "BootNotification":
            return
        if peer in self._pending and action in PENDING_ALLOWED:
            return
        raise SecurityError(f"{action} refused: BootNotification not accepted")

    def redact(self, frame: Frame | None, text: str) -> str:
        """Hide the Basic Auth password a SetVariables sets from the message log."""
        if isinstance(frame, Call) and frame.action == "SetVariables":
            for data in frame.payload.get("setVariableData", []):
                if is_password(data):
                    text = text.replace(str(data["attributeValue"]), REDACTED)
        return text

    def transaction_id(self, frame: Call | CallResult) -> int | None:
        """2.0.1's frames name the station's transaction ids, not the CSMS's numbers: none
        is linked in the message log."""
        return None

    async def record(
        self, services: Services, charger_id: str, action: str, request: Payload, result: Payload
    ) -> None:
        await operations.record(services, charger_id, action, request, result)

    async def request(
        self, services: Services, charger_id: str, name: str, fields: Payload
    ) -> tuple[str, Payload]:
        return await request_for(services, charger_id, name, fields)


ADAPTER = Ocpp201()

__all__ = ["ADAPTER", "DIALECT", "REDACTED", "Ocpp201"]
