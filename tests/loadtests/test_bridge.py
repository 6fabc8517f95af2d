"""The gevent <-> asyncio bridge and the rows the reporter makes, without Locust or sockets."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import gevent
import pytest

from loadtests.bridge import AsyncioBridge, BridgeTimeout
from loadtests.reporting import Reporter


@pytest.fixture
def bridge() -> Iterator[AsyncioBridge]:
    bridge = AsyncioBridge.get()
    yield bridge
    bridge.stop()


class Request:
    """Stands for `environment.events.request`."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def fire(self, **row: Any) -> None:
        self.rows.append(row)


def settle(request: Request, count: int, timeout: float = 3.0) -> list[tuple[str, str, str]]:
    deadline = time.monotonic() + timeout
    while len(request.rows) < count and time.monotonic() < deadline:
        gevent.sleep(0.01)
    assert len(request.rows) == count, request.rows
    return [(row["request_type"], row["name"], str(row["exception"] or "")) for row in request.rows]


def test_run_returns_raises_and_cancels_on_timeout(bridge: AsyncioBridge) -> None:
    async def double(x: int) -> int:
        await asyncio.sleep(0.01)
        return 2 * x

    greenlets = [gevent.spawn(bridge.run, double(n), 5) for n in range(50)]
    gevent.joinall(greenlets, timeout=5, raise_error=True)
    assert [g.value for g in greenlets] == [2 * n for n in range(50)]

    async def fail() -> None:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        bridge.run(fail(), 5)

    cancelled = asyncio.Event()

    async def hang() -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with pytest.raises(BridgeTimeout):
        bridge.run(hang(), 0.1)
    assert bridge.run(asyncio.wait_for(cancelled.wait(), 2), 3) is True


def test_reporter_rows_and_failure_reasons(bridge: AsyncioBridge) -> None:
    request = Request()
    reporter = Reporter(bridge, request)
    cp = SimpleNamespace(registration=None, connect_errors=["InvalidStatus: HTTP 401"])
    reporter.cp = cp  # type: ignore[assignment]

    async def exchanges() -> None:
        reporter("Heartbeat", "cp", 0.002, None)
        reporter("Authorize", "cp", 0.003, "SecurityError")
        reporter("MeterValues", "cp", 30.0, "CallTimeout")
        reporter("Reset", "csms", 0.001, None)
        reporter("DataTransfer", "csms", 0.001, "NotImplemented")
        reporter("connect", "cp", 0.0, "InvalidStatus")
        reporter("BootNotification", "cp", 0.05, None)
        cp.registration = "Rejected"  # the charge point stores the status after the hook
        await asyncio.sleep(0)
        reporter.expect_down = True
        reporter("StatusNotification", "cp", 0.01, "ConnectionLost")  # our own drop: no row

    bridge.run(exchanges(), 5)
    assert settle(request, 7) == [
        ("OCPP", "Heartbeat", ""),
        ("OCPP", "Authorize", "CALLERROR SecurityError"),
        ("OCPP", "MeterValues", "CallTimeout"),
        ("OCPP-CSMS", "Reset", ""),
        ("OCPP-CSMS", "DataTransfer", "answered CALLERROR NotImplemented"),
        ("WS", "connect", "connect failed: InvalidStatus: HTTP 401"),
        ("OCPP", "BootNotification", "boot Rejected"),
    ]
    assert request.rows[0]["response_time"] == pytest.approx(2.0)


def test_sweep_reports_a_drop_nobody_asked_for(bridge: AsyncioBridge) -> None:
    request = Request()
    reporter = Reporter(bridge, request)
    cp = SimpleNamespace(connected=True)
    reporter.cp = cp  # type: ignore[assignment]

    async def sweeps() -> None:
        reporter.sweep()
        cp.connected = False
        reporter.sweep()  # dropped
        cp.connected = True
        reporter.sweep()
        reporter.expect_down = True
        cp.connected = False
        reporter.sweep()  # our own: no row

    bridge.run(sweeps(), 5)
    assert settle(request, 1) == [("WS", "dropped", "connection dropped")]
