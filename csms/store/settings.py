"""Settings kept in the database, shared by every node that uses it."""

from __future__ import annotations

from collections.abc import Callable

from .db import Database, Writer, utcnow


class SettingsStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, name: str) -> str | None:
        row = await self.db.fetch_one("SELECT value FROM settings WHERE name = ?", (name,))
        return None if row is None else str(row["value"])

    async def get_or_create(self, name: str, make: Callable[[], str]) -> str:
        """The setting's value; `make()`'s, stored, when it has none. Nodes asking at once
        all get the one value stored first."""
        candidate = make()

        def work(tx: Writer) -> str:
            tx.execute(
                "INSERT INTO settings (name, value, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (name) DO NOTHING",
                (name, candidate, utcnow()),
            )
            row = tx.fetch_one("SELECT value FROM settings WHERE name = ?", (name,))
            assert row is not None
            return str(row["value"])

        return await self.db.write(work)
