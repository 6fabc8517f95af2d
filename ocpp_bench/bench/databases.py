"""Where the bench's CSMSs keep their data: SQLite files in its folder, or new databases on a
PostgreSQL server (`ocpp-bench bench --db postgresql://...`), dropped at the end.

The full database is the same on both: the site's history is filled into an SQLite file
(`csms.store.fill`) and, for PostgreSQL, copied into a new database (`csms.store.copy`).
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from contextlib import closing
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

from csms.store.copy import copy_to_postgres
from csms.store.fill import Filled, Site, fill
from csms.store.location import PostgresUrl

__all__ = ["Databases"]

TABLES = ("meter_values", "message_log", "transactions")  # counted after a stage


class Databases:
    def __init__(self, folder: Path, server: PostgresUrl | None = None) -> None:
        self.folder = folder
        self.server = server
        self._made: list[PostgresUrl] = []

    @property
    def engine(self) -> str:
        """How the report names the store."""
        if self.server is None:
            return "SQLite WAL, synchronous=FULL"
        with psycopg.connect(self.server.url) as admin:
            version = admin.info.server_version
        return f"PostgreSQL {version // 10000}.{version % 10000}, synchronous_commit on"

    def new(self, name: str) -> Path | PostgresUrl:
        """An empty database for one CSMS."""
        if self.server is None:
            return self.folder / f"{name}.db"
        database = f"ocpp_bench_{name.replace('-', '_')}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(self.server.url, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{database}"')
        parts = urlsplit(self.server.url)
        made = PostgresUrl(urlunsplit(parts._replace(path=f"/{database}")))
        self._made.append(made)
        return made

    def filled(self, name: str, site: Site) -> tuple[Path | PostgresUrl, Filled]:
        """A database holding `site`'s history; the time includes the copy to PostgreSQL."""
        began = time.monotonic()
        path = self.folder / f"{name}.db"
        figures = fill(path, site)
        if self.server is None:
            return path, figures
        target = self.new(name)
        assert isinstance(target, PostgresUrl)
        copy_to_postgres(path, target)
        for leftover in (
            path,
            path.with_name(f"{path.name}-wal"),
            path.with_name(f"{path.name}-shm"),
        ):
            leftover.unlink(missing_ok=True)
        seconds = time.monotonic() - began
        return target, Filled(figures.site, figures.rows, seconds, figures.bytes)

    def stored(self, location: Path | PostgresUrl) -> dict[str, int]:
        """Rows in the database a stage ran on (read once its CSMS stopped)."""
        count = "SELECT COUNT(*) FROM {}"
        if isinstance(location, PostgresUrl):
            with psycopg.connect(location.url) as db:
                return {t: _first(db.execute(count.format(t)).fetchone()) for t in TABLES}
        with closing(sqlite3.connect(location)) as lite:
            return {t: _first(lite.execute(count.format(t)).fetchone()) for t in TABLES}

    def drop(self) -> None:
        if self.server is None:
            return
        with psycopg.connect(self.server.url, autocommit=True) as admin:
            for made in self._made:
                name = urlsplit(made.url).path.strip("/")
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._made.clear()


def _first(row: tuple[object, ...] | None) -> int:
    return int(row[0]) if row else 0  # type: ignore[call-overload]
