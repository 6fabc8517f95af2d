"""This node's part in a cluster: several `csms serve --node-id N` on one PostgreSQL database.

PostgreSQL is the only engine a cluster needs: the nodes' leases and the chargers' owners are
rows (`store/cluster.py`), the notices between nodes go by LISTEN/NOTIFY, and the node that
holds a session-level advisory lock is the leader, which alone sweeps out dead nodes (their
chargers are marked offline) and runs retention. The lock goes with its connection, so a dead
leader's successor takes over within one lease.

One connection per identity across the cluster: a node that admits a charger claims it (a
numbered claim, NOTIFYed), and the node holding an older claim closes its socket. A call for a
charger another node holds goes through that node (`routing.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import psycopg

from .connections import ConnectionRegistry
from .routing import Router
from .services import Services
from .store.cluster import CHANNEL, CallNotice, Changed, ClusterStore, parse_notice

log = logging.getLogger(__name__)

LEADER_LOCK = 0x0CB9_0002  # pg_try_advisory_lock key of the cluster's leader


class ClusterUnavailable(Exception):
    """The cluster's database could not be read."""


class Cluster:
    def __init__(
        self, services: Services, registry: ConnectionRegistry, node_id: str, lease: float
    ) -> None:
        assert services.config.db_url is not None, "a cluster needs PostgreSQL"
        self.services = services
        self.registry = registry
        self.node_id = node_id
        self.lease = lease
        self.members = ClusterStore(services.db)
        self.router = Router(self.members, registry, node_id)
        self.leader = False
        self.claims: dict[str, int] = {}  # charger -> the number of this node's claim
        self.taken_over = 0  # local connections closed because another node claimed them
        self.view: list[dict[str, Any]] = []  # the live nodes as last read (`refresh`)
        self._listener: psycopg.AsyncConnection[Any] | None = None  # LISTENs (and waits)
        self._lock: psycopg.AsyncConnection[Any] | None = None  # holds the leader's lock

    async def start(self, ocpp_url: str, api_url: str) -> None:
        await self.members.join(self.node_id, ocpp_url, api_url, self.lease)
        self._listener = await self._connect()
        await self._listener.execute(f"LISTEN {CHANNEL}")
        await self._try_lead()

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        assert self.services.config.db_url is not None
        return await psycopg.AsyncConnection.connect(self.services.config.db_url, autocommit=True)

    async def stop(self) -> None:
        with contextlib.suppress(Exception):  # leaving is a courtesy: the lease lapses anyway
            await self.members.leave(self.node_id)
        await self.router.stop()
        for connection in (self._listener, self._lock):
            if connection is not None:
                await connection.close()

    async def run(self) -> None:
        """Renew the lease, lead when the lock is free, act on other nodes' claims. A lost
        server costs passes (logged), never the node: each pass tries again."""
        listening = asyncio.create_task(self._listen(), name="cluster-notices")
        try:
            while True:
                await asyncio.sleep(self.lease / 3)
                try:
                    if listening.done():  # its connection was lost
                        listening = asyncio.create_task(self._listen(), name="cluster-notices")
                    await self._pass()
                except (psycopg.Error, ClusterUnavailable) as exc:  # e.g. the server restarting
                    log.warning("cluster: pass of node %s failed: %s", self.node_id, exc)
        finally:
            listening.cancel()

    async def _pass(self) -> None:
        if not await self.members.renew(self.node_id, self.lease):
            log.warning("node %s was taken for dead: joining again", self.node_id)
            await self._rejoin()
        await self._try_lead()
        if self.leader:
            await self.sweep()
        await self.refresh()

    async def refresh(self) -> list[dict[str, Any]]:
        """Read the live nodes and how many chargers each holds (kept in `view`)."""
        try:
            rows = await self.members.nodes()
        except psycopg.Error as exc:
            raise ClusterUnavailable(f"the cluster's database cannot be read: {exc}") from exc
        self.view = [
            {
                "nodeId": row["node_id"],
                "ocppUrl": row["ocpp_url"],
                "apiUrl": row["api_url"],
                "startedAt": row["started_at"],
                "leaseUntil": row["lease_until"],
                "chargers": int(row["chargers"]),
            }
            for row in rows
        ]
        return self.view

    async def sweep(self) -> list[str]:
        """The leader's pass: dead nodes forgotten, their chargers offline."""
        orphans = await self.members.sweep()
        for charger_id in orphans:
            if self.registry.get(charger_id) is None:
                await self.services.chargers.disconnected(charger_id)
        return orphans

    async def locations(self, charger_ids: list[str]) -> dict[str, dict[str, Any]]:
        """Where each charger is connected: `node` (None: nowhere) and, for one held by
        another node, its `subprotocol` there."""
        elsewhere = [i for i in charger_ids if self.registry.get(i) is None]
        owners = await self.members.owners(elsewhere)
        found: dict[str, dict[str, Any]] = {}
        for charger_id in charger_ids:
            owner = owners.get(charger_id)
            if charger_id not in elsewhere:
                found[charger_id] = {"node": self.node_id}
            elif owner is None:
                found[charger_id] = {"node": None}
            else:
                found[charger_id] = {"node": owner["node_id"], "subprotocol": owner["subprotocol"]}
        return found

    async def claimed(self, charger_id: str, subprotocol: str) -> None:
        """This node now holds the charger's socket, which speaks `subprotocol`."""
        claim = await self.members.claim(charger_id, self.node_id, subprotocol)
        self.claims[charger_id] = claim.number

    async def released(self, charger_id: str) -> bool:
        """This node's socket with the charger closed; False when another node holds it
        now (its state is that node's to keep)."""
        number = self.claims.pop(charger_id, None)
        if number is None:
            return True
        return await self.members.release(charger_id, self.node_id, number)

    async def changed(self, charger_id: str) -> None:
        """The charger's registry entry changed here (and was rechecked here): the node
        holding it rechecks it."""
        await self.members.changed(charger_id, self.node_id)

    async def recheck(self, charger_id: str) -> None:
        if self.registry.get(charger_id) is not None:
            row = await self.services.chargers.get(charger_id)
            await self.registry.recheck(charger_id, row)

    async def _rejoin(self) -> None:
        await self.members.join(self.node_id, "", "", self.lease)
        for connection in self.registry.connections():
            await self.claimed(connection.charger_id, connection.adapter.dialect.subprotocol)

    async def _try_lead(self) -> None:
        """Take the leader's lock if it is free. It lives as long as its connection: a lost
        connection is a lost lead (and the lock is free for another node)."""
        if self._lock is None or self._lock.broken or self._lock.closed:
            self.leader = False
            try:
                self._lock = await self._connect()
            except psycopg.Error as exc:
                log.warning("cluster: no connection for the leader's lock yet: %s", exc)
                return
        if self.leader:
            return
        cursor = await self._lock.execute("SELECT pg_try_advisory_lock(%s)", (LEADER_LOCK,))
        row = await cursor.fetchone()
        if row and row[0]:
            self.leader = True
            log.info("node %s leads the cluster", self.node_id)

    async def _listen(self) -> None:
        """Act on the other nodes' claims and calls, until the listener's connection is lost."""
        try:
            if self._listener is None or self._listener.broken or self._listener.closed:
                self._listener = await self._connect()
                await self._listener.execute(f"LISTEN {CHANNEL}")
            await self._notices(self._listener)
        except psycopg.Error as exc:
            log.warning("cluster: node %s stopped listening: %s", self.node_id, exc)

    async def _notices(self, listener: psycopg.AsyncConnection[Any]) -> None:
        async for notice in listener.notifies():
            claim = parse_notice(notice.payload)
            if isinstance(claim, CallNotice):
                if claim.node_id == self.node_id:
                    self.router.notice(claim.kind, claim.call_id)
                continue
            if isinstance(claim, Changed):
                if claim.node_id != self.node_id:  # the node that changed it has rechecked
                    await self.recheck(claim.charger_id)
                continue
            if claim is None or claim.node_id == self.node_id:
                continue
            mine = self.claims.get(claim.charger_id)
            local = self.registry.get(claim.charger_id)
            if local is not None and (mine is None or mine < claim.number):
                log.info(
                    "%s connected to node %s: closing its connection here",
                    claim.charger_id,
                    claim.node_id,
                )
                self.taken_over += 1
                await local.close(1000, "Connected to another node")
