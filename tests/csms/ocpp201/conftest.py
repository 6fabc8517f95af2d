"""Fixtures of the 2.0.1 tests: a real CSMS, and station CS-1 over a raw 2.0.1 client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from csms import CsmsApp

from .station import Station


@pytest.fixture
async def station(csms_app: CsmsApp) -> AsyncIterator[Station]:
    """Station CS-1, registered, connected with ocpp2.0.1, not booted yet."""
    await csms_app.services.chargers.register("CS-1")
    station = await Station.connect(f"{csms_app.ocpp_url}/CS-1")
    yield station
    await station.close()


@pytest.fixture
async def booted(station: Station) -> Station:
    """Station CS-1, its boot accepted."""
    assert (await station.boot())["status"] == "Accepted"
    return station
