"""Is this file a database the CSMS can use? One sentence naming the file and the problem.

`check()` looks before anything is written: a folder, a file that is not SQLite, one that is
read-only or corrupt, another application's SQLite file (never touched: it is opened
read-only), one made by a newer ocpp-bench. `Database.open()` runs it, and turns the SQLite
errors it meets later into the same `DatabaseUnusable`. A file that does not exist yet is fine:
it is created.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from pathlib import Path
from urllib.parse import quote

from .location import PostgresUrl
from .schema import migrations

__all__ = ["DatabaseUnusable", "check", "describe"]

SQLITE_HEADER = b"SQLite format 3\x00"
OUR_TABLES = frozenset({"chargers", "connectors", "id_tags", "transactions", "message_log"})


class DatabaseUnusable(Exception):
    """The database cannot be used; `str()` is one line naming it (the file, or the URL without
    its password) and why."""

    def __init__(self, path: Path | PostgresUrl, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


def describe(exc: sqlite3.Error) -> str:
    """An SQLite error in the words of `check()`."""
    text = str(exc)
    if "malformed" in text:
        return f"is corrupt ({text})"
    if "not a database" in text:
        return "is not an SQLite database"
    if "readonly" in text:
        return f"is read-only ({text})"
    if "locked" in text:
        return f"is locked by another process ({text})"
    return text


def check(path: Path, *, thorough: bool = False) -> None:
    """Raise DatabaseUnusable when `path` cannot be the CSMS's database. `thorough` also
    reads every page (`PRAGMA quick_check`: its time grows with the file, so `csms serve` does
    it once at start, the registry commands do not)."""
    if path.is_dir():
        raise DatabaseUnusable(path, "is a directory, not a database file")
    folder = path.parent
    if not path.exists():
        if folder.exists() and not folder.is_dir():
            raise DatabaseUnusable(path, f"cannot be created: {folder} is not a directory")
        return
    if not path.is_file():
        raise DatabaseUnusable(path, "is not a regular file")
    if not os.access(path, os.R_OK):
        raise DatabaseUnusable(path, "cannot be read (permission denied)")
    if not os.access(path, os.W_OK):
        raise DatabaseUnusable(path, "is read-only: the CSMS writes to its database")
    if not os.access(folder, os.W_OK):
        raise DatabaseUnusable(
            path, f"is in a read-only folder ({folder}): SQLite keeps its -wal and -shm beside it"
        )
    with path.open("rb") as file:
        header = file.read(len(SQLITE_HEADER))
    if not header:
        return  # an empty file: SQLite makes a new database in it
    if header != SQLITE_HEADER:
        raise DatabaseUnusable(path, "is not an SQLite database")
    try:
        _check_contents(path, thorough)
    except sqlite3.Error as exc:
        raise DatabaseUnusable(path, describe(exc)) from exc


def _check_contents(path: Path, thorough: bool) -> None:
    newest = migrations()[-1][0]
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as connection:
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        tables = {
            name
            for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
            if not name.startswith("sqlite_")
        }
        if tables and (version == 0 or not OUR_TABLES.issubset(tables)):
            shown = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
            raise DatabaseUnusable(
                path, f"is another application's SQLite database (tables {shown}), not ocpp-bench's"
            )
        if version > newest:
            raise DatabaseUnusable(
                path,
                f"was made by a newer ocpp-bench (schema version {version}; this one knows up to"
                f" {newest})",
            )
        if thorough:
            problems = [row[0] for row in connection.execute("PRAGMA quick_check(3)")]
            if problems != ["ok"]:
                raise DatabaseUnusable(path, f"is corrupt ({'; '.join(problems)})")
