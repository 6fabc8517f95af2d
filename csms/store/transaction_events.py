"""Transactions their stations number (2.0.1): each TransactionEvent in one unit of work.

The record keeps the CSMS's integer number (`transactions.id`, what the API and the meter
values name) and the station's own id beside it (`station_transaction_id`, unique per
charger). The events received are kept by seqNo (`transaction_events`), so a retry is found
and applied once, and the numbers never received are the gaps.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from ..domain import TransactionEvent
from .db import Database, Writer, utcnow
from .transactions import TRANSACTION, meter_rows, store_samples

# the record of a station's transaction (transactions_station_id)
BY_STATION_ID = "SELECT * FROM transactions WHERE charger_id = ? AND station_transaction_id = ?"
# an Accepted tag in another active Accepted transaction (transactions_tag)
TAG_BUSY_ELSEWHERE = (
    "SELECT 1 FROM transactions WHERE id_tag = ? AND status = 'Active'"
    " AND auth_status = 'Accepted' AND id != ? LIMIT 1"
)
# whether a transaction has an energy register reading yet (meter_values_tx)
HAS_REGISTER = (
    "SELECT 1 FROM meter_values WHERE transaction_id = ?"
    " AND measurand = 'Energy.Active.Import.Register' LIMIT 1"
)
SEQ_NOS = "SELECT seq_no FROM transaction_events WHERE transaction_id = ?"
INSERT_EVENT = (
    "INSERT INTO transaction_events (transaction_id, seq_no, event_type, trigger_reason,"
    " timestamp, offline, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (transaction_id, seq_no) DO NOTHING"
)
OPEN = (
    "INSERT INTO transactions (charger_id, connector_id, evse_id, id_tag, auth_status,"
    " meter_start, start_timestamp, reservation_id, station_transaction_id, remote_start_id,"
    " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id"
)
NO_TAG = ""  # id_tag of a transaction no token was presented for (yet)
NO_VERDICT = "Unknown"  # its auth_status meanwhile
MAX_GAPS = 100  # seqNos listed as missing at most


def missing(seq_nos: Iterable[int], limit: int = MAX_GAPS) -> list[int]:
    """The numbers from 0 to the highest of `seq_nos` not among them (the first `limit`)."""
    seen = set(seq_nos)
    found: list[int] = []
    number = 0
    top = max(seen, default=-1)
    while number < top and len(found) < limit:
        if number not in seen:
            found.append(number)
        number += 1
    return found


class Recorded(NamedTuple):
    """What `TransactionEventStore.record` did."""

    transaction_id: int  # the CSMS's record number
    auth_status: str | None  # the verdict on the event's token; None: it carried none
    duplicate: bool  # a retry of an event applied already: nothing changed
    new_gap: bool  # this event's seqNo skipped numbers not received
    missing: list[int]  # the seqNos not received, when the event's order was unusual


class TransactionEventStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(
        self, charger_id: str, event: TransactionEvent, auth_status: str | None, meter: int | None
    ) -> Recorded:
        """Apply `event` durably: the first event of a transaction opens its record (Active),
        one of kind Ended closes it, the state follows the highest seqNo, the samples are
        stored. A record opened with no energy reading takes the first that comes as its
        start. `auth_status` is the registry's verdict on the event's token (ConcurrentTx
        instead when Accepted and the token is in another active transaction); `meter` the
        event's energy register in Wh (the start reading of a Started event, the stop
        reading of an Ended one)."""
        now = utcnow()

        def work(tx: Writer) -> Recorded:
            row = tx.fetch_one(BY_STATION_ID, (charger_id, event.transaction_id))
            opened = row is None
            if row is None:
                opened_id = tx.fetch_one(
                    OPEN,
                    (
                        charger_id,
                        event.connector_id or 0,
                        event.evse_id,
                        NO_TAG,
                        NO_VERDICT,
                        meter or 0,
                        event.timestamp,
                        event.reservation_id,
                        event.transaction_id,
                        event.remote_start_id,
                        now,
                        now,
                    ),
                )
                assert opened_id is not None
                row = tx.fetch_one(TRANSACTION, (opened_id["id"],))
                assert row is not None
            record = int(row["id"])
            params = (record, event.seq_no, event.kind, event.trigger, event.timestamp)
            if tx.execute(INSERT_EVENT, (*params, int(event.offline), now)).rowcount == 0:
                verdict = row["auth_status"] if event.id_tag else None
                return Recorded(record, verdict, True, False, [])
            verdict = auth_status
            if verdict == "Accepted" and event.id_tag:
                busy = tx.fetch_one(TAG_BUSY_ELSEWHERE, (event.id_tag, record))
                verdict = "ConcurrentTx" if busy else verdict
            last = -1 if opened else row["last_seq_no"]
            last = -1 if last is None else int(last)
            changes = _changes(row, event, verdict, meter, opened, newest=event.seq_no > last)
            # opened with no reading (meter_start 0, no register stored): the first reading
            # to come is the start
            unread = meter is not None and not opened and row["meter_start"] == 0
            unread = unread and "meter_start" not in changes
            if unread and tx.fetch_one(HAS_REGISTER, (record,)) is None:
                changes["meter_start"] = meter
            if changes:
                assignments = ", ".join(f"{column} = ?" for column in changes)
                tx.execute(
                    f"UPDATE transactions SET {assignments}, updated_at = ? WHERE id = ?",
                    (*changes.values(), now, record),
                )
            rows = meter_rows(
                charger_id, event.connector_id or row["connector_id"], record, event.samples,
                "TransactionEvent",
            )  # fmt: skip
            store_samples(tx, rows)
            new_gap = event.seq_no > last + 1
            unusual = new_gap or event.seq_no < last
            gaps = missing(r[0] for r in tx.fetch_rows(SEQ_NOS, (record,))) if unusual else []
            return Recorded(record, verdict, False, new_gap and bool(gaps), gaps)

        return await self.db.write(work)

    async def missing(self, transaction_id: int) -> list[int]:
        """The seqNos of the transaction's events not received (below the highest)."""
        rows = await self.db.fetch_all(SEQ_NOS, (transaction_id,))
        return missing(int(row["seq_no"]) for row in rows)


def _changes(
    row: dict[str, object],
    event: TransactionEvent,
    verdict: str | None,
    meter: int | None,
    opened: bool,
    *,
    newest: bool,
) -> dict[str, object]:
    """The columns `event` changes in its transaction's record `row`."""
    changes: dict[str, object] = {}
    if event.id_tag and row["id_tag"] == NO_TAG:
        changes.update(id_tag=event.id_tag, auth_status=verdict)
    if event.kind == "Started" and not opened:  # it came late: it knows the start
        changes["start_timestamp"] = event.timestamp
        if meter is not None:
            changes["meter_start"] = meter
    for column, value in (
        ("evse_id", event.evse_id),
        ("connector_id", event.connector_id),
        ("reservation_id", event.reservation_id),
        ("remote_start_id", event.remote_start_id),
    ):
        stored = row[column]
        known = stored not in (None, 0) if column == "connector_id" else stored is not None
        if value is not None and not known:
            changes[column] = value
    if newest:
        changes["last_seq_no"] = event.seq_no
        if event.charging_state is not None:
            changes["charging_state"] = event.charging_state
    if event.kind == "Ended":
        changes.update(status="Completed", stop_timestamp=event.timestamp)
        changes["stop_reason"] = event.stop_reason or "Local"
        if meter is not None:
            changes["meter_stop"] = meter
        if event.id_tag and event.id_tag != row["id_tag"]:
            changes["stop_id_tag"] = event.id_tag
    return changes
