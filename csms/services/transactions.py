"""Charging sessions: start, meter values, stop (transactions the CSMS numbers, 1.6) and the
events of those a station numbers (2.0.1). Every start, stop and event is durable before the
answer leaves; a stop the CSMS cannot match is recorded as an anomaly and still answered, a
start on a connector whose transaction was never stopped closes that one (an anomaly too),
and so is an event whose seqNo skips numbers (the gap)."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import orjson

from ..domain import Sample, TransactionEnd, TransactionEvent, TransactionStart
from ..store import (
    CLOSED_BY_CSMS,
    ChargerStore,
    Recorded,
    Row,
    TransactionEventStore,
    TransactionStore,
)
from .authorization import AuthorizationService, TagInfo
from .energy import latest_register_wh

log = logging.getLogger(__name__)


class TransactionService:
    def __init__(
        self,
        transactions: TransactionStore,
        chargers: ChargerStore,
        authorization: AuthorizationService,
        events: TransactionEventStore,
    ) -> None:
        self.transactions = transactions
        self.events = events
        self.chargers = chargers
        self.authorization = authorization
        self._flagged: set[tuple[str, str, int | None]] = set()  # meter-value anomalies seen

    async def start(self, charger_id: str, start: TransactionStart) -> tuple[int, TagInfo]:
        """Record a transaction; its verdict is the tag's status, or ConcurrentTx when the tag
        is Accepted but already in an active transaction (decided in the same unit of work as
        the insert, so of simultaneous starts with one tag exactly one is Accepted)."""
        info = await self.authorization.check(start.id_tag)
        started = await self.transactions.start(charger_id, start, info.status)
        for closed in started.closed:
            problem = (
                f"StartTransaction on connector {start.connector_id} while transaction {closed}"
                f" was active there: {closed} closed (stop reason {CLOSED_BY_CSMS})"
            )
            await self.anomaly(
                charger_id, problem, closed, {"startedTransactionId": started.transaction_id}
            )
        # a repeated StartTransaction gets the same id and the same verdict as the first time
        status = started.auth_status
        return started.transaction_id, replace(info, status=status)

    async def stop(self, charger_id: str, end: TransactionEnd) -> TagInfo | None:
        """Close a transaction with the samples sent at its end. A stop the CSMS cannot match
        is recorded as an anomaly, with those samples, since they are stored nowhere else."""
        row = await self.transactions.stop(charger_id, end)
        transaction_id = end.transaction_id
        problem = None
        if row is None:
            problem = "stop for an unknown transaction"
        elif row["charger_id"] != charger_id:
            problem = f"stop for a transaction of charger {row['charger_id']}"
        elif row["status"] != "Active":
            problem = "stop for a transaction already stopped"
        if problem is not None:
            sent = [sample._asdict() for sample in end.samples]
            await self.anomaly(charger_id, problem, transaction_id, sent)
        elif row is not None and end.meter_stop < row["meter_start"]:  # stored as sent, flagged
            await self.anomaly(charger_id, "meterStop below meterStart", transaction_id)
        if end.id_tag is None:
            return None
        return await self.authorization.check(end.id_tag)

    async def event(
        self, charger_id: str, event: TransactionEvent
    ) -> tuple[Recorded, TagInfo | None]:
        """Apply an event of a transaction its station numbers; the verdict on the token it
        carries, if any (a retry gets the verdict of the first time). A seqNo that skips
        numbers is recorded as an anomaly naming those missing."""
        info = None
        if event.id_tag is not None:
            info = await self.authorization.check(event.id_tag, event.token_type)
        meter = latest_register_wh(event.samples)
        status = None if info is None else info.status
        recorded = await self.events.record(charger_id, event, status, meter)
        if recorded.new_gap:
            await self.anomaly(
                charger_id,
                f"TransactionEvent seqNo {event.seq_no} skips numbers not received",
                recorded.transaction_id,
                {"missingSeqNos": recorded.missing},
            )
        if info is None or recorded.auth_status is None:
            return recorded, None
        return recorded, replace(info, status=recorded.auth_status)

    async def missing_events(self, transaction_id: int) -> list[int]:
        """The seqNos of a station-numbered transaction's events not received."""
        return await self.events.missing(transaction_id)

    async def meter_values(
        self,
        charger_id: str,
        connector_id: int,
        transaction_id: int | None,
        samples: list[Sample],
    ) -> None:
        row = await self.transactions.add_meter_values(
            charger_id, connector_id, transaction_id, samples
        )
        if transaction_id is None:
            return
        if row is None or row["charger_id"] != charger_id:
            await self._flag_once(
                charger_id, "meter values for an unknown transaction", transaction_id
            )
        elif row["status"] != "Active":  # kept, and flagged
            problem = "meter values for a closed transaction"
            await self._flag_once(charger_id, problem, transaction_id)

    async def get(self, transaction_id: int) -> Row | None:
        return await self.transactions.get(transaction_id)

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
        """Transactions, newest first; `since` and `until` bound the start time."""
        return await self.transactions.find(
            charger_id=charger_id,
            status=status,
            since=since,
            until=until,
            limit=limit,
            offset=offset,
        )

    async def samples(self, transaction_id: int) -> list[Row]:
        """A transaction's meter values, in time order."""
        return await self.transactions.meter_values(transaction_id)

    async def latest_registers(self, transaction_ids: list[int]) -> dict[int, Row]:
        """The newest energy register reading of each transaction."""
        return await self.transactions.latest_registers(transaction_ids)

    async def _flag_once(self, charger_id: str, problem: str, transaction_id: int | None) -> None:
        """Meter values come every few seconds: one anomaly per transaction and problem, not
        one per message (the values themselves are all stored)."""
        key = (charger_id, problem, transaction_id)
        if key in self._flagged:
            return
        if len(self._flagged) > 10_000:
            self._flagged.clear()
        self._flagged.add(key)
        await self.anomaly(charger_id, problem, transaction_id)

    async def anomaly(
        self, charger_id: str, problem: str, transaction_id: int | None, data: Any = None
    ) -> None:
        log.warning("%s: %s (transaction %s)", charger_id, problem, transaction_id)
        payload = orjson.dumps({"transactionId": transaction_id, "data": data}).decode()
        await self.chargers.add_event(charger_id, "Anomaly", problem, payload)
