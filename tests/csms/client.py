"""A raw OCPP-J test client over a real WebSocket: exact frames in, exact frames out."""

from __future__ import annotations

import base64
import itertools
import json
import ssl
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

_ids = itertools.count(1)


class RawClient:
    def __init__(self, websocket: ClientConnection) -> None:
        self.ws = websocket

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        subprotocols: list[str] | None = None,  # default: ocpp1.6; []: offer none
        password: str | None = None,
        username: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> RawClient:
        if subprotocols is None:
            subprotocols = ["ocpp1.6"]
        headers = {}
        if password is not None:
            user = username if username is not None else url.rsplit("/", 1)[-1]
            token = base64.b64encode(f"{user}:{password}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        websocket = await connect(
            url,
            subprotocols=subprotocols or None,  # type: ignore[arg-type]
            additional_headers=headers,
            compression=None,
            open_timeout=5,
            ssl=ssl_context,
        )
        return cls(websocket)

    async def send(self, text: str | bytes) -> None:
        await self.ws.send(text)

    async def recv(self, timeout: float = 5) -> list[Any]:
        import asyncio

        raw = await asyncio.wait_for(self.ws.recv(), timeout)
        frame: list[Any] = json.loads(raw)
        return frame

    async def call(self, action: str, payload: dict[str, Any]) -> list[Any]:
        """Send a CALL and return the answer frame (CALLRESULT or CALLERROR)."""
        message_id = f"t{next(_ids)}"
        await self.send(json.dumps([2, message_id, action, payload]))
        frame = await self.recv()
        assert frame[1] == message_id, frame
        return frame

    async def result(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        frame = await self.call(action, payload)
        assert frame[0] == 3, f"expected CALLRESULT, got {frame}"
        result: dict[str, Any] = frame[2]
        return result

    async def boot(self) -> dict[str, Any]:
        return await self.result(
            "BootNotification", {"chargePointVendor": "Test", "chargePointModel": "Raw"}
        )

    async def close(self) -> None:
        await self.ws.close()

    async def __aenter__(self) -> RawClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
