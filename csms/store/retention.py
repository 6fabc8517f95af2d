"""Retention: old rows pruned in small batches, off the hot path.

Two settings, both off by default (a lab keeps everything):

- `log_days`: message_log rows older than this many days, by the time the CSMS logged them,
  are deleted, oldest first;
- `meter_days`: meter values outside any transaction (clock-aligned values on connector 0,
  meters outside a session) older than this many days, by their own timestamp (the
  charger's clock), are deleted. The samples of a transaction are never pruned, whatever
  their age: they are what the session is billed on.

`Pruner.run()` makes a pass every `interval` seconds: each batch of at most `batch` rows is a
unit of work of its own in the writer thread, with a pause between batches, so a charger's
message waits behind one small batch at most. On SQLite each pass also runs `PRAGMA optimize`,
which keeps the planner's statistics fresh as the tables grow (PostgreSQL's autovacuum does).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from .db import Database, Writer, iso

__all__ = ["Pruned", "Pruner", "Retention"]

log = logging.getLogger(__name__)

# Among the oldest `batch` rows (rowid order: the order they were logged in), those logged
# before the cutoff. A batch that deletes nothing ends the pass: the log is pruned.
LOG_PRUNE = (
    "DELETE FROM message_log WHERE id IN (SELECT id FROM message_log ORDER BY id LIMIT ?2)"
    " AND timestamp < ?1"
)
# Meter values outside transactions are pruned per charger and connector, on the leading
# columns of meter_values_loose: the next pair after (?1, ?2), then its samples before ?3.
LOOSE_NEXT = (
    "SELECT charger_id, connector_id FROM meter_values WHERE transaction_id IS NULL"
    " AND (charger_id, connector_id) > (?1, ?2) ORDER BY charger_id, connector_id LIMIT 1"
)
LOOSE_PRUNE = (
    "DELETE FROM meter_values WHERE id IN (SELECT id FROM meter_values"
    " WHERE transaction_id IS NULL AND charger_id = ?1 AND connector_id = ?2"
    " AND timestamp < ?3 LIMIT ?4)"
)


@dataclass(frozen=True)
class Retention:
    log_days: float | None = None  # None: keep the message log
    meter_days: float | None = None  # None: keep meter values outside transactions
    batch: int = 500  # rows per unit of work at most
    pause: float = 0.05  # seconds between two batches
    interval: float = 3600.0  # seconds between passes


@dataclass
class Pruned:
    log: int = 0
    meter_values: int = 0
    batches: int = 0


class Pruner:
    def __init__(
        self,
        db: Database,
        retention: Retention,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        leading: Callable[[], bool] | None = None,
    ) -> None:
        self.db = db
        self.retention = retention
        self.clock = clock
        self.leading = leading  # in a cluster: whether this node is the one that prunes
        self.passes = 0

    async def run(self) -> None:
        """A pass now, then one every `interval` seconds; cancel to stop."""
        while True:
            if self.leading is not None and not self.leading():
                await asyncio.sleep(self.retention.interval)
                continue
            began = time.monotonic()
            try:
                pruned = await self.prune()
                await self.optimize()
            except self.db.errors:  # e.g. the disk is full: the CSMS goes on, so do later passes
                log.exception(
                    "retention: the pass failed; the next is in %g s", self.retention.interval
                )
            else:
                if pruned.log or pruned.meter_values:
                    log.info(
                        "retention: %d log rows and %d meter values pruned in %.1f s",
                        pruned.log,
                        pruned.meter_values,
                        time.monotonic() - began,
                    )
            await asyncio.sleep(self.retention.interval)

    async def prune(self) -> Pruned:
        """One pass: everything older than its setting, in batches."""
        done = Pruned()
        now = self.clock()
        if self.retention.log_days is not None:
            await self._prune_log(iso(now - timedelta(days=self.retention.log_days)), done)
        if self.retention.meter_days is not None:
            await self._prune_loose(iso(now - timedelta(days=self.retention.meter_days)), done)
        self.passes += 1
        return done

    async def optimize(self) -> None:
        """Fresh planner statistics for the tables that need them (cheap when none do)."""
        statements = self.db.maintenance()
        if not statements:
            return

        def work(tx: Writer) -> None:
            for statement in statements:
                tx.fetch_all(statement)

        await self.db.write(work)

    async def _prune_log(self, cutoff: str, done: Pruned) -> None:
        batch = self.retention.batch
        while True:
            deleted = (await self.db.execute(LOG_PRUNE, (cutoff, batch))).rowcount
            done.log += deleted
            done.batches += 1
            if deleted == 0:
                return
            await asyncio.sleep(self.retention.pause)

    async def _prune_loose(self, cutoff: str, done: Pruned) -> None:
        batch = self.retention.batch
        cursor: tuple[str, int] = ("", -(2**63))

        def work(tx: Writer) -> tuple[tuple[str, int] | None, int]:
            """Up to `batch` rows, over as many (charger, connector) pairs as that takes
            (and at most `batch` pairs); returns where to go on from (None: the end)."""
            deleted = 0
            at: tuple[str, int] | None = cursor
            for _ in range(batch):
                assert at is not None
                pair = tx.fetch_one(LOOSE_NEXT, at)
                if pair is None:
                    return None, deleted
                at = (pair["charger_id"], pair["connector_id"])
                deleted += tx.execute(LOOSE_PRUNE, (*at, cutoff, batch - deleted)).rowcount
                if deleted >= batch:  # this pair may hold more: start again from before it
                    return (at[0], at[1] - 1), deleted
            return at, deleted

        while True:
            position, deleted = await self.db.write(work)
            done.meter_values += deleted
            done.batches += 1
            if position is None:
                return
            cursor = position
            await asyncio.sleep(self.retention.pause)
