"""The database a location names, on its engine: SQLite or PostgreSQL."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg

from . import checks
from .db import Database
from .location import PostgresUrl, parse

__all__ = ["ERRORS", "describe", "open_database"]

ERRORS: tuple[type[Exception], ...] = (sqlite3.Error, psycopg.Error)  # what a statement raises


def describe(exc: Exception) -> str:
    """An engine's error in one line."""
    if isinstance(exc, psycopg.Error):
        from .postgres import describe as describe_postgres

        return describe_postgres(exc)
    if isinstance(exc, sqlite3.Error):
        return checks.describe(exc)
    return str(exc)


async def open_database(location: str | Path | PostgresUrl, *, upgrade: bool = True) -> Database:
    """The database at `location`: a path, sqlite:///PATH or postgresql://... (see
    `location.parse`). DatabaseUnusable (where, and the problem, in one line) when it cannot
    be the CSMS's database; UnsupportedDatabase when no engine of ours takes the location."""
    where = location if isinstance(location, PostgresUrl) else parse(str(location))
    if isinstance(where, PostgresUrl):
        from .postgres import PostgresDatabase

        return await PostgresDatabase.open_url(where, upgrade=upgrade)
    return await Database.open(where, upgrade=upgrade)
