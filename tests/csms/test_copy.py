"""`csms db copy`: an SQLite database that has been in use, into PostgreSQL, whole."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from csms import CsmsApp
from csms.store.fill import Site, charger_id, fill
from ocpp_bench.cli import main

from ..conftest import STORE, csms_config
from ..postgres import Server
from .client import RawClient

pytestmark = pytest.mark.postgresql

SITE = Site(chargers=6, days=2, transactions=120, tags=20, active=3)


def _counts(path: Path) -> dict[str, int]:
    with closing(sqlite3.connect(path)) as db:
        tables = [
            t
            for (t,) in db.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {t: db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


async def test_a_used_sqlite_database_copies_whole_and_numbers_go_on(
    tmp_path: Path, postgres_server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "site.db"
    fill(source, SITE)
    expected = _counts(source)
    target = postgres_server.new_database(migrated=False)
    try:
        assert (
            await asyncio.to_thread(
                main, ["csms", "db", "copy", "--from", str(source), "--db", target]
            )
            == 0
        )
        printed = capsys.readouterr().out
        assert f"copied {sum(expected.values()):,} rows" in printed
        STORE.url = target
        async with CsmsApp(csms_config(tmp_path)) as app:
            db = app.services.db
            for table, count in expected.items():
                row = await db.fetch_one(f'SELECT count(*) AS n FROM "{table}"')
                assert row is not None and row["n"] == count, table
            highest = await db.fetch_one("SELECT max(id) AS id FROM transactions")
            assert highest is not None
            # a copied charger carries on, and its next transaction takes a new number
            cp = charger_id(0)
            await db.execute("UPDATE chargers SET password_hash = NULL WHERE id = ?", (cp,))
            async with await RawClient.open(f"{app.ocpp_url}/{cp}") as client:
                await client.boot()
                start = await client.result(
                    "StartTransaction",
                    {"connectorId": 2, "idTag": "COPY-T", "meterStart": 0,
                     "timestamp": "2027-01-01T00:00:00Z"},
                )  # fmt: skip
            assert start["transactionId"] == highest["id"] + 1
        # a second copy into the same database is refused: it would mix two histories
        again = ["csms", "db", "copy", "--from", str(source), "--db", target]
        assert await asyncio.to_thread(main, again) == 1
        assert "holds chargers already" in capsys.readouterr().err
    finally:
        STORE.url = None
        postgres_server.drop(target)


def test_copy_wants_sqlite_into_postgresql(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(
            ["csms", "db", "copy", "--from", str(tmp_path / "a.db"), "--db", str(tmp_path / "b.db")]
        )
        == 2
    )
    assert "into PostgreSQL" in capsys.readouterr().err
