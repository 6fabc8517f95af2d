"""The database: numbered SQL migrations, group commit; SQLite (WAL) here, PostgreSQL in
`postgres.py`, behind one interface.

All SQL of the CSMS lives in this package. A write is a unit of work: a plain function run
in the database's writer thread, where it meets the writes waiting beside it. The thread runs
them one after another, each in its own savepoint, and commits them together, so one fsync
serves many chargers. `write()` returns only when its commit is durable; a unit that raises
is rolled back alone. Reads go through a second connection and never wait for a commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

import aiosqlite

from .checks import DatabaseUnusable, check, describe
from .schema import migrations

log = logging.getLogger(__name__)

Row = dict[str, Any]
Params = Sequence[Any] | dict[str, Any]
T = TypeVar("T")

PRAGMAS = ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "busy_timeout=5000")
MAX_GROUP = 512  # units of work per commit at most
ROWS_PER_INSERT = 64  # rows per statement of Writer.insert_rows


def iso(moment: datetime) -> str:
    """A UTC `moment` as the ISO 8601 text every table stores (milliseconds, Z), which
    compares as time does."""
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def utcnow() -> str:
    """Now as the ISO 8601 UTC text every table stores."""
    return iso(datetime.now(UTC))


def connect(path: Path) -> sqlite3.Connection:
    """A connection of our own (autocommit; transactions are explicit)."""
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.row_factory = sqlite3.Row
    for pragma in PRAGMAS:
        connection.execute(f"PRAGMA {pragma}")
    return connection


def apply_migrations(path: Path) -> list[int]:
    """Apply the migrations newer than the database. Returns the versions applied."""
    connection = connect(path)
    try:
        current = connection.execute("PRAGMA user_version").fetchone()[0]
        applied = []
        for number, script in migrations():
            if number > current:
                connection.executescript(
                    f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;"
                )
                applied.append(number)
        return applied
    finally:
        connection.close()


class DatabaseClosed(Exception):
    """A write after `close()` (or after the writer thread failed)."""

    def __init__(self) -> None:
        super().__init__("database closed")


class Result:
    def __init__(self, rowcount: int, lastrowid: int | None) -> None:
        self.rowcount = rowcount
        self.lastrowid = lastrowid


class Writer:
    """What a unit of work may do: statements inside the group's transaction."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def execute(self, sql: str, params: Params = ()) -> Result:
        cursor = self.connection.execute(sql, params)
        return Result(cursor.rowcount, cursor.lastrowid)

    def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        self.connection.executemany(sql, rows)

    def insert_rows(self, insert: str, rows: Sequence[Sequence[Any]]) -> None:
        """`insert` ("INSERT INTO t (a, b) VALUES") for each of `rows`, many rows per
        statement. Faster than executemany, and above all it hands the GIL back and forth
        with the event loop once per statement rather than once per row: under load, each
        such handover can keep this thread waiting for the loop's thread."""
        for start in range(0, len(rows), ROWS_PER_INSERT):
            chunk = rows[start : start + ROWS_PER_INSERT]
            marks = "(" + ", ".join("?" * len(chunk[0])) + ")"
            params = [value for row in chunk for value in row]
            self._insert(f"{insert} {', '.join([marks] * len(chunk))}", params)

    def _insert(self, sql: str, params: list[Any]) -> None:
        self.connection.execute(sql, params)

    def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        row = self.connection.execute(sql, params).fetchone()
        return dict(row) if row is not None else None

    def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        return [dict(row) for row in self.connection.execute(sql, params)]

    def fetch_rows(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        """Rows as tuples of the SELECT's columns: cheaper than dicts on a hot path."""
        return [tuple(row) for row in self.connection.execute(sql, params)]


class Engine(Protocol):
    """What the writer thread needs of a database engine."""

    name: str
    begin: str  # the statement that opens a group's transaction
    errors: tuple[type[Exception], ...]  # the engine's errors: a failed BEGIN or COMMIT

    def connect(self) -> Any:
        """The writer's connection, in autocommit (transactions are explicit)."""

    def writer(self, connection: Any) -> Writer: ...

    def usable(self, connection: Any) -> Any:
        """`connection`, or a new one if it was lost (a server restarted, say)."""

    def closing(self, connection: Any) -> None:
        """What to do before the writer's connection closes."""


class SqliteEngine:
    name = "sqlite"
    begin = "BEGIN IMMEDIATE"
    errors: tuple[type[Exception], ...] = (sqlite3.Error,)

    def __init__(self, path: Path) -> None:
        self.path = path

    def connect(self) -> sqlite3.Connection:
        return connect(self.path)

    def writer(self, connection: sqlite3.Connection) -> Writer:
        return Writer(connection)

    def usable(self, connection: sqlite3.Connection) -> sqlite3.Connection:
        return connection  # a file is not lost

    def closing(self, connection: sqlite3.Connection) -> None:
        """What SQLite advises before a long-lived connection closes: statistics for the
        tables its queries found lacking (bounded: analysis_limit), so the next start plans
        with them."""
        try:
            connection.execute("PRAGMA analysis_limit = 1000")
            connection.execute("PRAGMA optimize")
        except sqlite3.Error as exc:  # e.g. a full disk: closing matters more
            log.warning("PRAGMA optimize at close failed: %s", exc)


Work = Callable[[Writer], Any]
_Job = tuple[Work, asyncio.Future[Any], asyncio.AbstractEventLoop]
Outcome = tuple[asyncio.Future[Any], Any, BaseException | None]  # future, result, error


class _WriterThread(threading.Thread):
    """Takes the units of work waiting, runs them, commits once, then answers them all."""

    def __init__(self, engine: Engine, label: str) -> None:
        super().__init__(name=f"{engine.name}-writer {label}", daemon=True)
        self.engine = engine
        self.jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self.commits = 0  # how many groups were committed (for the benchmark and tests)
        self.units = 0

    def run(self) -> None:
        try:
            connection = self.engine.connect()
        except Exception:  # the waiting units are told below
            log.exception("the %s writer cannot connect", self.engine.name)
            self._refuse_waiting()
            return
        writer = self.engine.writer(connection)
        try:
            while True:
                group, stopping = self._take()
                if group:
                    fresh = self.engine.usable(connection)
                    if fresh is not connection:
                        connection, writer = fresh, self.engine.writer(fresh)
                    self._commit(connection, writer, group)
                if stopping:
                    self.engine.closing(connection)
                    return
        finally:
            connection.close()
            self._refuse_waiting()

    def _refuse_waiting(self) -> None:
        """Units queued after the last commit (after close(), or if this thread failed) are
        answered with an error rather than left waiting forever."""
        while True:
            try:
                job = self.jobs.get_nowait()
            except queue.Empty:
                return
            if job is not None:
                _, future, loop = job
                refusal: Outcome = (future, None, DatabaseClosed())
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(_settle, [refusal])

    def _take(self) -> tuple[list[_Job], bool]:
        first = self.jobs.get()
        if first is None:
            return [], True
        group = [first]
        while len(group) < MAX_GROUP:
            try:
                job = self.jobs.get_nowait()
            except queue.Empty:
                break
            if job is None:
                return group, True
            group.append(job)
        return group, False

    def _commit(self, connection: Any, writer: Writer, group: list[_Job]) -> None:
        outcomes: list[Outcome] = []
        errors = self.engine.errors
        try:
            connection.execute(self.engine.begin)
            for work, future, _ in group:
                connection.execute("SAVEPOINT unit")
                try:
                    outcomes.append((future, work(writer), None))
                    connection.execute("RELEASE unit")
                except Exception as exc:  # noqa: BLE001 - the unit's error goes to its caller
                    connection.execute("ROLLBACK TO unit")
                    connection.execute("RELEASE unit")
                    outcomes.append((future, None, exc))
            connection.execute("COMMIT")
            self.commits += 1
            self.units += len(group)
        except errors as exc:  # BEGIN or COMMIT failed: nothing of the group is kept
            with contextlib.suppress(*errors):
                connection.execute("ROLLBACK")
            outcomes = [(future, None, exc) for _, future, _ in group]
        by_loop: dict[asyncio.AbstractEventLoop, list[Outcome]] = {}
        for outcome, (_, _, loop) in zip(outcomes, group, strict=True):
            by_loop.setdefault(loop, []).append(outcome)
        for loop, mine in by_loop.items():
            with contextlib.suppress(RuntimeError):  # that loop is closed: nobody waits
                loop.call_soon_threadsafe(_settle, mine)


def _settle(outcomes: list[Outcome]) -> None:
    for future, result, error in outcomes:
        if future.done():  # its caller was cancelled; the unit was committed all the same
            continue
        if error is None:
            future.set_result(result)
        else:
            future.set_exception(error)


class Database:
    """The CSMS's database: SQLite here; `postgres.PostgresDatabase` has the same interface."""

    engine_name = "sqlite"
    # what a failed statement raises, beside DatabaseUnusable and DatabaseClosed
    errors: tuple[type[Exception], ...] = (sqlite3.Error,)

    def __init__(self, reader: aiosqlite.Connection, path: Path) -> None:
        self.connection = reader
        self.path = path
        self._writer = _WriterThread(SqliteEngine(path), path.name)
        self._writer.start()

    @classmethod
    async def open(cls, path: str | Path, *, upgrade: bool = True) -> Database:
        """The SQLite database at `path` (`engines.open_database` takes any location).
        DatabaseUnusable (the file and the problem, in one line) when `path` cannot be the
        CSMS's database: see `checks.check`."""
        path = Path(path)
        await asyncio.to_thread(check, path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseUnusable(path, f"its folder cannot be made: {exc.strerror}") from exc
        try:
            if upgrade:
                await asyncio.to_thread(apply_migrations, path)
            reader = await aiosqlite.connect(path, isolation_level=None)
        except sqlite3.Error as exc:
            raise DatabaseUnusable(path, describe(exc)) from exc
        try:
            reader.row_factory = sqlite3.Row
            for pragma in (*PRAGMAS, "query_only=ON"):
                await reader.execute(f"PRAGMA {pragma}")
        except sqlite3.Error as exc:
            await reader.close()
            raise DatabaseUnusable(path, describe(exc)) from exc
        return cls(reader, path)

    async def close(self) -> None:
        """Commit what is waiting, then close both connections."""
        self._writer.jobs.put(None)
        await asyncio.to_thread(self._writer.join)
        await self.connection.close()

    @property
    def commits(self) -> tuple[int, int]:
        """(groups committed, units of work in them) so far."""
        return self._writer.commits, self._writer.units

    async def version(self) -> int:
        row = await self.fetch_one("PRAGMA user_version")
        return int(row["user_version"]) if row else 0

    async def upgrade(self) -> list[int]:
        """Apply the migrations newer than the database. Returns the versions applied."""
        return await asyncio.to_thread(apply_migrations, self.path)

    def maintenance(self) -> tuple[str, ...]:
        """Statements that refresh the planner's statistics (run by retention's passes)."""
        return ("PRAGMA analysis_limit = 1000", "PRAGMA optimize")

    # Each read is one trip to aiosqlite's thread: one, not three (execute, fetch, close).

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self.connection.execute_fetchall(sql, params)
        return dict(next(iter(rows))) if rows else None

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        return [dict(row) for row in await self.connection.execute_fetchall(sql, params)]

    async def write(self, work: Callable[[Writer], T]) -> T:
        """Run `work` in the writer thread inside a transaction; return its result once
        committed durably. If it raises, its statements are undone and the error is raised
        here. Cancelling the caller does not stop a unit already queued: it commits."""
        if not self._writer.is_alive():
            raise DatabaseClosed()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._writer.jobs.put((work, future, loop))
        return await future

    async def execute(self, sql: str, params: Params = ()) -> Result:
        """One statement, committed durably."""
        return await self.write(lambda w: w.execute(sql, params))
