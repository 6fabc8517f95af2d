"""The SQLite database: one aiosqlite connection, WAL, numbered SQL migrations.

All SQL of the CSMS lives in this package. Writes go through `write()`, which serialises
them and commits once per block, so a block is atomic and durable when it returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

Row = dict[str, Any]
Params = Sequence[Any] | dict[str, Any]


def utcnow() -> str:
    """Now as the ISO 8601 UTC text every table stores."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def migrations() -> list[tuple[int, str]]:
    folder = resources.files("csms.store").joinpath("migrations")
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.read_text(encoding="utf-8")))
    return sorted(found)


class Database:
    def __init__(self, connection: aiosqlite.Connection, path: Path) -> None:
        self.connection = connection
        self.path = path
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: str | Path, *, upgrade: bool = True) -> Database:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        connection = await aiosqlite.connect(path, isolation_level=None)
        connection.row_factory = sqlite3.Row
        for pragma in (
            "journal_mode=WAL",
            "synchronous=FULL",
            "foreign_keys=ON",
            "busy_timeout=5000",
        ):
            await connection.execute(f"PRAGMA {pragma}")
        db = cls(connection, path)
        if upgrade:
            await db.upgrade()
        return db

    async def close(self) -> None:
        await self.connection.close()

    async def version(self) -> int:
        row = await self.fetch_one("PRAGMA user_version")
        return int(row["user_version"]) if row else 0

    async def upgrade(self) -> list[int]:
        """Apply the migrations newer than the database. Returns the versions applied."""
        applied = []
        current = await self.version()
        for number, script in migrations():
            if number <= current:
                continue
            async with self._write_lock:
                await self.connection.executescript(
                    f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;"
                )
            applied.append(number)
        return applied

    # Every await below is one trip to aiosqlite's thread: one each, not three
    # (execute, fetch, close), since the trips, not SQLite, bound the rate.

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self.connection.execute_fetchall(sql, params)
        return dict(next(iter(rows))) if rows else None

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        return [dict(row) for row in await self.connection.execute_fetchall(sql, params)]

    @asynccontextmanager
    async def write(self) -> AsyncIterator[Writer]:
        """A serialised write transaction, committed (durably) when the block ends.

        Cancellation anywhere inside (a charger hanging up mid-handler) rolls it back: the
        statements already queued to the database thread still run, in order, so BEGIN must
        always be followed by ROLLBACK or COMMIT before the lock is released.
        """
        async with self._write_lock:
            try:
                await self.connection.execute("BEGIN IMMEDIATE")
                yield Writer(self.connection)
            except BaseException:
                with contextlib.suppress(sqlite3.OperationalError):  # nothing began
                    await asyncio.shield(self._rollback())
                raise
            await asyncio.shield(self.connection.commit())

    async def _rollback(self) -> None:
        await self.connection.execute("ROLLBACK")

    async def execute(self, sql: str, params: Params = ()) -> Result:
        """One statement, committed (durably) on its own: SQLite's autocommit."""
        async with self._write_lock:
            cursor = await self.connection.execute(sql, params)
            return Result(cursor.rowcount, cursor.lastrowid)


class Result:
    def __init__(self, rowcount: int, lastrowid: int | None) -> None:
        self.rowcount = rowcount
        self.lastrowid = lastrowid


class Writer:
    """Statements inside one write transaction."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self.connection = connection

    async def execute(self, sql: str, params: Params = ()) -> Result:
        cursor = await self.connection.execute(sql, params)
        return Result(cursor.rowcount, cursor.lastrowid)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        await self.connection.executemany(sql, rows)

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self.connection.execute_fetchall(sql, params)
        return dict(next(iter(rows))) if rows else None
