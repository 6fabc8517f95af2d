"""Transactions and meter values."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from ..domain import Sample, TransactionEnd, TransactionStart
from .db import Database, Row, Writer, utcnow

# A sample already stored (same charger, connector, transaction, instant, value and kind) is
# not stored again: chargers resend MeterValues whose answer they missed, and a duplicate row
# would count its energy twice. Each instant of a message is checked with one lookup of the
# samples stored at that instant, on the leading columns of a partial index (meter_values_tx
# for a transaction's samples, meter_values_loose for the others): it reads the few samples
# of one instant, so its cost grows neither with the table nor with a long transaction. The
# new samples are then inserted with one statement (see db.insert_rows).
METER_INSERT = (
    "INSERT INTO meter_values (charger_id, connector_id, transaction_id, timestamp, value,"
    " measurand, unit, phase, location, context, format, source) VALUES"
)
_SAMPLE_KEY = "SELECT value, measurand, unit, phase, location, context FROM meter_values"
LOOSE_AT = (
    _SAMPLE_KEY + " WHERE transaction_id IS NULL AND charger_id = ? AND connector_id = ?"
    " AND timestamp = ?"
)
IN_TRANSACTION_AT = (
    _SAMPLE_KEY + " WHERE transaction_id = ? AND timestamp = ? AND charger_id = ?"
    " AND connector_id = ?"
)
_KEY = slice(4, 10)  # value, measurand, unit, phase, location, context in a meter_rows row


def store_samples(tx: Writer, rows: list[tuple[Any, ...]]) -> int:
    """Insert the rows (of `meter_rows`) not stored yet, nor twice in `rows`; returns how
    many were inserted."""
    instants: dict[tuple[Any, ...], list[tuple[Any, ...]]] = {}
    for row in rows:  # charger, connector, transaction, timestamp
        instants.setdefault(row[:4], []).append(row)
    new = []
    for (charger_id, connector_id, transaction_id, timestamp), samples in instants.items():
        if transaction_id is None:
            stored = tx.fetch_rows(LOOSE_AT, (charger_id, connector_id, timestamp))
        else:
            params = (transaction_id, timestamp, charger_id, connector_id)
            stored = tx.fetch_rows(IN_TRANSACTION_AT, params)
        seen = set(stored)
        for sample in samples:
            key = sample[_KEY]
            if key not in seen:
                seen.add(key)
                new.append(sample)
    tx.insert_rows(METER_INSERT, new)
    return len(new)


# the transaction a MeterValues names, read in the same unit of work (primary key)
METER_TRANSACTION = "SELECT charger_id, status FROM transactions WHERE id = ?"
# a transaction's samples, in time order (meter_values_tx: index order)
TRANSACTION_SAMPLES = "SELECT * FROM meter_values WHERE transaction_id = ? ORDER BY timestamp, id"
# The newest energy register of each transaction (value, unit, timestamp): read from the
# newest end of the transaction's samples in meter_values_tx, usually within its last
# message. At most REGISTER_WINDOW samples are read: a transaction whose newest
# REGISTER_WINDOW samples hold no register (its charger does not send one) has none here,
# rather than a pass over a long session on every poll of the dashboard.
REGISTER_WINDOW = 1000
LATEST_REGISTER = (
    "SELECT t.id AS transaction_id, m.value, m.unit, m.timestamp FROM transactions AS t"
    " JOIN meter_values AS m ON m.id = (SELECT w.id FROM (SELECT s.id, s.measurand, s.phase"
    " FROM meter_values AS s WHERE s.transaction_id = t.id"
    f" ORDER BY s.timestamp DESC, s.id DESC LIMIT {REGISTER_WINDOW}) AS w"
    " WHERE w.measurand = 'Energy.Active.Import.Register' AND (w.phase IS NULL OR w.phase = '')"
    " LIMIT 1)"
    " WHERE t.id IN ({marks})"
)

# A tag is in a transaction while one it was Accepted for is active (one answered ConcurrentTx
# or Invalid, still open at its charger, does not hold the tag). Uses transactions_tag.
TAG_BUSY = (
    "SELECT 1 FROM transactions WHERE id_tag = ? AND status = 'Active'"
    " AND auth_status = 'Accepted' LIMIT 1"
)
# a repeat of a start (transactions_start_key)
START_REPEATED = (
    "SELECT id, auth_status FROM transactions WHERE charger_id = ? AND connector_id = ?"
    " AND id_tag = ? AND start_timestamp = ? AND station_transaction_id IS NULL"
)
# the transactions still active on a connector (transactions_active)
CONNECTOR_ACTIVE = (
    "SELECT id FROM transactions WHERE charger_id = ? AND connector_id = ?"
    " AND status = 'Active' ORDER BY id"
)
TRANSACTION = "SELECT * FROM transactions WHERE id = ?"

# The stop reason of a transaction the CSMS closed itself: OCPP 1.6's "Other" (any other
# reason), so the column holds only values of the Reason enumeration.
CLOSED_BY_CSMS = "Other"


class Started(NamedTuple):
    """What `TransactionStore.start` did."""

    transaction_id: int
    auth_status: str
    closed: list[int]  # transactions left active on the connector, closed by this start


def meter_rows(
    charger_id: str,
    connector_id: int,
    transaction_id: int | None,
    samples: Iterable[Sample],
    source: str,
) -> list[tuple[Any, ...]]:
    """meter_values rows of `samples` (a Sample's fields are the row's middle columns)."""
    head, tail = (charger_id, connector_id, transaction_id), (source,)
    return [head + sample + tail for sample in samples]


def find_query(
    charger_id: str | None, status: str | None, since: str | None, until: str | None
) -> tuple[str, list[Any]]:
    """The transactions list, newest first, and its parameters but LIMIT and OFFSET. Newest
    first is rowid order: of all transactions (primary key), of a charger (transactions_charger);
    the active ones come from transactions_active, whatever the history's length."""
    clauses: list[str] = []
    params: list[Any] = []
    table = "transactions"
    if status == "Active":
        # The active ones are a few per connector: read from their partial index (a literal
        # status, which it needs) and sorted, never found by walking the whole history
        # newest first, which is what the planner prefers without statistics.
        table = "transactions INDEXED BY transactions_active"
        clauses.append("status = 'Active'")
        status = None
    for clause, value in (
        ("charger_id = ?", charger_id),
        ("status = ?", status),
        ("start_timestamp >= ?", since),
        ("start_timestamp < ?", until),
    ):
        if value is not None:
            clauses.append(clause)
            params.append(value)
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    return f"SELECT * FROM {table}{where} ORDER BY id DESC LIMIT ? OFFSET ?", params


class TransactionStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, transaction_id: int) -> Row | None:
        return await self.db.fetch_one(TRANSACTION, (transaction_id,))

    async def find(
        self,
        *,
        charger_id: str | None = None,
        status: str | None = None,
        since: str | None = None,
        until: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Row]:
        sql, params = find_query(charger_id, status, since, until)
        return await self.db.fetch_all(sql, [*params, limit, offset])

    async def start(self, charger_id: str, start: TransactionStart, auth_status: str) -> Started:
        """Insert a transaction durably. A repeat of the same start (charger, connector, tag,
        timestamp) returns the existing one. An Accepted tag already in an active Accepted
        transaction gets ConcurrentTx instead: the check and the insert are one unit of work,
        which the writer thread runs alone, so no two starts can both see the tag free.

        A transaction still active on the same connector is one its charger will never stop
        (a connector holds one transaction at a time): it is closed in the same unit, stop
        reason `Other` at the new start's timestamp, meterStop unknown (NULL), and named in
        `Started.closed`."""
        connector_id, id_tag, timestamp = start.connector_id, start.id_tag, start.timestamp
        now = utcnow()

        def work(tx: Writer) -> Started:
            existing = tx.fetch_one(START_REPEATED, (charger_id, connector_id, id_tag, timestamp))
            if existing is not None:
                return Started(int(existing["id"]), existing["auth_status"], [])
            dangling = [
                int(row["id"]) for row in tx.fetch_all(CONNECTOR_ACTIVE, (charger_id, connector_id))
            ]
            tx.executemany(
                "UPDATE transactions SET stop_timestamp = ?, stop_reason = ?,"
                " status = 'Completed', updated_at = ? WHERE id = ?",
                [(timestamp, CLOSED_BY_CSMS, now, closed) for closed in dangling],
            )
            status = auth_status
            if status == "Accepted" and tx.fetch_one(TAG_BUSY, (id_tag,)) is not None:
                status = "ConcurrentTx"
            row = tx.fetch_one(
                "INSERT INTO transactions (charger_id, connector_id, id_tag, auth_status,"
                " meter_start, start_timestamp, reservation_id, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (
                    charger_id,
                    connector_id,
                    id_tag,
                    status,
                    start.meter_start,
                    timestamp,
                    start.reservation_id,
                    now,
                    now,
                ),
            )
            assert row is not None
            return Started(int(row["id"]), status, dangling)

        return await self.db.write(work)

    async def stop(self, charger_id: str, end: TransactionEnd) -> Row | None:
        """Close the charger's active transaction with the samples it sent at the end,
        durably. Returns the transaction as it was before; nothing changes unless it was this
        charger's and active."""
        transaction_id = end.transaction_id

        def work(tx: Writer) -> Row | None:
            row = tx.fetch_one(TRANSACTION, (transaction_id,))
            if row is None or row["charger_id"] != charger_id or row["status"] != "Active":
                return row
            tx.execute(
                "UPDATE transactions SET meter_stop = ?, stop_timestamp = ?, stop_reason = ?,"
                " stop_id_tag = ?, status = 'Completed', updated_at = ? WHERE id = ?",
                (end.meter_stop, end.timestamp, end.reason, end.id_tag, utcnow(), transaction_id),
            )
            rows = meter_rows(
                charger_id, row["connector_id"], transaction_id, end.samples, "StopTransaction"
            )
            store_samples(tx, rows)
            return row

        return await self.db.write(work)

    async def add_meter_values(
        self,
        charger_id: str,
        connector_id: int,
        transaction_id: int | None,
        samples: list[Sample],
    ) -> Row | None:
        """Store a MeterValues' samples. Returns the transaction they name (None when they
        name none or one unknown), read in the same unit of work."""
        rows = meter_rows(charger_id, connector_id, transaction_id, samples, "MeterValues")

        def work(tx: Writer) -> Row | None:
            store_samples(tx, rows)
            if transaction_id is None:
                return None
            return tx.fetch_one(METER_TRANSACTION, (transaction_id,))

        return await self.db.write(work)

    async def meter_values(self, transaction_id: int) -> list[Row]:
        return await self.db.fetch_all(TRANSACTION_SAMPLES, (transaction_id,))

    async def latest_registers(self, transaction_ids: list[int]) -> dict[int, Row]:
        """The newest Energy.Active.Import.Register sample of each transaction (value, unit)."""
        if not transaction_ids:
            return {}
        marks = ", ".join("?" * len(transaction_ids))
        rows = await self.db.fetch_all(LATEST_REGISTER.format(marks=marks), transaction_ids)
        return {int(row["transaction_id"]): row for row in rows}
