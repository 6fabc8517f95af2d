"""A raw OCPP 2.0.1 station over a real WebSocket: exact frames in, exact frames out."""

from __future__ import annotations

import json
from typing import Any

from tests.csms.client import RawClient

Payload = dict[str, Any]
NOW = "2026-12-02T10:00:00Z"
SUBPROTOCOL = "ocpp2.0.1"


def boot_request(reason: str = "PowerUp", **station: Any) -> Payload:
    return {"reason": reason, "chargingStation": {"model": "Raw", "vendorName": "Test", **station}}


def token(value: str, kind: str = "ISO14443") -> Payload:
    return {"idToken": value, "type": kind}


def event(
    kind: str, seq_no: int, tx: str = "TX-1", *, trigger: str = "Authorized", **more: Any
) -> Payload:
    """A TransactionEventRequest; `more` adds its optional fields (idToken, meterValue, ...)."""
    info = {"transactionId": tx, **more.pop("info", {})}
    return {
        "eventType": kind,
        "timestamp": more.pop("timestamp", NOW),
        "triggerReason": trigger,
        "seqNo": seq_no,
        "transactionInfo": info,
        "evse": more.pop("evse", {"id": 1, "connectorId": 1}),
        **more,
    }


def energy(wh: float, timestamp: str = NOW, **unit: Any) -> list[Payload]:
    """meterValue with one Energy.Active.Import.Register sample."""
    sample = {"value": wh, "measurand": "Energy.Active.Import.Register"}
    if unit:
        sample["unitOfMeasure"] = unit
    return [{"timestamp": timestamp, "sampledValue": [sample]}]


class Station(RawClient):
    @classmethod
    async def connect(cls, url: str, **options: Any) -> Station:
        client = await RawClient.open(url, subprotocols=[SUBPROTOCOL], **options)
        return cls(client.ws)

    async def boot(self, reason: str = "PowerUp", **station: Any) -> dict[str, Any]:  # type: ignore[override]
        return await self.result("BootNotification", boot_request(reason, **station))

    async def error(self, action: str, payload: Payload) -> list[Any]:
        """Send a CALL that must be answered with a CALLERROR; the frame."""
        frame = await self.call(action, payload)
        assert frame[0] == 4, f"expected CALLERROR, got {frame}"
        return frame

    async def answer(self, action: str, payload: Payload) -> Payload:
        """Wait for the CSMS's CALL of `action`, answer it with `payload`; its request."""
        frame = await self.recv()
        assert frame[0] == 2 and frame[2] == action, frame
        await self.send(json.dumps([3, frame[1], payload]))
        request: Payload = frame[3]
        return request
