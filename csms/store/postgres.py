"""The PostgreSQL database, behind `Database`'s interface: the same migrations, units of work
and group commit as SQLite, with psycopg 3.

psycopg has a blocking and an asyncio API over one libpq. Units of work are plain functions
run in the writer thread (see `db.py`), so the writer keeps a blocking connection and the
units stay what they are for SQLite; reads use an asyncio connection. The SQL is SQLite's,
rewritten once per statement by `postgres_sql`. Identity columns draw from sequences, so
transaction numbers are never reused, even by several CSMS nodes on one database.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

try:
    import psycopg
    from psycopg.adapt import Loader
    from psycopg.rows import dict_row
except ImportError as exc:  # the optional extra is not installed
    raise ImportError("PostgreSQL needs psycopg: pip install 'ocpp-bench[postgresql]'") from exc

from . import postgres_sql
from .checks import DatabaseUnusable
from .db import Database, Params, Result, Row, Writer, _WriterThread
from .location import PostgresUrl
from .maintenance import Stats, TableStats
from .schema import migrations

__all__ = ["PostgresDatabase", "apply_migrations", "stats", "vacuum"]

log = logging.getLogger(__name__)

MIGRATION_LOCK = 0x0CB9_0001  # pg_advisory_xact_lock key: one node migrates at a time
OUR_TABLES = frozenset({"chargers", "connectors", "id_tags", "transactions", "message_log"})


class _Number(Loader):
    """numeric (what sum() of integers gives) as int when whole, else float: as SQLite."""

    def load(self, data: Any) -> int | float:
        text = bytes(data).decode()
        try:
            return int(text)
        except ValueError:
            return float(text)


def _prepare(connection: Any) -> None:
    connection.adapters.register_loader("numeric", _Number)


class PostgresWriter(Writer):
    """A unit of work's statements, in SQLite's SQL, run on PostgreSQL."""

    connection: psycopg.Connection[Any]  # type: ignore[assignment]

    def execute(self, sql: str, params: Params = ()) -> Result:
        text, style = postgres_sql.statement(sql)
        cursor = self.connection.execute(text, postgres_sql.params(style, params))
        return Result(cursor.rowcount, None)  # no lastrowid: use RETURNING id

    def executemany(self, sql: str, rows: Any) -> None:
        text, style = postgres_sql.statement(sql)
        with self.connection.cursor() as cursor:
            cursor.executemany(text, [postgres_sql.params(style, row) for row in rows])

    def _insert(self, sql: str, params: list[Any]) -> None:
        self.execute(sql, params)

    def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        text, style = postgres_sql.statement(sql)
        with self.connection.cursor(row_factory=dict_row) as cursor:
            row: Row | None = cursor.execute(text, postgres_sql.params(style, params)).fetchone()
            return row

    def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        text, style = postgres_sql.statement(sql)
        with self.connection.cursor(row_factory=dict_row) as cursor:
            return cursor.execute(text, postgres_sql.params(style, params)).fetchall()

    def fetch_rows(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        text, style = postgres_sql.statement(sql)
        return self.connection.execute(text, postgres_sql.params(style, params)).fetchall()


class PostgresEngine:
    name = "postgresql"
    begin = "BEGIN"
    errors: tuple[type[Exception], ...] = (psycopg.Error,)

    def __init__(self, where: PostgresUrl) -> None:
        self.where = where

    def connect(self) -> psycopg.Connection[Any]:
        connection = psycopg.connect(self.where.url, autocommit=True)
        _prepare(connection)
        return connection

    def writer(self, connection: psycopg.Connection[Any]) -> Writer:
        return PostgresWriter(connection)  # type: ignore[arg-type]

    def usable(self, connection: psycopg.Connection[Any]) -> psycopg.Connection[Any]:
        """A new connection when the server dropped this one; if none can be made now, the
        group's units fail with the driver's error and the next group tries again."""
        if not (connection.broken or connection.closed):
            return connection
        try:
            fresh = self.connect()
        except psycopg.Error as exc:
            log.warning("the PostgreSQL writer cannot reconnect yet: %s", describe(exc))
            return connection
        log.warning("the PostgreSQL writer reconnected")
        connection.close()
        return fresh

    def closing(self, connection: psycopg.Connection[Any]) -> None:
        """Nothing: autovacuum keeps PostgreSQL's statistics."""


