"""The bench's databases on PostgreSQL: made for the run, the full one as filled, dropped."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from csms.store.fill import Site
from csms.store.location import PostgresUrl
from ocpp_bench.bench.databases import Databases

from ..postgres import Server

pytestmark = pytest.mark.postgresql

SITE = Site(chargers=4, days=2, transactions=60, tags=10, active=2)


def _names(server: str) -> set[str]:
    with psycopg.connect(server) as admin:
        return {name for (name,) in admin.execute("SELECT datname FROM pg_database")}


def test_the_full_database_holds_the_site_and_the_run_leaves_nothing(
    tmp_path: Path, postgres_server: Server
) -> None:
    before = _names(postgres_server.url)
    databases = Databases(tmp_path, PostgresUrl(postgres_server.url))
    assert databases.engine.startswith("PostgreSQL ")
    empty = databases.new("empty")
    full, filled = databases.filled("full", SITE)
    assert isinstance(empty, PostgresUrl) and isinstance(full, PostgresUrl)
    assert databases.stored(full) == {
        "meter_values": SITE.meter_rows,
        "message_log": SITE.log_rows,
        "transactions": SITE.transactions,
    }
    assert filled.rows["transactions"] == SITE.transactions
    made = _names(postgres_server.url) - before
    assert {empty.url.rsplit("/", 1)[-1], full.url.rsplit("/", 1)[-1]} == made
    assert list(tmp_path.iterdir()) == []  # the SQLite file it was filled in is gone
    databases.drop()
    assert _names(postgres_server.url) == before


def test_on_sqlite_the_databases_are_files_in_the_folder(tmp_path: Path) -> None:
    databases = Databases(tmp_path)
    assert databases.new("storm-10") == tmp_path / "storm-10.db"
    assert databases.engine == "SQLite WAL, synchronous=FULL"
