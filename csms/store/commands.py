"""State the CSMS keeps about what it asked of chargers: reservations and charging profiles."""

from __future__ import annotations

from typing import Any

from .db import Database, Row, Writer, utcnow

# A charger's reservations that one of its transactions used: a lookup per reservation still
# Reserved (transactions_reservation), not a pass over the charger's transaction history.
RESERVATIONS_USED = (
    "UPDATE reservations SET status = 'Used', updated_at = ?1"
    " WHERE charger_id = ?2 AND status = 'Reserved' AND EXISTS (SELECT 1 FROM transactions"
    " WHERE transactions.charger_id = ?2"
    " AND transactions.reservation_id = reservations.reservation_id)"
)


class ReservationStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def put(
        self,
        charger_id: str,
        reservation_id: int,
        connector_id: int,
        id_tag: str,
        expiry_date: str,
        parent_id_tag: str | None = None,
    ) -> None:
        """Record an accepted reservation; one with the same id is replaced."""
        now = utcnow()
        await self.db.execute(
            "INSERT INTO reservations (charger_id, reservation_id, connector_id, id_tag,"
            " parent_id_tag, expiry_date, status, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, 'Reserved', ?, ?)"
            " ON CONFLICT (charger_id, reservation_id) DO UPDATE SET"
            " connector_id = excluded.connector_id, id_tag = excluded.id_tag,"
            " parent_id_tag = excluded.parent_id_tag, expiry_date = excluded.expiry_date,"
            " status = 'Reserved', updated_at = excluded.updated_at",
            (
                charger_id,
                reservation_id,
                connector_id,
                id_tag,
                parent_id_tag,
                expiry_date,
                now,
                now,
            ),
        )

    async def set_status(self, charger_id: str, reservation_id: int, status: str) -> bool:
        result = await self.db.execute(
            "UPDATE reservations SET status = ?, updated_at = ?"
            " WHERE charger_id = ? AND reservation_id = ?",
            (status, utcnow(), charger_id, reservation_id),
        )
        return result.rowcount == 1

    async def find(self, charger_id: str) -> list[Row]:
        """The charger's reservations, newest first. Those a transaction used and those past
        their expiry date are marked so (Used, Expired) first."""
        now = utcnow()

        def work(tx: Writer) -> list[Row]:
            tx.execute(RESERVATIONS_USED, (now, charger_id))
            tx.execute(
                "UPDATE reservations SET status = 'Expired', updated_at = ?"
                " WHERE charger_id = ? AND status = 'Reserved' AND expiry_date <= ?",
                (now, charger_id, now),
            )
            return tx.fetch_all(
                "SELECT * FROM reservations WHERE charger_id = ? ORDER BY created_at DESC,"
                " reservation_id DESC",
                (charger_id,),
            )

        return await self.db.write(work)


class ChargingProfileStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def put(
        self,
        charger_id: str,
        connector_id: int,
        profile_id: int,
        stack_level: int,
        purpose: str,
        transaction_id: int | None,
        profile: str,
    ) -> None:
        """Record an accepted profile. As OCPP 1.6 §3.13.2 says, it replaces one with the same
        id, or with the same stack level and purpose on the same connector."""

        def work(tx: Writer) -> None:
            tx.execute(
                "DELETE FROM charging_profiles WHERE charger_id = ? AND (profile_id = ?"
                " OR (connector_id = ? AND stack_level = ? AND purpose = ?))",
                (charger_id, profile_id, connector_id, stack_level, purpose),
            )
            tx.execute(
                "INSERT INTO charging_profiles (charger_id, connector_id, profile_id,"
                " stack_level, purpose, transaction_id, profile, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    charger_id,
                    connector_id,
                    profile_id,
                    stack_level,
                    purpose,
                    transaction_id,
                    profile,
                    utcnow(),
                ),
            )

        await self.db.write(work)

    async def clear(
        self,
        charger_id: str,
        *,
        profile_id: int | None = None,
        connector_id: int | None = None,
        purpose: str | None = None,
        stack_level: int | None = None,
    ) -> int:
        """Delete what a ClearChargingProfile with these criteria clears: by id when given,
        else every profile matching all the other criteria given."""
        clauses: list[str] = ["charger_id = ?"]
        params: list[Any] = [charger_id]
        if profile_id is not None:
            clauses.append("profile_id = ?")
            params.append(profile_id)
        else:
            for clause, value in (
                ("connector_id = ?", connector_id),
                ("purpose = ?", purpose),
                ("stack_level = ?", stack_level),
            ):
                if value is not None:
                    clauses.append(clause)
                    params.append(value)
        result = await self.db.execute(
            f"DELETE FROM charging_profiles WHERE {' AND '.join(clauses)}", params
        )
        return result.rowcount

    async def find(self, charger_id: str) -> list[Row]:
        return await self.db.fetch_all(
            "SELECT * FROM charging_profiles WHERE charger_id = ?"
            " ORDER BY connector_id, purpose, stack_level DESC",
            (charger_id,),
        )
