"""Fixtures of the CSMS tests: a registered charger connected over a raw OCPP-J client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from csms import CsmsApp

from .client import RawClient


@pytest.fixture
async def client(csms_app: CsmsApp) -> AsyncIterator[RawClient]:
    """Charger CP-1, connected, not booted yet."""
    await csms_app.services.chargers.register("CP-1")
    client = await RawClient.open(f"{csms_app.ocpp_url}/CP-1")
    yield client
    await client.close()


@pytest.fixture
async def booted_client(client: RawClient) -> RawClient:
    """Charger CP-1, connected, boot accepted."""
    assert (await client.boot())["status"] == "Accepted"
    return client
