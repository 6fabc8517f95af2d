"""Chargers, their connectors, configuration and events."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from ..domain import Boot
from .db import Database, Row, Writer, utcnow

# the columns of what a charger says at boot: Boot's fields, under the same names
BOOT_COLUMNS = tuple(field.name for field in fields(Boot))
EDITABLE = {
    "name",
    "vendor",
    "model",
    "password_hash",
    "enabled",
    "registration",
    "boot_accepted",
    "firmware_status",
    "diagnostics_status",
    "local_list_version",
    "security_profile",
    "ocpp_version",
}

# last-seen times of many chargers: each a primary-key lookup from a VALUES list
TOUCH = (
    "UPDATE chargers SET last_seen_at = seen.column1 FROM (VALUES {values}) AS seen"
    " WHERE chargers.id = seen.column2"
)
TOUCH_CHUNK = 256
# a charger's most recent events, newest first (charger_events_recent)
RECENT_EVENTS = "SELECT * FROM charger_events WHERE charger_id = ? ORDER BY id DESC LIMIT ?"


class ChargerStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, charger_id: str) -> Row | None:
        return await self.db.fetch_one("SELECT * FROM chargers WHERE id = ?", (charger_id,))

    async def find(
        self, *, online: bool | None = None, limit: int = 100, offset: int = 0
    ) -> list[Row]:
        sql, params = "SELECT * FROM chargers", []
        if online is not None:
            sql += " WHERE online = ?"
            params.append(int(online))
        sql += " ORDER BY id LIMIT ? OFFSET ?"
        return await self.db.fetch_all(sql, [*params, limit, offset])

    async def count(self, *, online: bool | None = None) -> int:
        sql, params = "SELECT COUNT(*) AS n FROM chargers", []
        if online is not None:
            sql += " WHERE online = ?"
            params.append(int(online))
        row = await self.db.fetch_one(sql, params)
        return int(row["n"]) if row else 0

    async def insert(self, charger_id: str, **fields: Any) -> bool:
        """Add a charger; False when the id exists already (nothing is changed then)."""
        unknown = set(fields) - EDITABLE
        if unknown:
            raise ValueError(f"unknown charger fields {sorted(unknown)}")
        now = utcnow()
        columns = ["id", "created_at", "updated_at", *fields]
        values = [charger_id, now, now, *fields.values()]
        sql = (
            f"INSERT INTO chargers ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
            " ON CONFLICT (id) DO NOTHING"
        )
        return (await self.db.execute(sql, values)).rowcount == 1

    async def update(self, charger_id: str, **fields: Any) -> bool:
        unknown = set(fields) - EDITABLE
        if unknown:
            raise ValueError(f"unknown charger fields {sorted(unknown)}")
        if not fields:
            return await self.get(charger_id) is not None
        assignments = ", ".join(f"{name} = ?" for name in fields)
        sql = f"UPDATE chargers SET {assignments}, updated_at = ? WHERE id = ?"
        result = await self.db.execute(sql, [*fields.values(), utcnow(), charger_id])
        return result.rowcount == 1

    async def delete(self, charger_id: str) -> bool:
        return (
            await self.db.execute("DELETE FROM chargers WHERE id = ?", (charger_id,))
        ).rowcount == 1

    async def record_boot(self, charger_id: str, boot: Boot, accepted: bool) -> None:
        """Keep what the charger said (what it did not say stays as it was)."""
        said = {column: getattr(boot, column) for column in BOOT_COLUMNS}
        columns = [column for column, value in said.items() if value is not None]
        values = [said[column] for column in columns]
        now = utcnow()
        assignments = "".join(f"{column} = ?, " for column in columns)
        sql = (
            f"UPDATE chargers SET {assignments}last_boot_at = ?, last_seen_at = ?,"
            " boot_accepted = CASE WHEN ? = 1 THEN 1 ELSE boot_accepted END, updated_at = ?"
            " WHERE id = ?"
        )
        await self.db.execute(sql, [*values, now, now, int(accepted), now, charger_id])

    async def set_online(self, charger_id: str, online: bool) -> None:
        now = utcnow()

        def work(tx: Writer) -> None:
            if online:
                tx.execute(
                    "UPDATE chargers SET online = 1, connected_at = ?, last_seen_at = ?"
                    " WHERE id = ?",
                    (now, now, charger_id),
                )
                return
            tx.execute("UPDATE chargers SET online = 0 WHERE id = ?", (charger_id,))
            tx.execute(
                "UPDATE connectors SET status = 'Unavailable', updated_at = ? WHERE charger_id = ?",
                (now, charger_id),
            )

        await self.db.write(work)

    async def touch(self, seen: list[tuple[str, str]]) -> None:
        """Store last-seen times: (ISO time, charger id) pairs, many per statement (one per
        charger would hand the writer thread's GIL back and forth once per charger)."""

        def work(tx: Writer) -> None:
            for start in range(0, len(seen), TOUCH_CHUNK):
                chunk = seen[start : start + TOUCH_CHUNK]
                values = ", ".join(["(?, ?)"] * len(chunk))
                tx.execute(TOUCH.format(values=values), [v for pair in chunk for v in pair])

        await self.db.write(work)

    async def all_offline(self) -> None:
        """At start-up no charger is connected, whatever a crash left behind."""
        now = utcnow()

        def work(tx: Writer) -> None:
            tx.execute("UPDATE chargers SET online = 0 WHERE online = 1")
            tx.execute(
                "UPDATE connectors SET status = 'Unavailable', updated_at = ?"
                " WHERE status != 'Unavailable'",
                (now,),
            )

        await self.db.write(work)

    async def upsert_connector(
        self, charger_id: str, connector_id: int, evse_id: int = 0, **fields: Any
    ) -> None:
        """A connector's status (`evse_id` 0: a 1.6 connector, under no EVSE)."""
        now = utcnow()
        sql = (
            "INSERT INTO connectors (charger_id, evse_id, connector_id, status, error_code, info,"
            " vendor_id, vendor_error_code, status_timestamp, updated_at)"
            " VALUES (:charger_id, :evse_id, :connector_id, :status, :error_code, :info,"
            " :vendor_id, :vendor_error_code, :status_timestamp, :now)"
            " ON CONFLICT (charger_id, evse_id, connector_id) DO UPDATE SET"
            " status = excluded.status,"
            " error_code = excluded.error_code, info = excluded.info,"
            " vendor_id = excluded.vendor_id, vendor_error_code = excluded.vendor_error_code,"
            " status_timestamp = excluded.status_timestamp, updated_at = excluded.updated_at"
        )
        values = {"info": None, "vendor_id": None, "vendor_error_code": None, **fields}
        where = {"charger_id": charger_id, "evse_id": evse_id, "connector_id": connector_id}
        await self.db.execute(sql, {**values, **where, "now": now})

    async def connectors(self, charger_id: str) -> list[Row]:
        return await self.db.fetch_all(
            "SELECT * FROM connectors WHERE charger_id = ? ORDER BY evse_id, connector_id",
            (charger_id,),
        )

    async def connectors_of(self, charger_ids: list[str]) -> dict[str, list[Row]]:
        """The connectors of several chargers in one query: charger id -> rows."""
        found: dict[str, list[Row]] = {charger_id: [] for charger_id in charger_ids}
        if not charger_ids:
            return found
        marks = ", ".join("?" * len(charger_ids))
        rows = await self.db.fetch_all(
            f"SELECT * FROM connectors WHERE charger_id IN ({marks})"
            " ORDER BY charger_id, evse_id, connector_id",
            charger_ids,
        )
        for row in rows:
            found[row["charger_id"]].append(row)
        return found

    async def set_configuration(
        self, charger_id: str, items: list[tuple[str, str | None, bool]]
    ) -> None:
        rows = [(charger_id, key, value, int(ro), utcnow()) for key, value, ro in items]
        await self.db.write(
            lambda tx: tx.executemany(
                "INSERT INTO charger_configuration (charger_id, key, value, readonly, updated_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (charger_id, key) DO UPDATE SET"
                " value = excluded.value, readonly = excluded.readonly,"
                " updated_at = excluded.updated_at",
                rows,
            )
        )

    async def configuration(self, charger_id: str) -> list[Row]:
        return await self.db.fetch_all(
            "SELECT key, value, readonly, updated_at FROM charger_configuration"
            " WHERE charger_id = ? ORDER BY key",
            (charger_id,),
        )

    async def add_event(
        self, charger_id: str, kind: str, detail: str | None = None, payload: str | None = None
    ) -> None:
        await self.db.execute(
            "INSERT INTO charger_events (charger_id, kind, detail, payload, timestamp)"
            " VALUES (?, ?, ?, ?, ?)",
            (charger_id, kind, detail, payload, utcnow()),
        )

    async def events(
        self, charger_id: str, kind: str | None = None, *, last: int | None = None
    ) -> list[Row]:
        """The charger's events (of one kind), oldest first; with `last`, only the `last`
        most recent, read from the newest end of charger_events_recent."""
        if last is not None and kind is None:
            return (await self.db.fetch_all(RECENT_EVENTS, (charger_id, last)))[::-1]
        sql, params = "SELECT * FROM charger_events WHERE charger_id = ?", [charger_id]
        if kind:
            sql += " AND kind = ?"
            params.append(kind)
        rows = await self.db.fetch_all(sql + " ORDER BY id", params)
        return rows if last is None else rows[-last:]
