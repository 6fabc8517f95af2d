"""Charging sessions: start, meter values, stop. Every start and stop is durable before the
answer leaves; a stop the CSMS cannot match is recorded as an anomaly and still answered."""

from __future__ import annotations

import logging
from typing import Any

import orjson

from ..store import ChargerStore, TransactionStore, meter_rows
from .authorization import AuthorizationService, TagInfo

log = logging.getLogger(__name__)


class TransactionService:
    def __init__(
        self,
        transactions: TransactionStore,
        chargers: ChargerStore,
        authorization: AuthorizationService,
    ) -> None:
        self.transactions = transactions
        self.chargers = chargers
        self.authorization = authorization
        self._flagged: set[tuple[str, str, int | None]] = set()  # meter-value anomalies seen

    async def start(
        self,
        charger_id: str,
        connector_id: int,
        id_tag: str,
        meter_start: int,
        timestamp: str,
        reservation_id: int | None = None,
    ) -> tuple[int, TagInfo]:
        info = await self.authorization.check(id_tag)
        transaction_id, created = await self.transactions.start(
            charger_id, connector_id, id_tag, info.status, meter_start, timestamp, reservation_id
        )
        if not created:  # a repeated StartTransaction: same id, same verdict as the first time
            row = await self.transactions.get(transaction_id)
            assert row is not None
            info = TagInfo(row["auth_status"], info.expiry_date, info.parent_id_tag)
        return transaction_id, info

    async def stop(
        self,
        charger_id: str,
        transaction_id: int,
        meter_stop: int,
        timestamp: str,
        reason: str,
        id_tag: str | None,
        transaction_data: list[dict[str, Any]],
    ) -> TagInfo | None:
        row = await self.transactions.get(transaction_id)
        connector_id = row["connector_id"] if row else 0
        samples = meter_rows(
            charger_id, connector_id, transaction_id, transaction_data, "StopTransaction"
        )
        problem = None
        if row is None:
            problem = "stop for an unknown transaction"
        elif row["charger_id"] != charger_id:
            problem = f"stop for a transaction of charger {row['charger_id']}"
        elif row["status"] != "Active":
            problem = "stop for a transaction already stopped"
        if problem is None:
            await self.transactions.stop(
                transaction_id, meter_stop, timestamp, reason, id_tag, samples
            )
            if row is not None and meter_stop < row["meter_start"]:  # stored as sent, flagged
                await self.anomaly(charger_id, "meterStop below meterStart", transaction_id)
        else:
            await self.anomaly(charger_id, problem, transaction_id, transaction_data)
        if id_tag is None:
            return None
        return await self.authorization.check(id_tag, concurrent_ok=True)

    async def meter_values(
        self,
        charger_id: str,
        connector_id: int,
        transaction_id: int | None,
        meter_value: list[dict[str, Any]],
    ) -> None:
        if transaction_id is not None:
            row = await self.transactions.get(transaction_id)
            if row is None or row["charger_id"] != charger_id:
                await self._flag_once(
                    charger_id, "meter values for an unknown transaction", transaction_id
                )
            elif row["status"] != "Active":  # kept, and flagged
                await self._flag_once(
                    charger_id, "meter values for a closed transaction", transaction_id
                )
        rows = meter_rows(charger_id, connector_id, transaction_id, meter_value, "MeterValues")
        await self.transactions.add_meter_values(rows)

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
