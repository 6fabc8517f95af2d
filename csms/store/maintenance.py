"""`csms db stats` and `csms db vacuum`: what the database holds, and giving back the room of
what retention deleted.

SQLite keeps the pages of deleted rows for later rows (the freelist), so a database does not
shrink when rows go; `vacuum()` rewrites it without them. It needs the database to itself:
run it with `csms serve` stopped (it refuses otherwise, naming the problem).
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from .checks import DatabaseUnusable, check

__all__ = ["DatabaseInUse", "Stats", "TableStats", "stats", "vacuum"]


class DatabaseInUse(DatabaseUnusable):
    """Another connection (a running `csms serve`) has the database open."""


@dataclass(frozen=True)
class TableStats:
    name: str
    rows: int
    table_bytes: int
    index_bytes: int  # all the table's indexes


@dataclass(frozen=True)
class Stats:
    tables: list[TableStats]
    file_bytes: int  # the database file (without its -wal)
    free_bytes: int  # pages on the freelist: what `vacuum` would give back


def stats(path: Path) -> Stats:
    """Rows and bytes per table (read-only; works beside a running CSMS). It reads every page
    (SQLite's dbstat), so it takes some seconds on a database of gigabytes."""
    check(path)
    if not path.exists():
        raise DatabaseUnusable(path, "does not exist")
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as db:
        owner = dict(
            db.execute(
                "SELECT name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index')"
            ).fetchall()
        )
        sizes = dict(db.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall())
        tables = []
        for name in sorted(t for t, parent in owner.items() if t == parent):
            if name.startswith("sqlite_"):
                continue
            rows = db.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0]
            index_bytes = sum(
                sizes.get(index, 0)
                for index, parent in owner.items()
                if parent == name and index != name
            )
            tables.append(TableStats(name, rows, sizes.get(name, 0), index_bytes))
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
        free = db.execute("PRAGMA freelist_count").fetchone()[0] * page_size
    return Stats(tables, path.stat().st_size, free)


def vacuum(path: Path) -> tuple[int, int]:
    """Rewrite the database without its free pages; (bytes before, bytes after). Raises
    DatabaseInUse when another process has it open."""
    check(path)
    if not path.exists():
        raise DatabaseUnusable(path, "does not exist")
    before = path.stat().st_size
    with closing(sqlite3.connect(path, isolation_level=None, timeout=0.5)) as db:
        # Exclusive locking mode: the lock taken is kept until the connection closes, and in
        # WAL mode it cannot be taken while another connection has the database open.
        db.execute("PRAGMA locking_mode = EXCLUSIVE")
        try:
            db.execute("BEGIN EXCLUSIVE")
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc):
                raise
            raise DatabaseInUse(
                path,
                "is in use by another process (a running csms serve?): stop it first, VACUUM"
                " needs the database to itself",
            ) from exc
        db.execute("ROLLBACK")
        db.execute("VACUUM")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return before, path.stat().st_size
