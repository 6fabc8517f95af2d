"""Handshake abuse beyond the basics: oversized headers, odd Unicode in identities, path
tricks. Each is refused at the HTTP level, and the CSMS keeps serving the other chargers."""

from __future__ import annotations

import asyncio
import base64
import os

import pytest
from websockets.exceptions import InvalidStatus

from csms import CsmsApp

from .client import RawClient


async def raw_handshake(port: int, path: str, extra: str = "") -> bytes:
    """Send a WebSocket upgrade by hand; return the status line (b"" if the server hung up)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {key}\r\n"
        f"Sec-WebSocket-Protocol: ocpp1.6\r\n{extra}\r\n"
    )
    writer.write(request.encode())
    try:
        status = await asyncio.wait_for(reader.readline(), 5)
    except ConnectionResetError:
        status = b""
    writer.close()
    return status


@pytest.mark.parametrize(
    "extra",
    [
        "X-Big: " + "a" * 20_000 + "\r\n",  # one header line past websockets' 8 KiB limit
        "".join(f"X-{n}: v\r\n" for n in range(200)),  # more headers than the 128 allowed
    ],
    ids=["long-header", "many-headers"],
)
async def test_oversized_headers_are_refused(csms_app: CsmsApp, extra: str) -> None:
    await csms_app.services.chargers.register("CP-1")
    status = await raw_handshake(csms_app.ocpp_port, "/ocpp/CP-1", extra)
    assert b"101" not in status  # 400, or the connection dropped
    assert csms_app.registry.get("CP-1") is None
    async with await RawClient.open(f"{csms_app.ocpp_url}/CP-1") as client:  # still serving
        assert (await client.boot())["status"] == "Accepted"


async def test_oversized_request_path_is_refused(csms_app: CsmsApp) -> None:
    status = await raw_handshake(csms_app.ocpp_port, "/ocpp/" + "X" * 20_000)
    assert b"101" not in status


@pytest.mark.parametrize(
    "identity",
    [
        "CP%E2%80%AE1",  # U+202E right-to-left override: shows as another name
        "CP%E2%80%8B1",  # U+200B zero-width space
        "CP%EF%BB%BF1",  # U+FEFF byte-order mark
        "CP%00",  # NUL
        "CP%FF",  # not UTF-8 once decoded
        "..%2F..%2Fadmin",  # traversal, encoded
        "CP%5C1",  # backslash
    ],
)
async def test_deceptive_identities_are_refused(csms_app: CsmsApp, identity: str) -> None:
    with pytest.raises(InvalidStatus) as refused:
        await RawClient.open(f"{csms_app.ocpp_url}/{identity}")
    assert refused.value.response.status_code == 400


async def test_dot_segments_do_not_reach_another_identity(csms_app: CsmsApp) -> None:
    """The identity is the last segment as sent: '..' never climbs to a registered name."""
    await csms_app.services.chargers.register("CP-1")
    with pytest.raises(InvalidStatus) as refused:
        await RawClient.open(f"{csms_app.ocpp_url}/CP-1/..")
    assert refused.value.response.status_code in (400, 404)
    assert csms_app.registry.get("CP-1") is None
