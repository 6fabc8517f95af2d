"""A minimal OCPP 2.0.1 CSMS written with the mobilityhouse `ocpp` package's v201 classes, so
the 2.0.1 station is checked against an implementation that is not ours; it records what it
receives as the 1.6 one does (`MiniCsms`), and helpers start stations against it."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ocpp.routing import on
from ocpp.v201 import ChargePoint as OcppChargePoint
from ocpp.v201 import call_result
from ocpp.v201.enums import Action
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response

from simulator import Backoff, ChargePoint, ChargePointSpec, create_charge_point
from simulator.clock import SYSTEM_CLOCK, Clock

from ..conftest import MiniCsms


def now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class Peer201(OcppChargePoint):  # type: ignore[misc]
    """The CSMS's side of one station. `csms.tags` maps an idToken value to its idTokenInfo
    (default Accepted); `csms.fail` makes an action answer CALLERROR n times."""

    csms: MiniCsms

    async def route_message(self, raw_msg: str) -> None:
        message = json.loads(raw_msg)
        if message[0] == 2:
            self.csms.record(self.id, message[2], message[3])
        await super().route_message(raw_msg)

    def _info(self, token: dict[str, Any]) -> dict[str, Any]:
        return self.csms.tags.get(token["id_token"], {"status": "Accepted"})

    @on(Action.boot_notification)
    async def on_boot(self, **_: Any) -> Any:
        statuses = self.csms.boot_status
        status = statuses.pop(0) if len(statuses) > 1 else statuses[0]
        skewed = datetime.now(UTC) + timedelta(seconds=self.csms.clock_skew_s)
        return call_result.BootNotification(
            current_time=skewed.isoformat(), interval=self.csms.boot_interval, status=status
        )

    @on(Action.heartbeat)
    async def on_heartbeat(self) -> Any:
        return call_result.Heartbeat(current_time=now())

    @on(Action.status_notification)
    async def on_status(self, **_: Any) -> Any:
        return call_result.StatusNotification()

    @on(Action.authorize)
    async def on_authorize(self, id_token: dict[str, Any], **_: Any) -> Any:
        return call_result.Authorize(id_token_info=self._info(id_token))

    @on(Action.transaction_event)
    async def on_transaction_event(self, **kwargs: Any) -> Any:
        self.csms._failing("TransactionEvent")
        token = kwargs.get("id_token")
        if token is None:
            return call_result.TransactionEvent()
        return call_result.TransactionEvent(id_token_info=self._info(token))

    @on(Action.meter_values)
    async def on_meter_values(self, **_: Any) -> Any:
        return call_result.MeterValues()

    @on(Action.notify_report)
    async def on_notify_report(self, **_: Any) -> Any:
        return call_result.NotifyReport()

    @on(Action.notify_event)
    async def on_notify_event(self, **_: Any) -> Any:
        return call_result.NotifyEvent()

    @on(Action.security_event_notification)
    async def on_security_event(self, **_: Any) -> Any:
        return call_result.SecurityEventNotification()

    @on(Action.sign_certificate)
    async def on_sign(self, **_: Any) -> Any:
        return call_result.SignCertificate(status="Accepted")

    @on(Action.log_status_notification)
    async def on_log(self, **_: Any) -> Any:
        return call_result.LogStatusNotification()

    @on(Action.notify_customer_information)
    async def on_customer_information(self, **_: Any) -> Any:
        return call_result.NotifyCustomerInformation()

    @on(Action.reservation_status_update)
    async def on_reservation_update(self, **_: Any) -> Any:
        return call_result.ReservationStatusUpdate()

    @on(Action.notify_display_messages)
    async def on_display_messages(self, **_: Any) -> Any:
        return call_result.NotifyDisplayMessages()

    @on(Action.report_charging_profiles)
    async def on_charging_profiles(self, **_: Any) -> Any:
        return call_result.ReportChargingProfiles()

    @on(Action.firmware_status_notification)
    async def on_firmware(self, **_: Any) -> Any:
        return call_result.FirmwareStatusNotification()


async def start_csms201(csms: MiniCsms) -> Server:
    """Serve `csms` on 127.0.0.1, a free port, subprotocol ocpp2.0.1; Basic Auth checked for
    the identities in `csms.passwords`."""

    def check_auth(connection: ServerConnection, request: Request) -> Response | None:
        identity = request.path.rstrip("/").rsplit("/", 1)[-1]
        header = request.headers.get("Authorization")
        csms.auth_headers.append(header)
        expected = csms.passwords.get(identity)
        if expected is None:
            return None
        token = base64.b64encode(f"{identity}:{expected}".encode()).decode()
        if header != f"Basic {token}":
            return connection.respond(401, "bad credentials\n")
        return None

    async def handler(connection: ServerConnection) -> None:
        identity = connection.request.path.rstrip("/").rsplit("/", 1)[-1]
        peer = Peer201(identity, connection)
        peer.csms = csms
        csms.peers[identity] = peer
        csms.connections.append(identity)
        csms._changed.set()
        csms._changed = asyncio.Event()
        try:
            await peer.start()
        except Exception:  # noqa: BLE001 - the ocpp library ends start() by raising on close
            return

    server = await serve(
        handler,
        "127.0.0.1",
        0,
        subprotocols=["ocpp2.0.1"],  # type: ignore[list-item]
        process_request=check_auth,
        compression=None,
        ping_interval=None,
    )
    csms.url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/ocpp"
    return server


@pytest.fixture
async def csms() -> AsyncIterator[MiniCsms]:
    mini = MiniCsms()
    server = await start_csms201(mini)
    try:
        yield mini
    finally:
        server.close()
        await server.wait_closed()


FAST = {
    "HeartbeatInterval": "60",
    "MeterValueSampleInterval": "0",  # SampledDataCtrlr.TxUpdatedInterval
    "TransactionMessageRetryInterval": "0",
}


def spec201(identity: str = "CS-1", **kwargs: Any) -> ChargePointSpec:
    """A 2.0.1 station with quick timings for tests."""
    configuration = {**FAST, **kwargs.pop("configuration", {})}
    kwargs.setdefault("backoff", Backoff(initial=0.05, maximum=0.2, jitter=0.02))
    kwargs.setdefault("boot_retry_s", 0.1)
    kwargs.setdefault("call_timeout_s", 3.0)
    return ChargePointSpec(identity, ocpp_version="2.0.1", configuration=configuration, **kwargs)


StartStation = Callable[..., Awaitable[ChargePoint]]


@pytest.fixture
async def start_station(csms: MiniCsms) -> AsyncIterator[StartStation]:
    """`await start_station(identity, **spec)`: a booted 2.0.1 station on the test CSMS
    (`clock`: the one it reads)."""
    async with AsyncExitStack() as stack:

        async def start(
            identity: str = "CS-1", *, boot: bool = True, clock: Clock = SYSTEM_CLOCK, **kwargs: Any
        ) -> ChargePoint:
            cp = create_charge_point(spec201(identity, **kwargs), csms.url, clock=clock)
            stack.push_async_callback(cp.close)
            if boot:
                await cp.start(timeout=5)
            return cp

        yield start
