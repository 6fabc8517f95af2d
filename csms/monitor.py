"""Connection monitoring: write last-seen times, mark silent chargers offline."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime, timedelta

from ocppj.timestamps import iso

from .connections import ConnectionRegistry
from .services import Services

log = logging.getLogger(__name__)


class Monitor:
    def __init__(self, services: Services, registry: ConnectionRegistry) -> None:
        self.services = services
        self.registry = registry
        self.silent: set[str] = set()  # connected chargers currently counted offline

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.services.config.monitor_interval)
            await self.check()

    async def check(self) -> None:
        """One pass: store last-seen times of live chargers, mark the silent ones offline
        (and online again once they speak)."""
        limit = self.services.config.silence_limit
        chargers = self.services.chargers
        now, wall = time.monotonic(), datetime.now(UTC)
        seen = []
        for connection in self.registry.connections():
            charger_id, quiet = connection.charger_id, now - connection.last_seen
            seen.append((iso(wall - timedelta(seconds=quiet)), charger_id))
            if quiet > limit and charger_id not in self.silent:
                log.info("%s silent for over %g s: offline", charger_id, limit)
                self.silent.add(charger_id)
                await chargers.disconnected(charger_id)
            elif quiet <= limit and charger_id in self.silent:
                self.silent.discard(charger_id)
                await chargers.connected(charger_id)
        if seen:
            await chargers.seen(seen)