def describe(exc: psycopg.Error) -> str:
    """A driver's error in one line (libpq's are several, with hints)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = lines[0] if lines else type(exc).__name__
    for prefix in ("connection failed: ", "FATAL:  ", "FATAL: "):
        text = text.removeprefix(prefix)
    if "does not exist" in text and "database" in text:
        return f"{text} (create it first, e.g. createdb)"
    return text


def apply_migrations(connection: psycopg.Connection[Any], where: PostgresUrl) -> list[int]:
    """Apply the migrations newer than the database, under a lock: nodes starting together
    migrate one after another. Returns the versions applied."""
    applied = []
    with connection.transaction():
        connection.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        current = _check(connection, where)
        if current == 0:
            connection.execute("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT)")
            connection.execute("DELETE FROM schema_version")
            connection.execute("INSERT INTO schema_version VALUES (0)")
        for number, script in migrations():
            if number > current:
                connection.execute(postgres_sql.ddl(script).encode())
                connection.execute("UPDATE schema_version SET version = %s", (number,))
                applied.append(number)
    return applied


def _version(connection: psycopg.Connection[Any]) -> int | None:
    """The schema version; None when the database has no version table."""
    found = connection.execute("SELECT to_regclass('schema_version')").fetchone()
    if found is None or found[0] is None:
        return None
    row = connection.execute("SELECT version FROM schema_version").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _check(connection: psycopg.Connection[Any], where: PostgresUrl) -> int:
    """The schema version, or DatabaseUnusable: another application's tables, or a schema
    newer than this ocpp-bench knows."""
    version = _version(connection)
    tables = {
        name
        for (name,) in connection.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        )
    }
    ours = tables - {"schema_version"}
    if ours and (version in (None, 0) or not OUR_TABLES.issubset(ours)):
        shown = ", ".join(sorted(ours)[:5]) + (", ..." if len(ours) > 5 else "")
        raise DatabaseUnusable(
            where, f"holds another application's tables ({shown}), not ocpp-bench's"
        )
    newest = migrations()[-1][0]
    if version is not None and version > newest:
        raise DatabaseUnusable(
            where,
            f"was made by a newer ocpp-bench (schema version {version}; this one knows up to"
            f" {newest})",
        )
    return version or 0


async def _reader(where: PostgresUrl) -> psycopg.AsyncConnection[Any]:
    """A read-only asyncio connection, rows as dicts."""
    reader = await psycopg.AsyncConnection.connect(where.url, autocommit=True, row_factory=dict_row)
    _prepare(reader)
    await reader.execute("SET default_transaction_read_only = on")
    return reader


class PostgresDatabase(Database):
    engine_name = "postgresql"
    errors = (psycopg.Error,)

    def __init__(self, reader: psycopg.AsyncConnection[Any], where: PostgresUrl) -> None:
        self.reader = reader
        self.where = where
        self._closing = False
        self._writer = _WriterThread(PostgresEngine(where), where.shown.rsplit("/", 1)[-1])
        self._writer.start()

    @classmethod
    async def open_url(cls, where: PostgresUrl, *, upgrade: bool = True) -> PostgresDatabase:
        def prepare() -> None:
            with psycopg.connect(where.url, autocommit=True) as connection:
                if upgrade:
                    apply_migrations(connection, where)
                else:
                    _check(connection, where)

        try:
            await asyncio.to_thread(prepare)
            reader = await _reader(where)
        except psycopg.Error as exc:
            raise DatabaseUnusable(where, describe(exc)) from exc
        return cls(reader, where)

    async def close(self) -> None:
        self._closing = True
        self._writer.jobs.put(None)
        await asyncio.to_thread(self._writer.join)
        await self.reader.close()

    async def version(self) -> int:
        row = await self.fetch_one("SELECT version FROM schema_version")
        return int(row["version"]) if row else 0

    async def upgrade(self) -> list[int]:
        def work() -> list[int]:
            with psycopg.connect(self.where.url, autocommit=True) as connection:
                return apply_migrations(connection, self.where)

        return await asyncio.to_thread(work)

    def maintenance(self) -> tuple[str, ...]:
        return ()

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        text, style = postgres_sql.statement(sql)
        reader = await self._usable_reader()
        cursor = await reader.execute(text, postgres_sql.params(style, params))
        row: Row | None = await cursor.fetchone()
        return row

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        text, style = postgres_sql.statement(sql)
        reader = await self._usable_reader()
        cursor = await reader.execute(text, postgres_sql.params(style, params))
        return await cursor.fetchall()

    async def _usable_reader(self) -> psycopg.AsyncConnection[Any]:
        """The reader, made anew when the server dropped it (the read that found it broken
        failed with the driver's error; this one may still, if the server is away)."""
        if self.reader.broken and not self._closing:
            stale, self.reader = self.reader, await _reader(self.where)
            await stale.close()
            log.warning("the PostgreSQL reader reconnected")
        return self.reader


def stats(where: PostgresUrl) -> Stats:
    """Rows and bytes per table of our schema, and the database's size (free: 0, as
    PostgreSQL reuses the room of dead rows in place)."""
    try:
        with psycopg.connect(where.url, autocommit=True) as connection:
            _check(connection, where)
            names = [
                name
                for (name,) in connection.execute(
                    "SELECT table_name FROM information_schema.tables"
                    " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
                    " ORDER BY table_name"
                )
            ]
            tables = []
            for name in names:
                sizes = "pg_relation_size(%(t)s), pg_indexes_size(%(t)s)"
                row = connection.execute(
                    f'SELECT count(*), {sizes} FROM "{name}"', {"t": name}
                ).fetchone()
                assert row is not None
                tables.append(TableStats(name, int(row[0]), int(row[1]), int(row[2])))
            size = connection.execute("SELECT pg_database_size(current_database())").fetchone()
    except psycopg.Error as exc:
        raise DatabaseUnusable(where, describe(exc)) from exc
    return Stats(tables, int(size[0]) if size else 0, 0)


def vacuum(where: PostgresUrl) -> tuple[int, int]:
    """VACUUM FULL: the room of deleted rows back to the system. It locks each table while
    it rewrites it, so it gives up (lock_timeout) rather than wait behind a busy CSMS.
    Returns the database's size before and after."""
    size = "SELECT pg_database_size(current_database())"
    try:
        with psycopg.connect(where.url, autocommit=True) as connection:
            _check(connection, where)
            before = connection.execute(size).fetchone()
            connection.execute("SET lock_timeout = '2s'")
            connection.execute("VACUUM (FULL, ANALYZE)")
            after = connection.execute(size).fetchone()
    except psycopg.Error as exc:
        raise DatabaseUnusable(where, describe(exc)) from exc
    assert before is not None and after is not None
    return int(before[0]), int(after[0])
