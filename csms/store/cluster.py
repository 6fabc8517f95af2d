"""The nodes of a cluster on one PostgreSQL database and which of them holds each charger.

A node's lease covers its claims: while it renews it, the chargers it claimed are its own;
once it lapses (the node died), they are nobody's and the node's row goes at the next sweep.
Claims are numbered per charger, so a node told of a claim can tell whether it is newer than
its own connection's. A call for a charger another node holds is a row: the node asked
writes it, the owner writes the answer. Notices between nodes go by PostgreSQL's NOTIFY, sent
in the same transaction as the change they announce.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from .db import Database, Row, Writer, iso, utcnow

CHANNEL = "ocpp_bench_cluster"  # LISTEN/NOTIFY channel of every node


CALLS_KEPT = 600.0  # seconds a call row may outlive its origin's wait (a dead origin's)


@dataclass(frozen=True)
class Claim:
    charger_id: str
    node_id: str
    number: int


@dataclass(frozen=True)
class Changed:
    """A charger's registry entry changed on node `node_id`: the node holding it checks it
    still admits it."""

    charger_id: str
    node_id: str


@dataclass(frozen=True)
class CallNotice:
    """A call for `node_id` to send ("call"), or an answer for `node_id` to take ("answer")."""

    kind: str
    call_id: str
    node_id: str


def _until(seconds: float) -> str:
    return iso(datetime.now(UTC) + timedelta(seconds=seconds))


class ClusterStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def join(self, node_id: str, ocpp_url: str, api_url: str, lease: float) -> None:
        """Register the node (again, after a restart: its old claims go)."""
        now = utcnow()

        def work(tx: Writer) -> None:
            tx.execute("DELETE FROM charger_owners WHERE node_id = ?", (node_id,))
            tx.execute(
                "INSERT INTO cluster_nodes (node_id, ocpp_url, api_url, started_at, lease_until)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (node_id) DO UPDATE SET"
                " ocpp_url = excluded.ocpp_url, api_url = excluded.api_url,"
                " started_at = excluded.started_at, lease_until = excluded.lease_until",
                (node_id, ocpp_url, api_url, now, _until(lease)),
            )

        await self.db.write(work)

    async def renew(self, node_id: str, lease: float) -> bool:
        """Extend the node's lease; False when its row is gone (it was taken for dead)."""
        sql = "UPDATE cluster_nodes SET lease_until = ? WHERE node_id = ?"
        return (await self.db.execute(sql, (_until(lease), node_id))).rowcount == 1

    async def leave(self, node_id: str) -> None:
        def work(tx: Writer) -> None:
            tx.execute("DELETE FROM charger_owners WHERE node_id = ?", (node_id,))
            tx.execute("DELETE FROM cluster_nodes WHERE node_id = ?", (node_id,))

        await self.db.write(work)

    async def claim(self, charger_id: str, node_id: str, subprotocol: str) -> Claim:
        """The charger, speaking `subprotocol`, is now held by `node_id`; the other nodes
        are told."""

        def work(tx: Writer) -> Claim:
            row = tx.fetch_one(
                "INSERT INTO charger_owners (charger_id, node_id, claim, since, subprotocol)"
                " VALUES (?, ?, 1, ?, ?) ON CONFLICT (charger_id) DO UPDATE SET"
                " node_id = excluded.node_id, claim = charger_owners.claim + 1,"
                " since = excluded.since, subprotocol = excluded.subprotocol RETURNING claim",
                (charger_id, node_id, utcnow(), subprotocol),
            )
            assert row is not None
            claim = Claim(charger_id, node_id, int(row["claim"]))
            tx.fetch_one("SELECT pg_notify(?, ?)", (CHANNEL, notice(claim)))
            return claim

        return await self.db.write(work)

    async def release(self, charger_id: str, node_id: str, number: int) -> bool:
        """The node's connection with the charger ended: its claim goes, unless a newer
        claim replaced it. True when it was still the charger's owner."""
        sql = "DELETE FROM charger_owners WHERE charger_id = ? AND node_id = ? AND claim = ?"
        return (await self.db.execute(sql, (charger_id, node_id, number))).rowcount == 1

    async def owner(self, charger_id: str) -> Row | None:
        """The live node holding the charger (node_id, api_url, ocpp_url, and subprotocol:
        the version the charger speaks there), or None."""
        return await self.db.fetch_one(
            "SELECT n.node_id, n.api_url, n.ocpp_url, o.subprotocol FROM charger_owners o"
            " JOIN cluster_nodes n ON n.node_id = o.node_id"
            " WHERE o.charger_id = ? AND n.lease_until > ?",
            (charger_id, utcnow()),
        )

    async def owners(self, charger_ids: list[str]) -> dict[str, Row]:
        """`owner` of several chargers in one query (those no live node holds left out)."""
        if not charger_ids:
            return {}
        marks = ", ".join("?" * len(charger_ids))
        rows = await self.db.fetch_all(
            "SELECT o.charger_id, n.node_id, o.subprotocol FROM charger_owners o"
            " JOIN cluster_nodes n ON n.node_id = o.node_id"
            f" WHERE o.charger_id IN ({marks}) AND n.lease_until > ?",
            [*charger_ids, utcnow()],
        )
        return {row["charger_id"]: row for row in rows}

    async def nodes(self) -> list[Row]:
        """Every live node, with how many chargers it holds."""
        return await self.db.fetch_all(
            "SELECT n.node_id, n.ocpp_url, n.api_url, n.started_at, n.lease_until,"
            " (SELECT count(*) FROM charger_owners o WHERE o.node_id = n.node_id) AS chargers"
            " FROM cluster_nodes n WHERE n.lease_until > ? ORDER BY n.node_id",
            (utcnow(),),
        )

    async def sweep(self) -> list[str]:
        """Forget the nodes whose lease lapsed and their claims. Returns the chargers stored
        as online that no live node holds: the dead nodes' (to be marked offline)."""
        now = utcnow()

        def work(tx: Writer) -> list[str]:
            tx.execute(
                "DELETE FROM charger_owners WHERE node_id IN"
                " (SELECT node_id FROM cluster_nodes WHERE lease_until <= ?)",
                (now,),
            )
            tx.execute("DELETE FROM cluster_nodes WHERE lease_until <= ?", (now,))
            kept = iso(datetime.now(UTC) - timedelta(seconds=CALLS_KEPT))
            tx.execute("DELETE FROM cluster_calls WHERE created_at < ?", (kept,))
            rows = tx.fetch_all(
                "SELECT id FROM chargers WHERE online = 1 AND NOT EXISTS"
                " (SELECT 1 FROM charger_owners o WHERE o.charger_id = chargers.id)"
            )
            return [str(row["id"]) for row in rows]

        return await self.db.write(work)

    async def send_call(
        self, call_id: str, origin: str, target: str, charger_id: str, action: str,
        payload: str, timeout: float,
    ) -> None:  # fmt: skip
        """Ask node `target` to send a call (`payload`: JSON) to its charger."""

        def work(tx: Writer) -> None:
            tx.execute(
                "INSERT INTO cluster_calls (id, origin, target, charger_id, action, payload,"
                " timeout, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (call_id, origin, target, charger_id, action, payload, timeout, utcnow()),
            )
            tx.fetch_one("SELECT pg_notify(?, ?)", (CHANNEL, f"call {call_id} {target}"))

        await self.db.write(work)

    async def call(self, call_id: str) -> Row | None:
        """A call this node was asked to send (charger_id, action, payload, timeout, origin)."""
        return await self.db.fetch_one(
            "SELECT origin, charger_id, action, payload, timeout FROM cluster_calls"
            " WHERE id = ? AND answer IS NULL",
            (call_id,),
        )

    async def answer(self, call_id: str, origin: str, answer: str) -> None:
        """The owner's answer (JSON) to a call, for node `origin` to take."""

        def work(tx: Writer) -> None:
            tx.execute("UPDATE cluster_calls SET answer = ? WHERE id = ?", (answer, call_id))
            tx.fetch_one("SELECT pg_notify(?, ?)", (CHANNEL, f"answer {call_id} {origin}"))

        await self.db.write(work)

    async def take_answer(self, call_id: str) -> str | None:
        """The call's answer (None: none yet); the call is forgotten either way."""

        def work(tx: Writer) -> str | None:
            row = tx.fetch_one(
                "DELETE FROM cluster_calls WHERE id = ? RETURNING answer", (call_id,)
            )
            return None if row is None else row["answer"]

        return await self.db.write(work)

    async def changed(self, charger_id: str, node_id: str) -> None:
        """Tell the other nodes that the charger's registry entry changed on `node_id` (it is
        committed)."""

        def work(tx: Writer) -> None:
            tx.fetch_one("SELECT pg_notify(?, ?)", (CHANNEL, f"changed {node_id} {charger_id}"))

        await self.db.write(work)


def notice(claim: Claim) -> str:
    return f"claim {claim.number} {claim.node_id} {claim.charger_id}"


def parse_notice(text: str) -> Claim | CallNotice | Changed | None:
    """What a notice announces; None for anything else (a newer node's notice, say)."""
    parts = text.split(" ", 3)
    if len(parts) == 4 and parts[0] == "claim" and parts[1].isdigit():
        return Claim(parts[3], parts[2], int(parts[1]))
    if len(parts) == 3 and parts[0] in ("call", "answer"):
        return CallNotice(parts[0], parts[1], parts[2])
    changed = text.split(" ", 2)
    if len(changed) == 3 and changed[0] == "changed":
        return Changed(changed[2], changed[1])
    return None
