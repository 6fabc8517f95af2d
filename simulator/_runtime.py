"""Injectable time and randomness, so tests can drive timers and jitter deterministically."""

from __future__ import annotations

import asyncio
import random
import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """Where the charge point reads the time and waits."""

    def now(self) -> datetime:
        """Wall-clock time, timezone-aware UTC."""
        ...

    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class Random(Protocol):
    def uniform(self, a: float, b: float) -> float: ...


SYSTEM_CLOCK = SystemClock()
SYSTEM_RANDOM: Random = random.Random()


async def wait_event(event: asyncio.Event, timeout: float | None) -> bool:
    """Wait for `event` up to `timeout` seconds; True when it is set."""
    if event.is_set():
        return True
    try:
        await asyncio.wait_for(event.wait(), timeout)
    except TimeoutError:
        return False
    return True
