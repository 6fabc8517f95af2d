"""An SQLite database's rows into a PostgreSQL one: how a CSMS that outgrew one machine moves
its history (`csms db copy`), and how the bench gets a PostgreSQL database that has been in
use (it fills an SQLite file, then copies it).

Both must be at the same schema version; the target must hold no chargers yet. Rows go with
COPY, table by table, in one transaction; the identity sequences then start past the
highest number copied, so no transaction number is ever used twice.
"""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg

from .checks import DatabaseUnusable, check
from .location import PostgresUrl
from .postgres import apply_migrations, describe

__all__ = ["Copied", "copy_to_postgres"]

BATCH = 10_000  # rows read from SQLite at a time


@dataclass(frozen=True)
class Copied:
    rows: dict[str, int]
    seconds: float


def copy_to_postgres(source: Path, target: PostgresUrl) -> Copied:
    """Every row of the SQLite file `source` into the PostgreSQL database `target` (migrated
    first). DatabaseUnusable when either cannot be used, or the target has chargers."""
    check(source)
    if not source.exists():
        raise DatabaseUnusable(source, "does not exist")
    began = time.monotonic()
    uri = f"file:{quote(str(source.resolve()))}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as lite:
        version = lite.execute("PRAGMA user_version").fetchone()[0]
        try:
            with psycopg.connect(target.url, autocommit=True) as pg:
                apply_migrations(pg, target)
                row = pg.execute("SELECT version FROM schema_version").fetchone()
                if row is None or int(row[0]) != version:
                    raise DatabaseUnusable(
                        source,
                        f"is at schema version {version}, {target} at"
                        f" {row[0] if row else 0}: run `csms db upgrade` on the older",
                    )
                found = pg.execute("SELECT count(*) FROM chargers").fetchone()
                if found and found[0]:
                    raise DatabaseUnusable(target, "holds chargers already: copy into a new one")
                with pg.transaction():
                    rows = _copy_tables(lite, pg)
        except psycopg.Error as exc:
            raise DatabaseUnusable(target, describe(exc)) from exc
    return Copied(rows, time.monotonic() - began)


def _copy_tables(
    lite: sqlite3.Connection, pg: psycopg.Connection[tuple[object, ...]]
) -> dict[str, int]:
    tables = [
        name
        for (name,) in lite.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " ORDER BY rowid"
        )
    ]
    # parents before children (foreign keys): chargers first, as the first migration made it
    tables.sort(key=lambda name: name != "chargers")
    copied: dict[str, int] = {}
    for table in tables:
        columns = [row[1] for row in lite.execute(f'PRAGMA table_info("{table}")')]
        names = ", ".join(f'"{c}"' for c in columns)
        count = 0
        reader = lite.execute(f'SELECT {names} FROM "{table}"')
        with pg.cursor().copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
            while batch := reader.fetchmany(BATCH):
                for values in batch:
                    copy.write_row(values)
                count += len(batch)
        copied[table] = count
        if "id" not in columns:
            continue
        found = pg.execute("SELECT pg_get_serial_sequence(%s, 'id')", (f'"{table}"',))
        sequence = found.fetchone()
        if sequence and sequence[0]:  # the next number: the highest copied + 1
            highest = f'SELECT coalesce(max(id), 0) + 1 FROM "{table}"'
            pg.execute(f"SELECT setval(%s, ({highest}), false)", (sequence[0],))
    return copied
