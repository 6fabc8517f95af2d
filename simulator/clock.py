"""Time and randomness, injectable so tests drive timers and jitter deterministically; the
charge point's own clock, set by the CSMS; and the one way to wait on events with a timeout."""

from __future__ import annotations

import asyncio
import random
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

from ocppj import timestamps

from .errors import ExpectationFailed

__all__ = [
    "SYSTEM_CLOCK",
    "SYSTEM_RANDOM",
    "Clock",
    "Random",
    "StationClock",
    "SystemClock",
    "wait_any",
]


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


async def wait_any(*events: asyncio.Event, timeout: float | None = None) -> bool:
    """Wait until one of `events` is set, for up to `timeout` seconds (None: no limit);
    True when one is."""
    if any(event.is_set() for event in events):
        return True
    waits = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        done, _ = await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waits:
            waiter.cancel()
    return bool(done)


class Watched(Protocol):
    """A connector, as a wait for its status sees it."""

    @property
    def status(self) -> str: ...

    def status_changed(self) -> asyncio.Event: ...


async def wait_status(connector: Watched, number: int, status: str, timeout: float) -> None:
    """Wait until `connector` (number `number`) is in `status`; ExpectationFailed after
    `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while connector.status != status:
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise ExpectationFailed(
                f"connector {number} is {connector.status}, not {status}, after {timeout:g} s"
            )
        await wait_any(connector.status_changed(), timeout=remaining)


_FRACTION = re.compile(r"[Tt]\d\d:\d\d:\d\d[.,](\d+)")


def _precision(text: str) -> timedelta:
    """How precise an RFC 3339 date-time is: a second without fractions, 1 ms with three
    digits."""
    found = _FRACTION.search(text)
    return timedelta(seconds=10.0 ** -len(found.group(1)) if found else 1.0)


class StationClock:
    """A charge point's clock: the injected `source`, set by the CSMS's currentTime (as the
    spec recommends), read and waited on like any Clock."""

    __slots__ = ("offset", "source")

    def __init__(self, source: Clock) -> None:
        self.source = source
        self.offset = timedelta(0)  # CSMS time minus the source's

    def now(self) -> datetime:
        return self.source.now() + self.offset

    def monotonic(self) -> float:
        return self.source.monotonic()

    async def sleep(self, seconds: float) -> None:
        await self.source.sleep(seconds)

    def timestamp(self) -> str:
        """Now, as an OCPP date-time."""
        return timestamps.iso(self.now())

    def sync(self, current_time: str, sent_at: float | None = None) -> None:
        """Agree with the CSMS's `current_time`, the answer to a CALL sent at monotonic
        `sent_at`. That time holds to its precision (a second without fractions) plus the
        round trip; a clock within that agrees already and is left alone, so it never steps
        back for want of the CSMS's milliseconds. Outside, it moves only as far as it must:
        forward to the CSMS's time, or back to the latest moment that time allows.
        ValueError when `current_time` is no date-time."""
        told = timestamps.parse(current_time)
        slack = _precision(current_time)
        if sent_at is not None:
            slack += timedelta(seconds=max(0.0, self.monotonic() - sent_at))
        now = self.now()
        if now < told:
            self.offset += told - now
        elif now > told + slack:
            self.offset -= now - (told + slack)
