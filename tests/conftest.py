"""Shared fixtures: a real CSMS on 127.0.0.1, port 0, with a temporary SQLite file."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from csms import CsmsApp, CsmsConfig


def csms_config(tmp_path: Path, **overrides: object) -> CsmsConfig:
    settings: dict[str, object] = {
        "db_path": tmp_path / "csms.db",
        "host": "127.0.0.1",
        "ocpp_port": 0,
        "api_port": None,
        "heartbeat_interval": 60,
        "boot_retry_interval": 1,
        "log_flush_interval": 0.05,
        "monitor_interval": 0.1,
        "ping_interval": None,
    }
    settings.update(overrides)
    return CsmsConfig(**settings)  # type: ignore[arg-type]


@pytest.fixture
async def csms_app(tmp_path: Path) -> AsyncIterator[CsmsApp]:
    """A running CSMS; register chargers with `csms_app.services.chargers.register(...)`."""
    async with CsmsApp(csms_config(tmp_path)) as app:
        yield app


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 3.0) -> None:
    """Wait until `check()` is true; fail loudly after `timeout` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout} s: {check.__doc__ or check}")
        await asyncio.sleep(0.02)
