"""A minimal CSMS written with the mobilityhouse `ocpp` library, to show the simulator depends
on no quirk of our own CSMS; and helpers to run simulated charge points against it."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ocpp.exceptions import InternalError
from ocpp.routing import on
from ocpp.v16 import ChargePoint as OcppChargePoint
from ocpp.v16 import call_result
from ocpp.v16.enums import Action
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response

from simulator import (
    Backoff,
    ChargePoint,
    ChargePointSpec,
    TargetLookup,
    create_charge_point,
)


def now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class Received:
    cp_id: str
    action: str
    payload: dict[str, Any]


@dataclass
class MiniCsms:
    """What the test CSMS saw, and knobs for its answers."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    boot_status: list[str] = field(
        default_factory=lambda: ["Accepted"]
    )  # one per boot; last sticks
    boot_interval: int = 60
    clock_skew_s: float = 0.0  # added to the currentTime the CSMS tells
    tags: dict[str, dict[str, Any]] = field(default_factory=dict)  # idTag -> idTagInfo
    passwords: dict[str, str] = field(default_factory=dict)  # identity -> Basic Auth password
    fail: dict[str, int] = field(default_factory=dict)  # action -> answer n times with CALLERROR
    peers: dict[str, OcppChargePoint] = field(default_factory=dict)
    connections: list[str] = field(default_factory=list)  # identities, one per accepted socket
    auth_headers: list[str | None] = field(default_factory=list)
    client_certs: list[Any] = field(default_factory=list)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    _tx_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(100))

    def record(self, cp_id: str, action: str, payload: dict[str, Any]) -> None:
        self.received.append(Received(cp_id, action, payload))
        self._changed.set()
        self._changed = asyncio.Event()

    def payloads(self, action: str, cp_id: str | None = None) -> list[dict[str, Any]]:
        return [
            r.payload
            for r in self.received
            if r.action == action and (cp_id is None or r.cp_id == cp_id)
        ]

    async def wait_for(
        self,
        action: str,
        match: Callable[[dict[str, Any]], bool] | None = None,
        timeout: float = 5.0,
        start: int = 0,
    ) -> dict[str, Any]:
        """The first `action` received (from index `start`) matching `match`; fails loudly."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for item in self.received[start:]:
                if item.action == action and (match is None or match(item.payload)):
                    return item.payload
            remaining = deadline - loop.time()
            if remaining <= 0:
                seen = [f"{r.action} {r.payload}" for r in self.received[-15:]]
                raise AssertionError(f"CSMS got no {action} in {timeout} s; last: {seen}")
            changed = self._changed
            with suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)

    async def wait_connected(self, cp_id: str, count: int = 1, timeout: float = 5.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.connections.count(cp_id) < count:
            if loop.time() > deadline:
                raise AssertionError(f"{cp_id} did not connect {count} times in {timeout} s")
            changed = self._changed
            with suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), deadline - loop.time())

    async def call(self, cp_id: str, request: Any) -> Any:
        """Send a CSMS-initiated CALL (an `ocpp.v16.call` dataclass); CALLERROR raises."""
        return await self.peers[cp_id].call(request, suppress=False)

    def _failing(self, action: str) -> None:
        left = self.fail.get(action, 0)
        if left:
            self.fail[action] = left - 1
            raise InternalError(description=f"test CSMS told to fail {action}")


class Peer(OcppChargePoint):  # type: ignore[misc]
    csms: MiniCsms

    async def route_message(self, raw_msg: str) -> None:
        message = json.loads(raw_msg)
        if message[0] == 2:
            self.csms.record(self.id, message[2], message[3])
        await super().route_message(raw_msg)

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
    async def on_authorize(self, id_tag: str) -> Any:
        return call_result.Authorize(id_tag_info=self._info(id_tag))

    def _info(self, id_tag: str) -> dict[str, Any]:
        return self.csms.tags.get(id_tag, {"status": "Accepted"})

    @on(Action.start_transaction)
    async def on_start(self, id_tag: str, **_: Any) -> Any:
        self.csms._failing("StartTransaction")
        return call_result.StartTransaction(
            transaction_id=next(self.csms._tx_ids), id_tag_info=self._info(id_tag)
        )

    @on(Action.stop_transaction)
    async def on_stop(self, **_: Any) -> Any:
        self.csms._failing("StopTransaction")
        return call_result.StopTransaction()

    @on(Action.meter_values)
    async def on_meter_values(self, **_: Any) -> Any:
        self.csms._failing("MeterValues")
        return call_result.MeterValues()

    @on(Action.diagnostics_status_notification)
    async def on_diagnostics(self, **_: Any) -> Any:
        return call_result.DiagnosticsStatusNotification()

    @on(Action.firmware_status_notification)
    async def on_firmware(self, **_: Any) -> Any:
        return call_result.FirmwareStatusNotification()

    @on(Action.log_status_notification)
    async def on_log(self, **_: Any) -> Any:
        return call_result.LogStatusNotification()

    @on(Action.signed_firmware_status_notification)
    async def on_signed_firmware(self, **_: Any) -> Any:
        return call_result.SignedFirmwareStatusNotification()

    @on(Action.sign_certificate)
    async def on_sign(self, **_: Any) -> Any:
        return call_result.SignCertificate(status="Accepted")

    @on(Action.security_event_notification)
    async def on_security_event(self, **_: Any) -> Any:
        return call_result.SecurityEventNotification()

    @on(Action.data_transfer)
    async def on_data_transfer(self, **_: Any) -> Any:
        return call_result.DataTransfer(status="Accepted")


async def start_csms(
    csms: MiniCsms, ssl_context: ssl.SSLContext | None = None, port: int = 0
) -> Server:
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
        peer = Peer(identity, connection)
        peer.csms = csms
        csms.peers[identity] = peer
        tls = connection.transport.get_extra_info("ssl_object")
        csms.client_certs.append(tls.getpeercert() if tls else None)
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
        port,
        subprotocols=["ocpp1.6"],  # type: ignore[list-item]
        process_request=check_auth,
        ssl=ssl_context,
        compression=None,
        ping_interval=None,
    )
    port = server.sockets[0].getsockname()[1]
    host = f"wss://localhost:{port}" if ssl_context else f"ws://127.0.0.1:{port}"
    csms.url = f"{host}/ocpp"
    return server


@pytest.fixture
async def csms() -> AsyncIterator[MiniCsms]:
    mini = MiniCsms()
    server = await start_csms(mini)
    try:
        yield mini
    finally:
        server.close()
        await server.wait_closed()


FAST = {
    "HeartbeatInterval": "60",
    "MeterValueSampleInterval": "0",
    "ConnectionTimeOut": "30",
    "TransactionMessageRetryInterval": "0",
}


def fast_spec(identity: str = "CP-1", **kwargs: Any) -> ChargePointSpec:
    """A spec with quick timings for tests."""
    configuration = {**FAST, **kwargs.pop("configuration", {})}
    kwargs.setdefault("backoff", Backoff(initial=0.05, maximum=0.2, jitter=0.02))
    kwargs.setdefault("boot_retry_s", 0.1)
    kwargs.setdefault("call_timeout_s", 3.0)
    return ChargePointSpec(identity, configuration=configuration, **kwargs)


StartCp = Callable[..., Awaitable[ChargePoint]]


@pytest.fixture
async def start_cp(csms: MiniCsms) -> AsyncIterator[StartCp]:
    """`await start_cp(identity, **spec)`: a booted charge point on the test CSMS."""
    async with AsyncExitStack() as stack:

        async def start(
            identity: str = "CP-1",
            *,
            url: str | None = None,
            boot: bool = True,
            profile_targets: TargetLookup | None = None,
            **kwargs: Any,
        ) -> ChargePoint:
            spec = fast_spec(identity, **kwargs)
            cp = create_charge_point(spec, url or csms.url, profile_targets=profile_targets)
            stack.push_async_callback(cp.close)
            if boot:
                await cp.start(timeout=5)
            return cp

        yield start
