"""Free vend (`csms serve --accept-any-tag`): tags the registry does not know are Accepted;
stored tags keep their verdict; ConcurrentTx still holds at StartTransaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from csms import CsmsApp
from tests.conftest import csms_config

from .client import RawClient

NOW = "2026-11-24T10:00:00Z"


@pytest.fixture
async def free_vend(tmp_path: Path) -> AsyncIterator[CsmsApp]:
    async with CsmsApp(csms_config(tmp_path, accept_any_tag=True, auto_register=True)) as app:
        yield app


async def authorize(client: RawClient, tag: str) -> str:
    status: str = (await client.result("Authorize", {"idTag": tag}))["idTagInfo"]["status"]
    return status


async def test_unknown_tags_are_accepted_stored_ones_keep_their_status(free_vend: CsmsApp) -> None:
    await free_vend.services.tags.upsert("BLOCKED", status="Blocked")
    await free_vend.services.tags.upsert("OLD", expiry_date="2020-01-01T00:00:00Z")
    await free_vend.services.tags.upsert("MARKED-INVALID", status="Invalid")
    async with await RawClient.open(f"{free_vend.ocpp_url}/ANY-1") as client:
        assert (await client.boot())["status"] == "Accepted"
        assert await authorize(client, "NEVER-SEEN") == "Accepted"
        assert await authorize(client, "BLOCKED") == "Blocked"
        assert await authorize(client, "OLD") == "Expired"
        assert await authorize(client, "MARKED-INVALID") == "Invalid"
        started = await client.result(
            "StartTransaction",
            {"connectorId": 1, "idTag": "NEVER-SEEN", "meterStart": 0, "timestamp": NOW},
        )
        assert started["idTagInfo"] == {"status": "Accepted"}
    assert await free_vend.services.tags.get("NEVER-SEEN") is None  # accepted, not stored


async def test_one_unknown_tag_still_gets_one_transaction_at_a_time(free_vend: CsmsApp) -> None:
    start = {"connectorId": 1, "idTag": "WALK-UP", "meterStart": 0, "timestamp": NOW}
    async with AsyncExitStack() as stack:
        first = await stack.enter_async_context(await RawClient.open(f"{free_vend.ocpp_url}/ANY-1"))
        second = await stack.enter_async_context(
            await RawClient.open(f"{free_vend.ocpp_url}/ANY-2")
        )
        for client in (first, second):
            assert (await client.boot())["status"] == "Accepted"
        assert (await first.result("StartTransaction", start))["idTagInfo"]["status"] == (
            "Accepted"
        )
        assert await authorize(second, "WALK-UP") == "Accepted"
        refused = await second.result("StartTransaction", start)
        assert refused["idTagInfo"]["status"] == "ConcurrentTx"


async def test_free_vend_is_off_by_default(csms_app: CsmsApp) -> None:
    assert csms_app.config.accept_any_tag is False
    await csms_app.services.chargers.register("CP-1")
    async with await RawClient.open(f"{csms_app.ocpp_url}/CP-1") as client:
        await client.boot()
        assert await authorize(client, "NEVER-SEEN") == "Invalid"
