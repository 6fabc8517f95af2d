"""A station's device model (2.0.1): its variables, and the parts of its reports."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from ..domain import ReportPart, Variable
from .db import Database, Row, Writer, utcnow

PUT_VARIABLE = (
    "INSERT INTO charger_variables (charger_id, component, component_instance, evse_id,"
    " connector_id, variable, variable_instance, attribute, value, mutability,"
    " characteristics, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (charger_id, component, component_instance, evse_id, connector_id, variable,"
    " variable_instance, attribute) DO UPDATE SET value = excluded.value,"
    " mutability = coalesce(excluded.mutability, charger_variables.mutability),"
    " characteristics = coalesce(excluded.characteristics, charger_variables.characteristics),"
    " updated_at = excluded.updated_at"
)
PUT_PART = (
    "INSERT INTO report_parts (charger_id, request_id, seq_no, tbc, generated_at, received_at)"
    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (charger_id, request_id, seq_no) DO NOTHING"
)
PARTS = "SELECT seq_no FROM report_parts WHERE charger_id = ? AND request_id = ?"
VARIABLES = (
    "SELECT * FROM charger_variables WHERE charger_id = ?"
    " ORDER BY component, component_instance, evse_id, connector_id, variable,"
    " variable_instance, attribute"
)


def _rows(charger_id: str, variables: Iterable[Variable], now: str) -> list[tuple[Any, ...]]:
    return [
        (
            charger_id,
            v.component,
            v.component_instance,
            v.evse_id,
            v.connector_id,
            v.variable,
            v.variable_instance,
            v.attribute,
            v.value,
            v.mutability,
            None if v.characteristics is None else orjson.dumps(v.characteristics).decode(),
            now,
        )
        for v in variables
    ]


class DeviceModelStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def put(self, charger_id: str, variables: Iterable[Variable]) -> None:
        """Keep the variables' values (what is not said, mutability say, stays as it was)."""
        rows = _rows(charger_id, variables, utcnow())
        if rows:
            await self.db.write(lambda tx: tx.executemany(PUT_VARIABLE, rows))

    async def report_part(self, charger_id: str, part: ReportPart) -> list[int] | None:
        """Keep a report's part and its variables, durably. Returns None while more parts are
        to come; with the last, the seqNos of the report's parts not received (a retried part
        is kept once)."""
        now = utcnow()
        rows = _rows(charger_id, part.variables, now)

        def work(tx: Writer) -> list[int] | None:
            tx.execute(
                PUT_PART,
                (charger_id, part.request_id, part.seq_no, int(part.more), part.generated_at, now),
            )
            tx.executemany(PUT_VARIABLE, rows)
            if part.more:
                return None
            seen = {row[0] for row in tx.fetch_rows(PARTS, (charger_id, part.request_id))}
            return [number for number in range(part.seq_no) if number not in seen]

        return await self.db.write(work)

    async def variables(self, charger_id: str) -> list[Row]:
        return await self.db.fetch_all(VARIABLES, (charger_id,))
