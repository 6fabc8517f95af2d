"""The reference: a bare CSMS in the `ocpp` library's example pattern (no persistence, the
library's own schema validation on), for 1.6 and 2.0.1 on one port (the subprotocol picks).
Run as a process: `python -m ocpp_bench.bench.reference`.
"""

# mypy: disable-error-code=untyped-decorator
from __future__ import annotations

import argparse
import asyncio
import contextlib
from datetime import UTC, datetime
from typing import Any

from ocpp import v201
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call_result
from ocpp.v16.enums import Action, AuthorizationStatus, RegistrationStatus
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol


def now() -> str:
    return datetime.now(UTC).isoformat()


class ReferenceChargePoint(ChargePoint):  # type: ignore[misc]
    _transactions = 0

    @on(Action.boot_notification)
    def on_boot(self, **_: Any) -> Any:
        return call_result.BootNotification(now(), 300, RegistrationStatus.accepted)

    @on(Action.heartbeat)
    def on_heartbeat(self, **_: Any) -> Any:
        return call_result.Heartbeat(now())

    @on(Action.status_notification)
    def on_status(self, **_: Any) -> Any:
        return call_result.StatusNotification()

    @on(Action.meter_values)
    def on_meter_values(self, **_: Any) -> Any:
        return call_result.MeterValues()

    @on(Action.authorize)
    def on_authorize(self, **_: Any) -> Any:
        return call_result.Authorize({"status": AuthorizationStatus.accepted})

    @on(Action.start_transaction)
    def on_start(self, **_: Any) -> Any:
        ReferenceChargePoint._transactions += 1
        return call_result.StartTransaction(
            ReferenceChargePoint._transactions, {"status": AuthorizationStatus.accepted}
        )

    @on(Action.stop_transaction)
    def on_stop(self, **_: Any) -> Any:
        return call_result.StopTransaction()


ACCEPTED_201 = {"status": "Accepted"}


class ReferenceStation(v201.ChargePoint):  # type: ignore[misc]
    """The same for a 2.0.1 station, with the library's v201 classes."""

    @on("BootNotification")
    def on_boot(self, **_: Any) -> Any:
        return v201.call_result.BootNotification(now(), 300, "Accepted")

    @on("Heartbeat")
    def on_heartbeat(self, **_: Any) -> Any:
        return v201.call_result.Heartbeat(now())

    @on("StatusNotification")
    def on_status(self, **_: Any) -> Any:
        return v201.call_result.StatusNotification()

    @on("MeterValues")
    def on_meter_values(self, **_: Any) -> Any:
        return v201.call_result.MeterValues()

    @on("Authorize")
    def on_authorize(self, **_: Any) -> Any:
        return v201.call_result.Authorize(ACCEPTED_201)

    @on("TransactionEvent")
    def on_transaction_event(self, event_type: str, **_: Any) -> Any:
        info = ACCEPTED_201 if event_type == "Started" else None
        return v201.call_result.TransactionEvent(id_token_info=info)


async def handler(websocket: ServerConnection) -> None:
    identity = websocket.request.path.rstrip("/").rsplit("/", 1)[-1] if websocket.request else "?"
    kind = ReferenceStation if websocket.subprotocol == "ocpp2.0.1" else ReferenceChargePoint
    with contextlib.suppress(ConnectionClosed):
        await kind(identity, websocket).start()


async def main(host: str, port: int) -> None:
    async with serve(
        handler,
        host,
        port,
        subprotocols=[Subprotocol("ocpp1.6"), Subprotocol("ocpp2.0.1")],
        compression=None,
        ping_interval=None,
    ) as server:
        print(f"reference CSMS at ws://{host}:{server.sockets[0].getsockname()[1]}", flush=True)
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    options = parser.parse_args()
    asyncio.run(main(options.host, options.port))
