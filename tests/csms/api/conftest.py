"""A running CSMS with its HTTP API on 127.0.0.1 port 0, an authenticated client, a charger."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from csms import CsmsApp
from tests.conftest import csms_config

from .charger import TestCharger

TOKEN = "test-token-0123456789"


@pytest.fixture
async def api_app(tmp_path: Path) -> AsyncIterator[CsmsApp]:
    async with CsmsApp(csms_config(tmp_path, api_port=0, api_token=TOKEN)) as app:
        yield app


@pytest.fixture
async def client(api_app: CsmsApp) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=api_app.api_url, headers=headers, timeout=10) as client:
        yield client


@pytest.fixture
async def charger(api_app: CsmsApp) -> AsyncIterator[TestCharger]:
    """CP-1, registered, connected and booted."""
    await api_app.services.chargers.register("CP-1", name="Charger 1")
    async with TestCharger.connect(api_app.ocpp_url, "CP-1") as charger:
        yield charger
