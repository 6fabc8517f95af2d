"""The database's group commit: units of work share commits, fail alone, and are durable
when `write()` returns."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from csms.store import Database
from csms.store.db import DatabaseClosed, Writer


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "csms.db")
    yield database
    await database.close()


def _insert(tag: str) -> Callable[[Writer], int]:
    def work(tx: Writer) -> int:
        result = tx.execute(
            "INSERT INTO id_tags (id_tag, status, created_at, updated_at)"
            " VALUES (?, 'Accepted', 'now', 'now')",
            (tag,),
        )
        assert result.lastrowid is not None
        return result.lastrowid

    return work


def _stored(path: Path) -> list[str]:
    """What another connection (another process, after a crash) would find."""
    connection = sqlite3.connect(path)
    try:
        return [row[0] for row in connection.execute("SELECT id_tag FROM id_tags ORDER BY 1")]
    finally:
        connection.close()


async def test_concurrent_units_share_commits(db: Database) -> None:
    before = db.commits
    ids = await asyncio.gather(*(db.write(_insert(f"T{n:03d}")) for n in range(300)))
    groups, units = (a - b for a, b in zip(db.commits, before, strict=True))
    assert units == 300
    assert groups < 300, "every unit paid its own commit"
    assert len(set(ids)) == 300
    assert len(_stored(db.path)) == 300


async def test_a_failing_unit_is_undone_alone(db: Database) -> None:
    def half_then_fail(tx: Writer) -> None:
        _insert("HALF")(tx)
        raise ValueError("unit failed after its first statement")

    results = await asyncio.gather(
        db.write(_insert("A")),
        db.write(half_then_fail),
        db.write(_insert("B")),
        db.write(_insert("A")),  # unique constraint: fails alone too
        return_exceptions=True,
    )
    assert isinstance(results[1], ValueError)
    assert isinstance(results[3], sqlite3.IntegrityError)
    assert _stored(db.path) == ["A", "B"]


async def test_a_write_is_visible_to_other_connections_when_it_returns(db: Database) -> None:
    await db.write(_insert("DURABLE"))
    assert _stored(db.path) == ["DURABLE"]
    row = await db.fetch_one("SELECT id_tag FROM id_tags")
    assert row == {"id_tag": "DURABLE"}


async def test_a_cancelled_caller_does_not_stop_its_queued_unit(db: Database) -> None:
    started = asyncio.Event()
    loop = asyncio.get_running_loop()

    def slow(tx: Writer) -> None:
        loop.call_soon_threadsafe(started.set)
        _insert("SLOW")(tx)
        time.sleep(0.2)

    task = asyncio.create_task(db.write(slow))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await db.write(_insert("AFTER"))  # runs after the slow unit's commit
    assert _stored(db.path) == ["AFTER", "SLOW"]


async def test_close_commits_what_is_waiting(tmp_path: Path) -> None:
    database = await Database.open(tmp_path / "csms.db")
    pending = [asyncio.ensure_future(database.write(_insert(f"W{n}"))) for n in range(50)]
    await asyncio.sleep(0)
    await database.close()
    await asyncio.gather(*pending)
    assert len(_stored(database.path)) == 50


async def test_reads_cannot_write(db: Database) -> None:
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        await db.fetch_all("INSERT INTO id_tags (id_tag, status) VALUES ('X', 'Accepted')")


async def test_a_write_after_close_is_refused(tmp_path: Path) -> None:
    database = await Database.open(tmp_path / "csms.db")
    await database.close()
    with pytest.raises(DatabaseClosed):
        await database.write(_insert("LATE"))


async def test_a_unit_queued_behind_the_close_is_refused_not_left_waiting(tmp_path: Path) -> None:
    database = await Database.open(tmp_path / "csms.db")
    database._writer.jobs.put(None)  # what close() queues: the writer stops there
    with pytest.raises(DatabaseClosed):
        await asyncio.wait_for(database.write(_insert("BEHIND")), 5)
    await database.close()
    assert _stored(database.path) == []


async def test_closing_leaves_the_planner_statistics_behind(tmp_path: Path) -> None:
    """PRAGMA optimize at close: the tables the writer's queries used get sqlite_stat1 rows."""
    database = await Database.open(tmp_path / "stats.db")
    await database.execute(
        "INSERT INTO chargers (id, created_at, updated_at) VALUES ('CP', 'now', 'now')"
    )
    await database.write(
        lambda tx: tx.executemany(
            "INSERT INTO transactions (charger_id, connector_id, id_tag, auth_status,"
            " meter_start, start_timestamp, created_at, updated_at)"
            " VALUES ('CP', 1, ?, 'Accepted', 0, ?, 'now', 'now')",
            [(f"T{n % 7}", str(n)) for n in range(100)],
        )
    )
    await database.write(
        lambda tx: tx.fetch_all(
            "SELECT * FROM transactions WHERE id_tag = 'T' AND status = 'Active'"
        )  # a choice of indexes, which statistics inform
    )
    await database.close()
    connection = sqlite3.connect(tmp_path / "stats.db")
    try:
        tables = {row[0] for row in connection.execute("SELECT tbl FROM sqlite_stat1")}
    finally:
        connection.close()
    assert "transactions" in tables
