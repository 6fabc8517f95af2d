"""A central system that implements BootNotification only, written with the `ocpp` library as
its example central system is: every other action is answered CALLERROR NotImplemented."""

from __future__ import annotations

import asyncio
import logging
import threading
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from ocpp.routing import on
from ocpp.v16 import ChargePoint, call_result
from ocpp.v16.enums import Action, RegistrationStatus
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response


class BootOnly(ChargePoint):  # type: ignore[misc]
    @on(Action.boot_notification)  # type: ignore[misc]
    def on_boot_notification(self, **kwargs: Any) -> call_result.BootNotification:
        return call_result.BootNotification(
            current_time=datetime.now(UTC).isoformat(),
            interval=10,
            status=RegistrationStatus.accepted,
        )


async def _serve_charge_point(websocket: ServerConnection) -> None:
    assert websocket.request is not None
    await BootOnly(websocket.request.path.strip("/"), websocket).start()


class BootOnlyCsms:
    """The boot-only central system on its own event-loop thread, on 127.0.0.1, any port;
    `refuse`: the HTTP status it answers every handshake with instead."""

    def __init__(self, refuse: int | None = None) -> None:
        self.refuse = refuse
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: Server | None = None
        self.url = ""

    def __enter__(self) -> BootOnlyCsms:
        logging.getLogger("ocpp").setLevel(logging.CRITICAL)  # a traceback per NotImplemented
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        port = next(iter(self._server.sockets)).getsockname()[1]
        self.url = f"ws://127.0.0.1:{port}"
        return self

    async def _start(self) -> Server:
        def process_request(connection: ServerConnection, request: Request) -> Response | None:
            if self.refuse is None:
                return None
            return connection.respond(HTTPStatus(self.refuse), "Unknown charge point\n")

        return await serve(
            _serve_charge_point,
            "127.0.0.1",
            0,
            subprotocols=["ocpp1.6"],  # type: ignore[list-item]
            process_request=process_request,
        )

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        asyncio.run_coroutine_threadsafe(self._server.wait_closed(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
