"""A small central system written with the `ocpp` library, as many are, and its `Backend`
for the adapter kit: the mapping a QA engineer writes (about 40 lines here).

    python -m examples.http_adapter.ocpp_library_csms   # OCPP on :9000, the adapter on :9001
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime
from itertools import count
from typing import Any

from ocpp.charge_point import camel_to_snake_case, remove_nones, snake_to_camel_case
from ocpp.exceptions import OCPPError
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from .adapter import ChargerError, Exists, NotConnected, Payload


def _now() -> str:
    return datetime.now(UTC).isoformat()


class Station(ChargePoint):  # type: ignore[misc]
    """One connected charger, as the CSMS serves it."""

    def __init__(self, charger_id: str, connection: Any, csms: LibraryCsms) -> None:
        super().__init__(charger_id, connection)
        self.csms = csms

    @on(Action.boot_notification)  # type: ignore[misc]
    def on_boot(self, **kwargs: Any) -> call_result.BootNotification:
        return call_result.BootNotification(current_time=_now(), interval=60, status="Accepted")

    @on(Action.heartbeat)  # type: ignore[misc]
    def on_heartbeat(self) -> call_result.Heartbeat:
        return call_result.Heartbeat(current_time=_now())

    @on(Action.status_notification)  # type: ignore[misc]
    def on_status(self, **kwargs: Any) -> call_result.StatusNotification:
        return call_result.StatusNotification()

    @on(Action.authorize)  # type: ignore[misc]
    def on_authorize(self, id_tag: str) -> call_result.Authorize:
        return call_result.Authorize(id_tag_info={"status": self.csms.verdict(id_tag)})

    @on(Action.start_transaction)  # type: ignore[misc]
    def on_start(self, id_tag: str, **kwargs: Any) -> call_result.StartTransaction:
        return call_result.StartTransaction(
            transaction_id=next(self.csms.transaction_ids),
            id_tag_info={"status": self.csms.verdict(id_tag)},
        )

    @on(Action.stop_transaction)  # type: ignore[misc]
    def on_stop(self, **kwargs: Any) -> call_result.StopTransaction:
        return call_result.StopTransaction()

    @on(Action.meter_values)  # type: ignore[misc]
    def on_meter_values(self, **kwargs: Any) -> call_result.MeterValues:
        return call_result.MeterValues()


class LibraryCsms:
    """The central system: connected stations and the tag registry (in memory)."""

    def __init__(self) -> None:
        self.stations: dict[str, Station] = {}
        self.tags: dict[str, str] = {}
        self.transaction_ids = count(1)

    def verdict(self, id_tag: str) -> str:
        return self.tags.get(id_tag, "Invalid")

    async def serve(self, connection: ServerConnection) -> None:
        assert connection.request is not None
        charger_id = connection.request.path.rstrip("/").rsplit("/", 1)[-1]
        station = Station(charger_id, connection, self)
        self.stations[charger_id] = station
        try:
            await station.start()
        except ConnectionClosed:
            pass  # the station went away
        finally:
            if self.stations.get(charger_id) is station:
                del self.stations[charger_id]


class LibraryBackend:
    """The mapping: the adapter's three routes onto `LibraryCsms`."""

    def __init__(self, csms: LibraryCsms) -> None:
        self.csms = csms

    async def register_charger(
        self, charger_id: str, password: str | None, security_profile: int | None
    ) -> None:
        return None  # this CSMS accepts any charger

    async def register_tag(
        self, id_tag: str, status: str, expiry: str | None, parent: str | None, update: bool
    ) -> None:
        if id_tag in self.csms.tags and not update:
            raise Exists(id_tag)
        self.csms.tags[id_tag] = status

    async def send(self, charger_id: str, action: str, payload: Payload, timeout: float) -> Payload:
        station = self.csms.stations.get(charger_id)
        if station is None:
            raise NotConnected(charger_id)
        request = getattr(call, action)(**camel_to_snake_case(payload))
        try:
            result = await asyncio.wait_for(station.call(request, suppress=False), timeout)
        except OCPPError as exc:
            raise ChargerError(f"{exc.code}: {exc.description}") from exc
        answer: Payload = snake_to_camel_case(remove_nones(dataclasses.asdict(result)))
        return answer


async def main() -> None:
    import uvicorn
    from websockets.asyncio.server import serve

    from .adapter import make_app

    csms = LibraryCsms()
    server = uvicorn.Server(uvicorn.Config(make_app(LibraryBackend(csms)), port=9001))
    async with serve(csms.serve, "127.0.0.1", 9000, subprotocols=["ocpp1.6"]):  # type: ignore[list-item]
        await server.serve()


if __name__ == "__main__":
    asyncio.run(main())
