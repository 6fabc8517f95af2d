"""Bad input at the transport level: the CSMS answers or closes as it should, and lives on."""

from __future__ import annotations

import json

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from csms import CsmsApp

from .client import RawClient


async def test_deeply_nested_json_gets_formation_violation(booted_client: RawClient) -> None:
    await booted_client.send('[2, "deep", "Heartbeat", ' + "[" * 5000 + "]" * 5000 + "]")
    frame = await booted_client.recv()
    assert frame[0] == 4 and frame[2] == "FormationViolation"
    assert "currentTime" in await booted_client.result("Heartbeat", {})


async def test_handler_failure_costs_one_answer_not_the_connection(
    csms_app: CsmsApp, booted_client: RawClient
) -> None:
    # 2^63 fits JSON and the schema's "integer" but not SQLite: the store raises.
    frame = await booted_client.call(
        "StartTransaction",
        {"connectorId": 1, "idTag": "T", "meterStart": 2**63, "timestamp": "2026-11-24T10:00:00Z"},
    )
    assert frame[0] == 4 and frame[2] == "InternalError"
    assert str(2**63) not in frame[3]
    assert "currentTime" in await booted_client.result("Heartbeat", {})
    assert await csms_app.services.transactions.transactions.find() == []


async def test_frame_over_max_size_closes_with_1009(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import csms_config

    async with CsmsApp(csms_config(tmp_path, max_frame_size=4096)) as app:
        await app.services.chargers.register("CP-1")
        other = await RawClient.open(f"{app.ocpp_url}/CP-1")
        await app.services.chargers.register("CP-2")
        big = await RawClient.open(f"{app.ocpp_url}/CP-2")
        await big.send(
            json.dumps([2, "big", "DataTransfer", {"vendorId": "x", "data": "y" * 8000}])
        )
        with pytest.raises(ConnectionClosed) as closed:
            await big.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
        assert (await other.boot())["status"] == "Accepted"  # others unaffected
        await other.close()


async def test_invalid_utf8_text_frame_closes_with_1007(booted_client: RawClient) -> None:
    await booted_client.ws.send(b'[2, "u", "Heartbeat", {"x": "\xff"}]', text=True)
    with pytest.raises(ConnectionClosed) as closed:
        await booted_client.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1007


async def test_compression_is_not_negotiated(csms_app: CsmsApp) -> None:
    """A compressed frame cannot inflate past the limit when compression is never agreed."""
    await csms_app.services.chargers.register("CP-Z")
    async with connect(
        f"{csms_app.ocpp_url}/CP-Z",
        subprotocols=["ocpp1.6"],
        compression="deflate",  # type: ignore[list-item]
    ) as ws:
        assert ws.response is not None
        assert "Sec-WebSocket-Extensions" not in ws.response.headers


async def test_password_brute_force_is_throttled_per_identity(csms_app: CsmsApp) -> None:
    from websockets.exceptions import InvalidStatus

    chargers = csms_app.services.chargers
    await chargers.register("CP-BF", password="right-password-123")
    await chargers.register("CP-OK", password="other-password-123")
    statuses = []
    for attempt in range(5):
        with pytest.raises(InvalidStatus) as refused:
            await RawClient.open(f"{csms_app.ocpp_url}/CP-BF", password=f"guess-{attempt}")
        statuses.append(refused.value.response.status_code)
    assert statuses[:3] == [401, 401, 401] and statuses[3:] == [429, 429]
    assert int(refused.value.response.headers["Retry-After"]) >= 1
    # even the right password waits out the back-off; another identity is unaffected
    with pytest.raises(InvalidStatus):
        await RawClient.open(f"{csms_app.ocpp_url}/CP-BF", password="right-password-123")
    ok = await RawClient.open(f"{csms_app.ocpp_url}/CP-OK", password="other-password-123")
    await ok.close()


async def test_half_open_connection_is_detected_by_ping(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A peer that completes the handshake and then goes silent (no pong) is dropped."""
    import asyncio
    import base64
    import os

    from tests.conftest import csms_config, eventually

    config = csms_config(tmp_path, ping_interval=0.2, ping_timeout=0.2, close_timeout=0.2)
    async with CsmsApp(config) as app:
        await app.services.chargers.register("CP-HALF")
        reader, writer = await asyncio.open_connection("127.0.0.1", app.ocpp_port)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            (
                "GET /ocpp/CP-HALF HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Protocol: ocpp1.6\r\n\r\n"
            ).encode()
        )
        status = await reader.readline()
        assert b"101" in status
        assert app.registry.get("CP-HALF") is not None

        async def dropped() -> bool:
            row = await app.services.chargers.store.get("CP-HALF")
            return app.registry.get("CP-HALF") is None and row is not None and row["online"] == 0

        await eventually(dropped, timeout=3)
        writer.close()
