"""The id-tag registry."""

from __future__ import annotations

from typing import Any

from .db import Database, Row, utcnow

FIELDS = ("status", "expiry_date", "parent_id_tag", "token_type")


class TagStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, id_tag: str) -> Row | None:
        """The tag, with its group's token type as `parent_token_type`."""
        return await self.db.fetch_one(
            "SELECT t.*, p.token_type AS parent_token_type FROM id_tags t"
            " LEFT JOIN id_tags p ON p.id_tag = t.parent_id_tag WHERE t.id_tag = ?",
            (id_tag,),
        )

    async def find(self, *, limit: int = 100, offset: int = 0) -> list[Row]:
        return await self.db.fetch_all(
            "SELECT * FROM id_tags ORDER BY id_tag LIMIT ? OFFSET ?", (limit, offset)
        )

    async def upsert(self, id_tag: str, **fields: Any) -> None:
        """Create the tag or overwrite the given fields."""
        unknown = set(fields) - set(FIELDS)
        if unknown:
            raise ValueError(f"unknown id-tag fields {sorted(unknown)}")
        now = utcnow()
        values = {
            "status": "Accepted",
            "expiry_date": None,
            "parent_id_tag": None,
            "token_type": None,
            **fields,
        }
        updates = ", ".join(f"{name} = excluded.{name}" for name in fields)
        updates = updates or "status = id_tags.status"
        await self.db.execute(
            "INSERT INTO id_tags (id_tag, status, expiry_date, parent_id_tag, token_type,"
            " created_at, updated_at) VALUES (:id_tag, :status, :expiry_date, :parent_id_tag,"
            " :token_type, :now, :now)"
            f" ON CONFLICT (id_tag) DO UPDATE SET {updates}, updated_at = excluded.updated_at",
            {**values, "id_tag": id_tag, "now": now},
        )

    async def delete(self, id_tag: str) -> bool:
        result = await self.db.execute("DELETE FROM id_tags WHERE id_tag = ?", (id_tag,))
        return result.rowcount == 1
