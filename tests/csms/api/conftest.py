"""A running CSMS with its HTTP API on 127.0.0.1 port 0, an authenticated client, a charger,
and a real browser (Debian's chromium, driven by playwright)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, async_playwright, expect

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


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):  # never skip: CI installs it (.ci/run)
        pytest.fail(f"{CHROMIUM} missing: apt-get install -y chromium", pytrace=False)
    expect.set_options(timeout=10_000)  # a loaded 2-core CI machine
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            await browser.close()
