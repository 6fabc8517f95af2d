"""The generated site history: the rows it promises, in the shapes the CSMS itself writes."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path

import orjson
import pytest

from csms.store import Database, TransactionStore
from csms.store.db import migrations
from csms.store.fill import Site, charger_id, fill

SITE = Site(chargers=10, days=3, transactions=300, tags=50, active=4)


async def test_a_filled_database_holds_what_its_site_says(tmp_path: Path) -> None:
    path = tmp_path / "site.db"
    filled = fill(path, SITE)
    assert filled.rows["meter_values"] == SITE.meter_rows
    assert filled.rows["message_log"] == SITE.log_rows
    assert filled.rows["transactions"] == SITE.transactions
    assert filled.rows["chargers"] == SITE.chargers
    db = await Database.open(path)  # a database the CSMS opens as its own
    try:
        assert await db.version() == migrations()[-1][0]
        store = TransactionStore(db)
        active = await store.find(status="Active", limit=100)
        assert len(active) == SITE.running
        assert len({row["charger_id"] for row in active}) == SITE.running
        latest = await store.latest_registers([row["id"] for row in active])
        assert set(latest) == {row["id"] for row in active}
        done = (await store.find(status="Completed", limit=1))[0]
        samples = await store.meter_values(done["id"])
        assert len(samples) == SITE.readings * 10
        registers = [int(s["value"]) for s in samples if s["measurand"].startswith("Energy")]
        assert registers == sorted(registers) and registers[-1] <= done["meter_stop"]
        row = await db.fetch_one(
            "SELECT payload FROM message_log WHERE charger_id = ? AND action = 'MeterValues'"
            " AND transaction_id = ? AND direction = 'in' ORDER BY id LIMIT 1",
            (done["charger_id"], done["id"]),
        )
        assert row is not None
        frame = orjson.loads(row["payload"])  # a real OCPP-J CALL
        assert frame[0] == 2 and frame[2] == "MeterValues"
        assert frame[3]["transactionId"] == done["id"]
        assert len(frame[3]["meterValue"][0]["sampledValue"]) == 10
    finally:
        await db.close()


def test_ids_follow_time_and_it_refuses_an_existing_file(tmp_path: Path) -> None:
    """Rows are written day after day: in id order, a frame is never older than the newest
    before it by more than a day and a session (a session's frames come with its start)."""
    path = tmp_path / "site.db"
    fill(path, SITE)
    with closing(sqlite3.connect(path)) as db:
        times = [
            datetime.fromisoformat(row[0])
            for row in db.execute(
                "SELECT timestamp FROM message_log WHERE charger_id = ? ORDER BY id",
                (charger_id(0),),
            )
        ]
    newest = times[0]
    for moment in times:
        assert moment > newest - timedelta(days=1, hours=4)
        newest = max(newest, moment)
    assert times[-1] - times[0] > timedelta(days=SITE.days - 1)
    with pytest.raises(FileExistsError):
        fill(path, SITE)
