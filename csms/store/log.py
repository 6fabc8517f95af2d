"""The message log: every frame in and out, written in batches off the hot path.

Frames are buffered and flushed every `flush_interval` seconds (default 0.2) or when
`max_batch` rows wait, in one transaction: the log lags the wire by at most that interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from .db import Database, Row, Writer

log = logging.getLogger(__name__)

INSERT = (
    "INSERT INTO message_log (charger_id, direction, message_type, action, message_id,"
    " payload, error_code, transaction_id, timestamp) VALUES"
)


class LogRow(list[Any]):
    """One message_log row waiting in the buffer."""

    flushed = False


# A frame already written when the transaction it belongs to becomes known (a StartTransaction
# CALL, once answered): the newest row of the charger with that action, message id and
# direction (a charger that restarts reuses its ids), found from the newest end of
# message_log_action, so the cost does not grow with the log.
LINK = (
    "UPDATE message_log SET transaction_id = ?1 WHERE id = (SELECT id FROM message_log"
    " WHERE charger_id = ?2 AND action = ?3 AND message_id = ?4 AND direction = ?5"
    " ORDER BY id DESC LIMIT 1)"
)

_ACTION = 3  # index of action in a row
_TRANSACTION = 7  # index of transaction_id in a row


def query_sql(action: str | None, direction: str | None, newest_first: bool) -> str:
    """A charger's messages, paged (parameters: charger, [action], [direction], limit,
    offset). Index-backed in both orders: message_log_charger, message_log_action."""
    sql = "SELECT * FROM message_log WHERE charger_id = ?"
    if action:
        sql += " AND action = ?"
    if direction:
        sql += " AND direction = ?"
    return sql + f" ORDER BY id{' DESC' if newest_first else ''} LIMIT ? OFFSET ?"


def transaction_sql(newest_first: bool) -> str:
    """A transaction's messages, paged (parameters: transaction, limit, offset), on
    message_log_transaction in both orders."""
    order = " DESC" if newest_first else ""
    return f"SELECT * FROM message_log WHERE transaction_id = ? ORDER BY id{order} LIMIT ? OFFSET ?"


class MessageLog:
    def __init__(self, db: Database, flush_interval: float = 0.2, max_batch: int = 2000) -> None:
        self.db = db
        self.flush_interval = flush_interval
        self.max_batch = max_batch
        self._buffer: list[LogRow] = []
        self._links: list[tuple[int, str, str | None, str | None, str]] = []
        self._wake = asyncio.Event()
        self._flushing = asyncio.Lock()

    def append(
        self,
        charger_id: str,
        direction: str,
        message_type: int | None,
        action: str | None,
        message_id: str | None,
        payload: str,
        timestamp: str,
        error_code: str | None = None,
        transaction_id: int | None = None,
    ) -> LogRow:
        """Queue one row; returns it so a later answer can fill in its transaction id."""
        row = LogRow(
            (
                charger_id,
                direction,
                message_type,
                action,
                message_id,
                payload,
                error_code,
                transaction_id,
                timestamp,
            )
        )
        self._buffer.append(row)
        if len(self._buffer) >= self.max_batch:
            self._wake.set()
        return row

    def link_transaction(self, row: LogRow, transaction_id: int) -> None:
        """Attach a transaction id to a logged frame (a StartTransaction CALL, once answered)."""
        if row.flushed:
            self._links.append((transaction_id, row[0], row[_ACTION], row[4], row[1]))
        else:
            row[_TRANSACTION] = transaction_id

    async def run(self) -> None:
        """Flush forever; cancel to stop (then call `flush()` once more)."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.flush_interval)
            self._wake.clear()
            await self.flush()

    async def flush(self) -> int:
        """Write what waits; when it returns, every row appended before the call is stored,
        including those a flush already in flight (the background one) took."""
        async with self._flushing:
            return await self._flush()

    async def _flush(self) -> int:
        if not self._buffer and not self._links:
            return 0
        rows, self._buffer = self._buffer, []
        links, self._links = self._links, []
        for row in rows:
            row.flushed = True

        def work(tx: Writer) -> None:
            tx.insert_rows(INSERT, rows)
            tx.executemany(LINK, links)

        await self.db.write(work)
        return len(rows)

    async def query(
        self,
        charger_id: str,
        *,
        action: str | None = None,
        direction: str | None = None,
        limit: int = 100,
        offset: int = 0,
        newest_first: bool = False,
    ) -> list[Row]:
        await self.flush()
        params: list[Any] = [charger_id]
        params += [value for value in (action, direction) if value]
        params += [limit, offset]
        return await self.db.fetch_all(query_sql(action, direction, newest_first), params)

    async def of_transaction(
        self, transaction_id: int, *, limit: int = 100, offset: int = 0, newest_first: bool = False
    ) -> list[Row]:
        """The frames linked to a transaction (by the CSMS's number of it), oldest first."""
        await self.flush()
        sql = transaction_sql(newest_first)
        return await self.db.fetch_all(sql, (transaction_id, limit, offset))
