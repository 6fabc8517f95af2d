"""Meter values in the store: duplicates stored once, and the energy so far of a long
session read from its newest samples."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from csms.domain import TransactionStart
from csms.ocpp16.mapping import samples
from csms.store import Database, TransactionStore
from csms.store.transactions import REGISTER_WINDOW


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[TransactionStore]:
    db = await Database.open(tmp_path / "csms.db")
    await db.execute(
        "INSERT INTO chargers (id, created_at, updated_at) VALUES ('CP-1', 'now', 'now')"
    )
    yield TransactionStore(db)
    await db.close()


def entry(second: int, *samples: tuple[str, str]) -> dict[str, Any]:
    return {
        "timestamp": f"2026-12-01T10:{second // 60:02d}:{second % 60:02d}Z",
        "sampledValue": [{"value": value, "measurand": measurand} for measurand, value in samples],
    }


ENERGY, POWER = "Energy.Active.Import.Register", "Power.Active.Import"
START = TransactionStart(1, "TAG", 0, "2026-12-01T10:00:00Z")


async def test_a_sample_is_stored_once_in_a_message_and_across_messages(
    store: TransactionStore,
) -> None:
    started = await store.start("CP-1", START, "Accepted")
    twice = [entry(1, (ENERGY, "10"), (ENERGY, "10"), (POWER, "5")), entry(2, (ENERGY, "20"))]
    for transaction in (started.transaction_id, None):
        for _ in range(2):  # a resend of a MeterValues whose answer was lost
            await store.add_meter_values("CP-1", 1, transaction, samples(twice))
    rows = await store.db.fetch_all(
        "SELECT transaction_id, timestamp, measurand, value FROM meter_values ORDER BY id"
    )
    assert len(rows) == 6  # 3 distinct samples, in the transaction and outside it
    assert sum(row["transaction_id"] is None for row in rows) == 3


async def test_energy_so_far_is_the_newest_register_of_a_long_session(
    store: TransactionStore,
) -> None:
    started = await store.start("CP-1", START, "Accepted")
    tid = started.transaction_id
    readings = [entry(s, (ENERGY, str(100 * s)), (POWER, "7")) for s in range(1, 3000)]
    await store.add_meter_values("CP-1", 1, tid, samples(readings))
    older = [entry(0, (ENERGY, "1"))]  # late, older
    await store.add_meter_values("CP-1", 1, tid, samples(older))
    latest = (await store.latest_registers([tid]))[tid]
    assert latest["value"] == "299900"

    # a charger that stops sending its register: the newest within the window still counts
    quiet = [entry(3000 + s, (POWER, "7")) for s in range(REGISTER_WINDOW - 10)]
    await store.add_meter_values("CP-1", 1, tid, samples(quiet))
    assert (await store.latest_registers([tid]))[tid]["value"] == "299900"
    # ... and none once a whole window of its newest samples holds none
    last = [entry(5000 + s, (POWER, "7")) for s in range(20)]
    await store.add_meter_values("CP-1", 1, tid, samples(last))
    assert tid not in await store.latest_registers([tid])
