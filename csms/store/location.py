"""Where the database is: the forms `--db` (and OCPP_BENCH_DB) accept.

A plain path or `sqlite:///PATH` (SQLAlchemy's spelling: `sqlite:////abs/path.db` is absolute)
names an SQLite file. Any other URL is refused, so that `postgresql://...` never turns into a
SQLite file in a folder named `postgresql:`.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["UnsupportedDatabase", "sqlite_path"]

_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):(//|$)")
SQLITE_PREFIX = "sqlite:///"


class UnsupportedDatabase(ValueError):
    """A database location no store of ours can open; `str()` says why in one line."""


def sqlite_path(location: str) -> Path:
    """The SQLite file `location` names."""
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
        engine = "PostgreSQL is" if scheme.startswith("postgres") else f"{scheme}: databases are"
        raise UnsupportedDatabase(
            f"{engine} not supported yet ({location.split('@')[-1]!r}): give an SQLite file,"
            " as a path or sqlite:///PATH"
        )
    return Path(location)
