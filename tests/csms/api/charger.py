"""A small scripted charge point on `RpcSession` that answers every CSMS-initiated 1.6 call.

It answers with `payloads.ANSWERS` unless told otherwise (`answers`, `errors`, `hang`), keeps
what it received, and acts on RemoteStart/RemoteStop like a real charger would: it answers
first, then starts (or stops) the transaction from its own task group.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from websockets.asyncio.client import connect

from ocppj import V16, ConnectionLost, Handler, RpcSession
from ocppj.errors import ERROR_CLASSES

from .payloads import ANSWERS

Payload = dict[str, Any]
NOW = "2026-11-24T10:00:00Z"


class TestCharger:
    __test__ = False  # not a pytest class

    def __init__(self, charger_id: str) -> None:
        self.charger_id = charger_id
        self.answers: dict[str, Payload] = dict(ANSWERS)
        self.errors: dict[str, tuple[str, str]] = {}  # action -> (code, description)
        self.hang: set[str] = set()  # actions never answered
        self.received: list[tuple[str, Payload]] = []
        self.transactions: dict[int, int] = {}  # connector -> transaction id
        self.meter = 1000
        self._todo: asyncio.Queue[tuple[str, Payload]] = asyncio.Queue()
        self._closing = asyncio.Event()
        self.session: RpcSession

    def _handlers(self) -> dict[str, Handler]:
        def handler(action: str) -> Handler:
            async def answer(payload: Payload) -> Payload:
                self.received.append((action, payload))
                if action in self.hang:
                    await self._closing.wait()
                if action in self.errors:
                    code, description = self.errors[action]
                    raise ERROR_CLASSES[code](description)
                result = self.answers[action]
                if result.get("status") == "Accepted" and action in (
                    "RemoteStartTransaction",
                    "RemoteStopTransaction",
                ):
                    self._todo.put_nowait((action, payload))
                return result

            return answer

        return {action: handler(action) for action in ANSWERS}

    @classmethod
    @contextlib.asynccontextmanager
    async def connect(cls, ocpp_url: str, charger_id: str) -> AsyncIterator[TestCharger]:
        """Connect, boot, report connector 1 Available; disconnect when the block ends."""
        charger = cls(charger_id)
        async with connect(
            f"{ocpp_url}/{charger_id}", subprotocols=["ocpp1.6"], open_timeout=5
        ) as websocket:  # type: ignore[list-item]
            charger.session = RpcSession(websocket, V16, charger._handlers(), call_timeout=5)
            async with asyncio.TaskGroup() as group:
                runner = group.create_task(charger.session.run())
                worker = group.create_task(charger._work())
                try:
                    boot = await charger.call(
                        "BootNotification",
                        {"chargePointVendor": "Test Vendor", "chargePointModel": "Test Model"},
                    )
                    assert boot["status"] == "Accepted", boot
                    await charger.status(1, "Available")
                    yield charger
                finally:
                    charger._closing.set()
                    worker.cancel()
                    await websocket.close()
                    await runner

    async def call(self, action: str, payload: Payload) -> Payload:
        return await self.session.call(action, payload)

    async def status(self, connector_id: int, status: str) -> None:
        await self.call(
            "StatusNotification",
            {"connectorId": connector_id, "status": status, "errorCode": "NoError"},
        )

    async def _work(self) -> None:
        """What a charger does after accepting a remote start or stop."""
        while True:
            action, payload = await self._todo.get()
            try:
                if action == "RemoteStartTransaction":
                    await self.start(payload.get("connectorId", 1), payload["idTag"])
                else:
                    await self.stop(payload["transactionId"])
            except ConnectionLost:
                if self._closing.is_set():  # the test ended while it was at work
                    return
                raise

    async def start(self, connector_id: int, id_tag: str) -> int:
        await self.status(connector_id, "Preparing")
        result = await self.call(
            "StartTransaction",
            {
                "connectorId": connector_id,
                "idTag": id_tag,
                "meterStart": self.meter,
                "timestamp": NOW,
            },
        )
        transaction_id: int = result["transactionId"]
        self.transactions[connector_id] = transaction_id
        await self.status(connector_id, "Charging")
        self.meter += 1500
        await self.call(
            "MeterValues",
            {
                "connectorId": connector_id,
                "transactionId": transaction_id,
                "meterValue": [
                    {
                        "timestamp": "2026-11-24T10:05:00Z",
                        "sampledValue": [{"value": str(self.meter), "unit": "Wh"}],
                    }
                ],
            },
        )
        return transaction_id

    async def stop(self, transaction_id: int) -> None:
        connector_id = next((c for c, t in self.transactions.items() if t == transaction_id), None)
        if connector_id is None:
            return
        del self.transactions[connector_id]
        await self.call(
            "StopTransaction",
            {"transactionId": transaction_id, "meterStop": self.meter, "timestamp": NOW},
        )
        await self.status(connector_id, "Available")
