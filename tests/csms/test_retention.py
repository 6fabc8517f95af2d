"""Retention prunes what its settings say and nothing else, in small batches; `stats` and
`vacuum` report and give back the room. Real SQLite files, a fixed clock."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from csms import CsmsApp
from csms.domain import Sample, TransactionEnd, TransactionStart
from csms.ocpp16.mapping import samples
from csms.store import Database, MessageLog, TransactionStore
from csms.store.maintenance import DatabaseInUse, stats, vacuum
from csms.store.retention import Pruner, Retention
from tests.conftest import csms_config, eventually

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def iso(days_ago: float) -> str:
    moment = NOW - timedelta(days=days_ago)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def reading(days_ago: float, value: int = 1000) -> list[Sample]:
    sampled = [{"value": str(value), "measurand": "Energy.Active.Import.Register", "unit": "Wh"}]
    return samples([{"timestamp": iso(days_ago), "sampledValue": sampled}])


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "csms.db")
    await database.execute(
        "INSERT INTO chargers (id, created_at, updated_at) VALUES ('CP-1', 'now', 'now')"
    )
    yield database
    await database.close()


def pruner(db: Database, **settings: Any) -> Pruner:
    return Pruner(db, Retention(pause=0, **settings), clock=lambda: NOW)


async def counts(db: Database) -> dict[str, int]:
    row = await db.fetch_one(
        "SELECT (SELECT COUNT(*) FROM message_log) AS log,"
        " (SELECT COUNT(*) FROM meter_values WHERE transaction_id IS NULL) AS loose,"
        " (SELECT COUNT(*) FROM meter_values WHERE transaction_id IS NOT NULL) AS kept"
    )
    assert row is not None
    return dict(row)


async def test_meter_values_of_transactions_are_never_pruned_while_active_or_after(
    db: Database,
) -> None:
    store = TransactionStore(db)
    active = await store.start("CP-1", TransactionStart(1, "TAG", 0, iso(200)), "Accepted")
    done = await store.start("CP-1", TransactionStart(2, "TAG2", 0, iso(300)), "Accepted")
    for days_ago in (200, 120, 60, 1):  # an active transaction as old as the retention x 6
        await store.add_meter_values("CP-1", 1, active.transaction_id, reading(days_ago))
    await store.add_meter_values("CP-1", 2, done.transaction_id, reading(299))
    end = TransactionEnd(done.transaction_id, 50, iso(298), "Local", None, tuple(reading(298, 50)))
    await store.stop("CP-1", end)
    for days_ago in (90, 31, 29, 0):  # outside any transaction, connector 0
        await store.add_meter_values("CP-1", 0, None, reading(days_ago))
    before = await store.meter_values(active.transaction_id)

    pruned = await pruner(db, meter_days=30).prune()

    assert pruned.meter_values == 2 and pruned.log == 0
    assert await store.meter_values(active.transaction_id) == before
    assert len(await store.meter_values(done.transaction_id)) == 2
    left = await db.fetch_all(
        "SELECT timestamp FROM meter_values WHERE transaction_id IS NULL ORDER BY timestamp"
    )
    assert [row["timestamp"] for row in left] == [iso(29), iso(0)]
    assert (await store.get(active.transaction_id) or {})["status"] == "Active"


async def test_the_log_keeps_what_is_younger_than_its_setting(db: Database) -> None:
    log = MessageLog(db)
    for days_ago in (40, 35, 31, 29, 10, 0):
        log.append("CP-1", "in", 2, "Heartbeat", f"m{days_ago}", "[2,\"m\",\"Heartbeat\",{}]",
                   iso(days_ago))  # fmt: skip
    await log.flush()
    store = TransactionStore(db)
    await store.add_meter_values("CP-1", 0, None, reading(400))

    pruned = await pruner(db, log_days=30).prune()

    assert pruned.log == 3
    rows = await log.query("CP-1")
    assert [row["message_id"] for row in rows] == ["m29", "m10", "m0"]
    assert (await counts(db))["loose"] == 1  # meter retention is off: kept


async def test_by_default_everything_is_kept(db: Database) -> None:
    log = MessageLog(db)
    log.append("CP-1", "in", 2, "Heartbeat", "old", "[]", iso(3650))
    await log.flush()
    await TransactionStore(db).add_meter_values("CP-1", 0, None, reading(3650))
    before = await counts(db)
    pruned = await pruner(db).prune()
    assert (pruned.log, pruned.meter_values) == (0, 0)
    assert await counts(db) == before


async def test_pruning_goes_in_batches_of_its_size(db: Database) -> None:
    store = TransactionStore(db)
    log = MessageLog(db)
    for charger in range(3):
        for connector in (0, 1):
            for hour in range(120):  # 5 old days, hourly
                meter = reading(40 + hour / 24, value=hour)
                await store.add_meter_values(f"CP-{charger}", connector, None, meter)
                log.append(f"CP-{charger}", "in", 2, "MeterValues", str(hour), "[]", iso(40))
    await store.add_meter_values("CP-9", 0, None, reading(1))  # young: kept
    await log.flush()

    pruned = await pruner(db, log_days=30, meter_days=30, batch=100).prune()

    assert pruned.meter_values == 720 and pruned.log == 720
    assert pruned.batches >= 2 * 720 // 100
    assert await counts(db) == {"log": 0, "loose": 1, "kept": 0}


async def test_a_csms_prunes_at_start_and_optimizes(tmp_path: Path) -> None:
    config = csms_config(tmp_path, log_retention_days=7, meter_retention_days=7)
    db = await Database.open(config.db_path)
    log = MessageLog(db)
    log.append("CP-1", "in", 2, "Heartbeat", "ancient", "[]", "2020-01-01T00:00:00.000Z")
    await log.flush()
    await TransactionStore(db).add_meter_values("CP-1", 0, None, reading(3650))
    await db.close()
    async with CsmsApp(config) as app:

        async def pruned() -> bool:
            """the ancient rows are gone"""
            return await counts(app.services.db) == {"log": 0, "loose": 0, "kept": 0}

        await eventually(pruned)


async def test_stats_count_rows_and_bytes_and_vacuum_gives_the_room_back(
    tmp_path: Path,
) -> None:
    db = await Database.open(tmp_path / "csms.db")
    store = TransactionStore(db)
    rows = [
        {"timestamp": iso(100 + n / 1000), "sampledValue": [{"value": str(n), "unit": "Wh"}]}
        for n in range(5000)
    ]
    await store.add_meter_values("CP-1", 0, None, samples(rows))
    figures = {table.name: table for table in stats(db.path).tables}
    assert figures["meter_values"].rows == 5000
    assert figures["meter_values"].table_bytes > 5000 * 50
    assert figures["meter_values"].index_bytes > 0
    assert figures["chargers"].rows == 0

    await pruner(db, meter_days=30).prune()
    after = stats(db.path)
    assert {t.name: t.rows for t in after.tables}["meter_values"] == 0
    assert after.free_bytes > 5000 * 50  # deleted, not yet given back
    with pytest.raises(DatabaseInUse, match="in use by another process"):
        vacuum(db.path)  # this test's Database has it open
    await db.close()

    before, size = vacuum(db.path)
    assert size < before - 5000 * 50
    assert stats(db.path).free_bytes == 0
    with closing(sqlite3.connect(db.path)) as check:
        assert check.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
