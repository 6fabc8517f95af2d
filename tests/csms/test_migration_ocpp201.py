"""Migration 6 (OCPP 2.0.1 beside 1.6) on a database made by the schema before it: the data
is kept, and the station's transaction ids live beside the CSMS's numbers."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path

import pytest

from csms.domain import TransactionEvent, TransactionStart
from csms.store import Database, TransactionEventStore, TransactionStore
from csms.store.db import connect
from csms.store.schema import migrations

NOW = "2026-12-01T10:00:00Z"


def made_by_release_5(path: Path) -> None:
    """The database as migrations 1 to 5 left it, with a 1.6 charger's data."""
    with closing(connect(path)) as connection:
        for number, script in migrations():
            if number <= 5:
                connection.executescript(
                    f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;"
                )
        connection.executescript(
            "INSERT INTO chargers (id, created_at, updated_at) VALUES ('CP-1', 'now', 'now');"
            "INSERT INTO connectors (charger_id, connector_id, status, updated_at)"
            " VALUES ('CP-1', 1, 'Charging', 'now'), ('CP-1', 2, 'Available', 'now');"
            "INSERT INTO transactions (id, charger_id, connector_id, id_tag, auth_status,"
            " meter_start, start_timestamp, created_at, updated_at)"
            f" VALUES (41, 'CP-1', 1, 'TAG', 'Accepted', 100, '{NOW}', 'now', 'now');"
            "INSERT INTO meter_values (charger_id, connector_id, transaction_id, timestamp,"
            f" value, source) VALUES ('CP-1', 1, 41, '{NOW}', '150', 'MeterValues');"
        )


@pytest.fixture
async def upgraded(tmp_path: Path) -> AsyncIterator[Database]:
    path = tmp_path / "csms.db"
    made_by_release_5(path)
    db = await Database.open(path)
    yield db
    await db.close()


async def test_the_data_of_before_is_kept(upgraded: Database) -> None:
    db = upgraded
    assert await db.version() == max(number for number, _ in migrations())
    connectors = await db.fetch_all("SELECT * FROM connectors ORDER BY connector_id")
    assert [(c["evse_id"], c["connector_id"], c["status"]) for c in connectors] == [
        (0, 1, "Charging"),
        (0, 2, "Available"),
    ]
    row = await TransactionStore(db).get(41)
    assert row is not None and row["meter_start"] == 100
    assert row["station_transaction_id"] is None
    assert len(await TransactionStore(db).meter_values(41)) == 1


async def test_numbers_and_station_ids_never_collide(upgraded: Database) -> None:
    db = upgraded
    started = await TransactionStore(db).start(
        "CP-1", TransactionStart(2, "TAG2", 0, NOW), "Accepted"
    )
    assert started.transaction_id == 42  # the CSMS's numbers go on
    events = TransactionEventStore(db)
    # a station naming its transaction "41" or "42": its own id, beside a new number
    event = TransactionEvent("41", 0, "Started", NOW, "Authorized", evse_id=1)
    recorded = await events.record("CP-1", event, None, None)
    assert recorded.transaction_id == 43
    again = await events.record("CP-1", event, None, None)
    assert again.duplicate and again.transaction_id == 43
    other = await db.fetch_one("SELECT id_tag FROM transactions WHERE id = 41")
    assert other == {"id_tag": "TAG"}


async def test_a_repeated_1_6_start_is_still_one_transaction(upgraded: Database) -> None:
    db = upgraded
    store = TransactionStore(db)
    first = await store.start("CP-1", TransactionStart(1, "TAG", 100, NOW), "Accepted")
    assert first.transaction_id == 41 and first.closed == []


def test_the_station_id_is_unique_per_charger(tmp_path: Path) -> None:
    path = tmp_path / "csms.db"
    made_by_release_5(path)
    with closing(connect(path)) as connection:
        script = dict(migrations())[6]
        connection.executescript(f"BEGIN;\n{script}\nCOMMIT;")
        insert = (
            "INSERT INTO transactions (charger_id, connector_id, id_tag, auth_status,"
            " meter_start, start_timestamp, station_transaction_id, created_at, updated_at)"
            " VALUES ('CP-1', 1, '', 'Unknown', 0, ?, 'TX-1', 'now', 'now')"
        )
        connection.execute(insert, (NOW,))
        with pytest.raises(sqlite3.IntegrityError):
            connection.execute(insert, ("2026-12-01T11:00:00Z",))
