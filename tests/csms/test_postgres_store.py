"""What only the PostgreSQL store has to get right: a server that drops the CSMS's
connections, nodes that migrate at once, numbers from one sequence for several writers."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from csms.store import open_database
from csms.store.db import Database
from csms.store.location import PostgresUrl

from ..postgres import Server

pytestmark = pytest.mark.postgresql


def _terminate_others(url: str) -> int:
    """Close every other session on the database, as a server restart would."""
    with psycopg.connect(url, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return len(rows)


async def _insert(db: Database, tag: str) -> None:
    await db.execute(
        "INSERT INTO id_tags (id_tag, status, created_at, updated_at) VALUES (?, 'Accepted',"
        " '2026-01-01', '2026-01-01')",
        (tag,),
    )


async def test_dropped_connections_are_made_anew(postgres_database: str) -> None:
    db = await open_database(postgres_database)
    try:
        await _insert(db, "BEFORE")
        assert await db.fetch_one("SELECT id_tag FROM id_tags") == {"id_tag": "BEFORE"}
        assert await asyncio.to_thread(_terminate_others, postgres_database) == 2
        # the unit and the read that meet the dropped connections fail; the next ones work
        with pytest.raises(psycopg.OperationalError):
            await _insert(db, "LOST")
        with pytest.raises(psycopg.OperationalError):
            await db.fetch_all("SELECT id_tag FROM id_tags")
        await _insert(db, "AFTER")
        rows = await db.fetch_all("SELECT id_tag FROM id_tags ORDER BY id_tag")
        assert rows == [{"id_tag": "AFTER"}, {"id_tag": "BEFORE"}]
    finally:
        await db.close()


async def test_nodes_starting_together_migrate_once(postgres_server: Server) -> None:
    url = postgres_server.new_database(migrated=False)
    try:
        opened = await asyncio.gather(*(open_database(url) for _ in range(4)))
        try:
            versions = {await db.version() for db in opened}
            assert len(versions) == 1 and versions.pop() > 0
        finally:
            for db in opened:
                await db.close()
    finally:
        postgres_server.drop(url)


async def test_transaction_numbers_from_two_writers_never_collide(postgres_database: str) -> None:
    """Two CSMS processes (here: two stores) on one database draw from one sequence."""
    first, second = await open_database(postgres_database), await open_database(postgres_database)
    try:
        await first.execute(
            "INSERT INTO chargers (id, created_at, updated_at) VALUES ('CP', 'now', 'now')"
        )

        async def start(db: Database, n: int) -> int:
            row = await db.write(
                lambda tx: tx.fetch_one(
                    "INSERT INTO transactions (charger_id, connector_id, id_tag, auth_status,"
                    " meter_start, start_timestamp, created_at, updated_at)"
                    " VALUES ('CP', 1, ?, 'Accepted', 0, ?, 'now', 'now') RETURNING id",
                    (f"T{n}", f"2026-01-01T00:00:{n:02d}Z"),
                )
            )
            assert row is not None
            return int(row["id"])

        ids = await asyncio.gather(*(start((first, second)[n % 2], n) for n in range(40)))
        assert len(set(ids)) == 40
    finally:
        await first.close()
        await second.close()


def test_messages_show_the_url_without_its_password() -> None:
    where = PostgresUrl("postgresql://bench:hunter2@db.example:5433/csms?sslmode=require")
    assert where.shown == "postgresql://bench:***@db.example:5433/csms?sslmode=require"
    assert str(where) == where.shown
    assert PostgresUrl("postgresql://db.example/csms").shown == "postgresql://db.example/csms"
