"""The CSMS process: database, services, OCPP server and background tasks, started together."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from types import TracebackType
from typing import Any

from .config import CsmsConfig
from .connections import Connection, ConnectionRegistry
from .monitor import Monitor
from .server import OcppServer
from .services import Services
from .store import Database

log = logging.getLogger(__name__)


class ChargerNotConnected(LookupError):
    def __init__(self, charger_id: str) -> None:
        self.charger_id = charger_id
        super().__init__(f"Charger {charger_id} is not connected")


class CsmsApp:
    """`async with CsmsApp(config) as app:` runs a complete CSMS until the block ends."""

    def __init__(self, config: CsmsConfig) -> None:
        self.config = config
        self.registry = ConnectionRegistry()
        self._services: Services | None = None
        self._server: OcppServer | None = None
        self._tasks: asyncio.Task[None] | None = None

    @property
    def services(self) -> Services:
        assert self._services is not None, "CSMS not started"
        return self._services

    @property
    def ocpp_port(self) -> int:
        assert self._server is not None, "CSMS not started"
        return self._server.port

    @property
    def ocpp_url(self) -> str:
        host = "127.0.0.1" if self.config.host in ("0.0.0.0", "") else self.config.host
        return f"ws://{host}:{self.ocpp_port}/ocpp"

    async def start(self) -> None:
        db = await Database.open(self.config.db_path)
        self._services = services = Services.build(db, self.config)
        await services.chargers.store.all_offline()
        self._server = OcppServer(services, self.registry)
        await self._server.start(self.config.host, self.config.ocpp_port)
        self._tasks = asyncio.create_task(self._background(), name="csms-background")
        log.info("OCPP server listening on %s", self.ocpp_url)

    async def _background(self) -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(self.services.log.run(), name="message-log")
            group.create_task(Monitor(self.services, self.registry).run(), name="monitor")

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop()
        if self._tasks is not None:
            self._tasks.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._tasks
        if self._services is not None:
            await self._services.log.flush()
            await self._services.db.close()

    async def __aenter__(self) -> CsmsApp:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def connection(self, charger_id: str) -> Connection:
        connection = self.registry.get(charger_id)
        if connection is None:
            raise ChargerNotConnected(charger_id)
        return connection

    async def call(
        self, charger_id: str, action: str, payload: dict[str, Any], timeout: float | None = None
    ) -> dict[str, Any]:
        """Send a CSMS-initiated CALL to a connected charger and return its answer."""
        return await self.connection(charger_id).call(action, payload, timeout)

    async def serve_forever(self) -> None:
        async with self:
            await asyncio.Event().wait()
