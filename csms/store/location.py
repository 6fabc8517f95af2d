"""Where the database is: the forms `--db` (and OCPP_BENCH_DB) accept.

A plain path or `sqlite:///PATH` (SQLAlchemy's spelling: `sqlite:////abs/path.db` is absolute)
names an SQLite file; `postgresql://user:password@host:port/database` (or `postgres://`, with
libpq's query parameters) a PostgreSQL database. Any other URL is refused, so that a URL never
turns into an SQLite file in a folder named after its scheme.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

__all__ = ["PostgresUrl", "UnsupportedDatabase", "parse", "sqlite_path"]

_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):(//|$)")
SQLITE_PREFIX = "sqlite:///"
POSTGRES_SCHEMES = ("postgresql", "postgres")


class UnsupportedDatabase(ValueError):
    """A database location no store of ours can open; `str()` says why in one line."""


@dataclass(frozen=True)
class PostgresUrl:
    url: str  # as given, password included: for the driver only

    @property
    def shown(self) -> str:
        """The URL without its password: for messages and logs."""
        parts = urlsplit(self.url)
        if parts.password is None:
            return self.url
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        return urlunsplit(parts._replace(netloc=netloc))

    def __str__(self) -> str:
        return self.shown


def parse(location: str) -> Path | PostgresUrl:
    """The SQLite file or the PostgreSQL database `location` names."""
    if not location.strip():
        raise UnsupportedDatabase("the database location is empty")
    if location.startswith(SQLITE_PREFIX):
        path = location[len(SQLITE_PREFIX) :]
        if not path:
            raise UnsupportedDatabase(f"{location!r} names no file: sqlite:///PATH")
        return Path(path)
    found = _URL.match(location)
    if found and len(found.group(1)) > 1:  # C:\... on Windows is a path, not a scheme
        scheme = found.group(1).lower()
        if scheme == "sqlite":
            raise UnsupportedDatabase(f"{location!r}: an SQLite URL is sqlite:///PATH")
        if scheme in POSTGRES_SCHEMES:
            return _postgres(location)
        raise UnsupportedDatabase(
            f"{scheme}: databases are not supported ({location.split('@')[-1]!r}): give an"
            " SQLite file (a path or sqlite:///PATH) or postgresql://user:password@host/database"
        )
    return Path(location)


def _postgres(location: str) -> PostgresUrl:
    try:
        parts = urlsplit(location)
        parts.port  # noqa: B018 - raises on a port that is no number
    except ValueError as exc:
        raise UnsupportedDatabase(f"{location.split('@')[-1]!r}: {exc}") from exc
    if not parts.path.strip("/"):
        where = PostgresUrl(location).shown
        raise UnsupportedDatabase(f"{where!r} names no database: postgresql://host/DATABASE")
    return PostgresUrl(location)


def sqlite_path(location: str) -> Path:
    """The SQLite file `location` names (a PostgreSQL URL is refused)."""
    where = parse(location)
    if isinstance(where, PostgresUrl):
        raise UnsupportedDatabase(f"{where.shown!r}: this needs an SQLite file")
    return where
