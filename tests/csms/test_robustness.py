"""Bad input at the transport level: the CSMS answers or closes as it should, and lives on."""

from __future__ import annotations

import json

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from csms import CsmsApp

from .client import RawClient


@pytest.fixture
async def client(csms_app: CsmsApp) -> RawClient:
    await csms_app.services.chargers.register("CP-1")
    client = await RawClient.open(f"{csms_app.ocpp_url}/CP-1")
    await client.boot()
    yield client  # type: ignore[misc]
    await client.close()


async def test_deeply_nested_json_gets_formation_violation(client: RawClient) -> None:
    await client.send('[2, "deep", "Heartbeat", ' + "[" * 5000 + "]" * 5000 + "]")
    frame = await client.recv()
    assert frame[0] == 4 and frame[2] == "FormationViolation"
    assert "currentTime" in await client.result("Heartbeat", {})


async def test_handler_failure_costs_one_answer_not_the_connection(
    csms_app: CsmsApp, client: RawClient
) -> None:
    # 2^63 fits JSON and the schema's "integer" but not SQLite: the store raises.
    frame = await client.call(
        "StartTransaction",
        {"connectorId": 1, "idTag": "T", "meterStart": 2**63, "timestamp": "2026-11-24T10:00:00Z"},
    )
    assert frame[0] == 4 and frame[2] == "InternalError"
    assert str(2**63) not in frame[3]
    assert "currentTime" in await client.result("Heartbeat", {})
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


async def test_invalid_utf8_text_frame_closes_with_1007(client: RawClient) -> None:
    await client.ws.send(b'[2, "u", "Heartbeat", {"x": "\xff"}]', text=True)
    with pytest.raises(ConnectionClosed) as closed:
        await client.recv()
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
