"""The message log's batches: a flush returns once every row appended before it is stored."""

from __future__ import annotations

import asyncio
from pathlib import Path

from csms.store import Database, MessageLog


async def test_a_flush_waits_for_the_one_in_flight(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "csms.db")
    try:
        log = MessageLog(db)
        for n in range(100):
            log.append("CP-1", "in", 2, "Heartbeat", str(n), '[2,"x","Heartbeat",{}]', "t")
        background = asyncio.create_task(log.flush())  # as the background flusher does
        await asyncio.sleep(0)  # it has taken the rows and waits for their commit
        await log.flush()  # e.g. the API's query, which flushes first
        row = await db.fetch_one("SELECT COUNT(*) AS n FROM message_log")
        assert row == {"n": 100}
        assert await background == 100
    finally:
        await db.close()
