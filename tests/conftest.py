"""Shared fixtures: a real CSMS on 127.0.0.1, port 0, with a temporary SQLite file, or a new
database on a real PostgreSQL server for the tests run on both stores (see tests/csms)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from csms import CsmsApp, CsmsConfig

from . import postgres


class _Store:
    """The database the CSMS of the running test uses: None, a file in its tmp_path."""

    url: str | None = None


STORE = _Store()


def csms_config(tmp_path: Path, **overrides: object) -> CsmsConfig:
    settings: dict[str, object] = {
        "db_path": tmp_path / "csms.db",
        "db_url": STORE.url,
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


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[postgres.Server]:
    """A real PostgreSQL server for the run (tests/postgres.py says which)."""
    try:
        with postgres.server() as server:
            yield server
    except postgres.NoPostgres as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture
def postgres_database(postgres_server: postgres.Server) -> Iterator[str]:
    """The URL of a new database, migrated, dropped after the test."""
    url = postgres_server.new_database()
    yield url
    postgres_server.drop(url)


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 3.0) -> None:
    """Wait until `check()` is true; fail loudly after `timeout` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout} s: {check.__doc__ or check}")
        await asyncio.sleep(0.02)
