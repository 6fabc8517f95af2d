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

# What a station whose boot is Pending may send besides BootNotification (B02.FR.09): the
# reports the CSMS asks for, and what a TriggerMessage the station accepted asks for (the
# requestedMessage -> the action it sends). Rejected: nothing.
PENDING_REPORTS = frozenset({"NotifyReport", "NotifyMonitoringReport", "NotifyCustomerInformation"})
TRIGGERED = {
    "LogStatusNotification": "LogStatusNotification",
    "FirmwareStatusNotification": "FirmwareStatusNotification",
    "Heartbeat": "Heartbeat",
    "MeterValues": "MeterValues",
    "SignChargingStationCertificate": "SignCertificate",
    "SignV2GCertificate": "SignCertificate",
    "StatusNotification": "StatusNotification",
    "TransactionEvent": "TransactionEvent",
    "SignCombinedCertificate": "SignCertificate",
    "PublishFirmwareStatusNotification": "PublishFirmwareStatusNotification",
}


class Ocpp201:
    """The 2.0.1 side of the CSMS (see `csms.adapter.Adapter`)."""

    dialect: Dialect = DIALECT
    actions_by_profile: Mapping[str, tuple[str, ...]] = ACTIONS_BY_BLOCK
    csms_actions: Mapping[str, str] = CSMS_ACTIONS

    def __init__(self) -> None:
        # the connections whose last boot was answered Pending, and what each may send
        # meanwhile (weak: gone with them)
        self._pending: weakref.WeakKeyDictionary[Peer, set[str]] = weakref.WeakKeyDictionary()

    def handlers(self, services: Services, peer: Peer) -> dict[str, Handler]:
        def on_boot(status: str) -> None:
            if status == "Pending":
                self._pending.setdefault(peer, set(PENDING_REPORTS))
            else:
                self._pending.pop(peer, None)

        return handlers(services, peer, on_boot)

    def guard(self, peer: Peer, action: str) -> None:
        """Until its boot is accepted a station may send BootNotification, and while Pending
        what the CSMS asked of it; anything else is refused with SecurityError (B02, B03)."""
        if peer.boot_accepted or action == "BootNotification":
            return
        if action in self._pending.get(peer, ()):
            return
        raise SecurityError(f"{action} refused: BootNotification not accepted")

    def redact(self, frame: Frame | None, text: str) -> str:
        """Hide the Basic Auth password a SetVariables sets from the message log."""
        if isinstance(frame, Call) and frame.action == "SetVariables":
            for data in frame.payload.get("setVariableData", []):
                if is_password(data):
                    text = text.replace(str(data["attributeValue"]), REDACTED)
        return text

    def transaction_id(self, frame: Call | CallResult, known: Mapping[str, int]) -> int | None:
        """2.0.1's frames name the station's transaction ids (TransactionEvent's
        transactionInfo, RequestStopTransaction, GetTransactionStatus, a
        RequestStartTransaction answer): linked once the CSMS knows the number of it."""
        payload = frame.payload
        info = payload.get("transactionInfo")
        station_id = info.get("transactionId") if isinstance(info, dict) else None
        if station_id is None:
            station_id = payload.get("transactionId")
        return known.get(station_id) if isinstance(station_id, str) else None

    async def record(
        self, services: Services, charger_id: str, action: str, request: Payload, result: Payload
    ) -> None:
        if action == "TriggerMessage" and result.get("status") == "Accepted":
            sent = TRIGGERED.get(request["requestedMessage"])
            for peer, allowed in list(self._pending.items()):
                if sent is not None and peer.charger_id == charger_id:
                    allowed.add(sent)  # asked for while Pending: answered, not refused
        await operations.record(services, charger_id, action, request, result)

    async def request(
        self, services: Services, charger_id: str, name: str, fields: Payload
    ) -> tuple[str, Payload]:
        return await request_for(services, charger_id, name, fields)


ADAPTER = Ocpp201()

__all__ = ["ADAPTER", "DIALECT", "REDACTED", "Ocpp201"]
