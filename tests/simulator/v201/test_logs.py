"""The 2.0.1 station's log uploads (N01): GetLog's answer, the LogStatusNotifications that
follow with its requestId, a real PUT to a loopback server, a second request cancelling the
first, scripted failures, and TriggerMessage."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from ocpp.v201 import call

from simulator import Outcome

from ..conftest import MiniCsms
from .conftest import StartStation

ELSEWHERE = "ftp://logs.example/upload/"  # not the loopback: the upload is pretended


@dataclass
class LogServer:
    """An HTTP server on 127.0.0.1 taking PUTs, answering each with the next of `codes`."""

    codes: list[int] = field(default_factory=lambda: [200])
    bodies: list[bytes] = field(default_factory=list)
    url: str = ""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        self.bodies.append(await reader.readexactly(length))
        code = self.codes.pop(0) if len(self.codes) > 1 else self.codes[0]
        writer.write(
            f"HTTP/1.1 {code} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode()
        )
        await writer.drain()
        writer.close()


@pytest.fixture
async def log_server() -> AsyncIterator[LogServer]:
    server = LogServer()
    tcp = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    server.url = f"http://127.0.0.1:{tcp.sockets[0].getsockname()[1]}/logs"
    try:
        yield server
    finally:
        tcp.close()
        await tcp.wait_closed()


async def get_log(
    csms: MiniCsms, cp_id: str, request_id: int, location: str = ELSEWHERE, **fields: Any
) -> Any:
    kind = fields.pop("log_type", "DiagnosticsLog")
    request = call.GetLog(
        log={"remote_location": location}, log_type=kind, request_id=request_id, **fields
    )
    return await csms.call(cp_id, request)


def statuses(csms: MiniCsms, cp_id: str) -> list[tuple[str, int | None]]:
    return [
        (p["status"], p.get("requestId")) for p in csms.payloads("LogStatusNotification", cp_id)
    ]


async def ended(csms: MiniCsms, request_id: int, timeout: float = 5) -> str:
    ends = {"Uploaded", "UploadFailure", "BadMessage", "PermissionDenied", "NotSupportedOperation"}
    payload = await csms.wait_for(
        "LogStatusNotification",
        lambda p: p["status"] in ends and p.get("requestId") == request_id,
        timeout,
    )
    return str(payload["status"])


async def test_a_diagnostics_log_is_uploaded_and_told_with_the_request_id(
    csms: MiniCsms, start_station: StartStation
) -> None:
    await start_station("CS-G1", time_scale=0.1)
    answer = await get_log(csms, "CS-G1", 5)
    assert answer.status == "Accepted"
    assert answer.filename.startswith("DiagnosticsLog-CS-G1-") and answer.filename.endswith(".log")
    assert await ended(csms, 5) == "Uploaded"
    assert statuses(csms, "CS-G1") == [("Uploading", 5), ("Uploaded", 5)]


async def test_a_security_log_is_put_to_a_loopback_server(
    csms: MiniCsms, start_station: StartStation, log_server: LogServer
) -> None:
    await start_station("CS-G2")
    answer = await get_log(csms, "CS-G2", 6, log_server.url, log_type="SecurityLog")
    assert answer.status == "Accepted" and answer.filename.startswith("SecurityLog-")
    assert await ended(csms, 6) == "Uploaded"
    assert statuses(csms, "CS-G2") == [("Uploading", 6), ("Uploaded", 6)]
    (body,) = log_server.bodies
    assert body.startswith(b"SecurityLog of CS-G2") and b"connector 1 (EVSE 1)" in body


async def test_a_refusing_server_is_permission_denied_and_a_failing_one_retried(
    csms: MiniCsms, start_station: StartStation, log_server: LogServer
) -> None:
    await start_station("CS-G3")
    log_server.codes = [403]
    assert (await get_log(csms, "CS-G3", 1, log_server.url, retries=2)).status == "Accepted"
    assert await ended(csms, 1) == "PermissionDenied"
    assert len(log_server.bodies) == 1  # no retry of a refusal
    log_server.codes = [500, 500, 200]
    await get_log(csms, "CS-G3", 2, log_server.url, retries=2, retry_interval=0)
    assert await ended(csms, 2) == "Uploaded"
    assert len(log_server.bodies) == 4
    log_server.codes = [500]
    await get_log(csms, "CS-G3", 3, log_server.url, retries=1, retry_interval=0)
    assert await ended(csms, 3) == "UploadFailure"
    assert len(log_server.bodies) == 6


async def test_no_server_listening_is_an_upload_failure(
    csms: MiniCsms, start_station: StartStation
) -> None:
    await start_station("CS-G4")
    tcp = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = tcp.sockets[0].getsockname()[1]
    tcp.close()
    await tcp.wait_closed()
    await get_log(csms, "CS-G4", 1, f"http://127.0.0.1:{port}/logs")
    assert await ended(csms, 1) == "UploadFailure"
    assert statuses(csms, "CS-G4") == [("Uploading", 1), ("UploadFailure", 1)]


async def test_locations_it_cannot_use(csms: MiniCsms, start_station: StartStation) -> None:
    await start_station("CS-G5")
    assert (await get_log(csms, "CS-G5", 1, "mailto:logs@example.com")).status == "Accepted"
    assert await ended(csms, 1) == "NotSupportedOperation"
    await get_log(csms, "CS-G5", 2, "no location at all")
    assert await ended(csms, 2) == "BadMessage"
    await get_log(csms, "CS-G5", 3, "http://[::1/logs")
    assert await ended(csms, 3) == "BadMessage"
    await get_log(csms, "CS-G5", 4, "http://127.0.0.1:99999/logs")
    assert await ended(csms, 4) == "BadMessage"
    assert statuses(csms, "CS-G5") == [
        ("NotSupportedOperation", 1),
        ("BadMessage", 2),
        ("BadMessage", 3),
        ("BadMessage", 4),
    ]


async def test_a_second_request_cancels_the_upload_under_way(
    csms: MiniCsms, start_station: StartStation
) -> None:
    await start_station("CS-G6", time_scale=0.5)
    assert (await get_log(csms, "CS-G6", 1)).status == "Accepted"
    await csms.wait_for("LogStatusNotification", lambda p: p["status"] == "Uploading")
    second = await get_log(csms, "CS-G6", 2, log_type="SecurityLog")
    assert second.status == "AcceptedCanceled" and second.filename.startswith("SecurityLog-")
    assert await ended(csms, 2) == "Uploaded"
    await asyncio.sleep(0.6)  # the first upload's time is over: it must stay cancelled
    assert statuses(csms, "CS-G6") == [
        ("Uploading", 1),
        ("AcceptedCanceled", 1),
        ("Uploading", 2),
        ("Uploaded", 2),
    ]
    assert (await get_log(csms, "CS-G6", 3)).status == "Accepted"  # nothing under way now


@pytest.mark.parametrize(
    ("stage", "end"),
    [
        ("Uploading", "UploadFailure"),
        ("BadMessage", "BadMessage"),
        ("PermissionDenied", "PermissionDenied"),
        ("NotSupportedOperation", "NotSupportedOperation"),
    ],
)
async def test_scripted_failures(
    csms: MiniCsms, start_station: StartStation, stage: str, end: str
) -> None:
    cp = await start_station("CS-G7")
    cp.set_outcome("GetLog", Outcome.fail(stage, times=1))
    assert (await get_log(csms, "CS-G7", 4)).status == "Accepted"
    assert await ended(csms, 4) == end
    assert statuses(csms, "CS-G7") == [("Uploading", 4), (end, 4)]


async def test_a_scripted_rejection_starts_no_upload_and_leaves_one_running(
    csms: MiniCsms, start_station: StartStation
) -> None:
    cp = await start_station("CS-G8", time_scale=0.3)
    cp.set_outcome("GetLog", Outcome.reject(times=1))
    answer = await get_log(csms, "CS-G8", 1)
    assert answer.status == "Rejected" and answer.filename is None
    await get_log(csms, "CS-G8", 2)
    await csms.wait_for("LogStatusNotification", lambda p: p["status"] == "Uploading")
    cp.set_outcome("GetLog", Outcome.reject(times=1))
    assert (await get_log(csms, "CS-G8", 3)).status == "Rejected"
    assert await ended(csms, 2) == "Uploaded"
    assert statuses(csms, "CS-G8") == [("Uploading", 2), ("Uploaded", 2)]


async def test_trigger_message_tells_the_upload_under_way_or_idle(
    csms: MiniCsms, start_station: StartStation
) -> None:
    await start_station("CS-G9", time_scale=0.5)

    async def triggered() -> dict[str, Any]:
        start = len(csms.received)
        trigger = call.TriggerMessage(requested_message="LogStatusNotification")
        assert (await csms.call("CS-G9", trigger)).status == "Accepted"
        return await csms.wait_for("LogStatusNotification", start=start)

    assert await triggered() == {"status": "Idle"}
    await get_log(csms, "CS-G9", 8)
    await csms.wait_for("LogStatusNotification", lambda p: p["status"] == "Uploading")
    assert await triggered() == {"status": "Uploading", "requestId": 8}
    await ended(csms, 8)
    assert await triggered() == {"status": "Idle"}
