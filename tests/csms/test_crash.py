"""SIGKILL under load: every acknowledged start and stop survives, no transaction id is reused."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from websockets.exceptions import ConnectionClosed

from csms.process import CsmsProcess
from csms.store import open_database

from ..conftest import STORE
from .client import RawClient

CHARGERS = 6


async def session_loop(url: str, n: int, started: set[int], stopped: set[int]) -> None:
    """Start and stop transactions until the CSMS dies, noting each acknowledged id."""
    with contextlib.suppress(ConnectionClosed, OSError, TimeoutError):
        client = await RawClient.open(f"{url}/CRASH-{n}")
        await client.boot()
        for k in range(100_000):
            start = await client.result(
                "StartTransaction",
                {
                    "connectorId": 1,
                    "idTag": f"T{n}",
                    "meterStart": k,
                    "timestamp": f"2026-11-24T10:00:00.{k:06d}Z",
                },
            )
            started.add(start["transactionId"])
            await client.result(
                "StopTransaction",
                {
                    "transactionId": start["transactionId"],
                    "meterStop": k + 1,
                    "timestamp": f"2026-11-24T11:00:00.{k:06d}Z",
                },
            )
            stopped.add(start["transactionId"])


async def test_sigkill_loses_no_acknowledged_transaction(tmp_path: Path) -> None:
    db = STORE.url or tmp_path / "crash.db"
    csms = await asyncio.to_thread(CsmsProcess(db).start)
    url = csms.url
    started: set[int] = set()
    stopped: set[int] = set()
    loops = [asyncio.create_task(session_loop(url, n, started, stopped)) for n in range(CHARGERS)]
    try:
        for _ in range(300):  # until enough traffic has been acknowledged, 15 s at most
            if len(stopped) >= 30:
                break
            await asyncio.sleep(0.05)
        await asyncio.to_thread(csms.kill)
    finally:
        csms.stop()
        await asyncio.wait_for(asyncio.gather(*loops), 30)
    assert len(stopped) >= 30, f"too little traffic before the kill: {len(stopped)}"

    database = await open_database(db)
    try:
        stored = await database.fetch_all("SELECT id, status FROM transactions")
    finally:
        await database.close()
    rows = {row["id"]: row["status"] for row in stored}
    assert started <= set(rows), f"lost starts: {sorted(started - set(rows))[:10]}"
    assert all(rows[tx] == "Completed" for tx in stopped), "an acknowledged stop was lost"

    csms = await asyncio.to_thread(CsmsProcess(db).start)  # restart on the same database
    try:
        async with await RawClient.open(f"{csms.url}/AFTER") as client:
            await client.boot()
            fresh = await client.result(
                "StartTransaction",
                {
                    "connectorId": 1,
                    "idTag": "NEW",
                    "meterStart": 0,
                    "timestamp": "2026-11-25T10:00:00Z",
                },
            )
        assert fresh["transactionId"] > max(rows), "a transaction id was reused"
    finally:
        await asyncio.to_thread(csms.stop)
