"""Several CSMS nodes on one PostgreSQL database: one connection per identity across them,
leases that lapse when a node dies, one leader."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed

from csms import CsmsApp
from csms.process import CsmsProcess

from ..conftest import STORE, csms_config, eventually
from .client import RawClient

pytestmark = pytest.mark.postgresql

LEASE = 1.0


def node(tmp_path: Path, name: str, url: str) -> CsmsApp:
    STORE.url = url
    try:
        config = csms_config(tmp_path / name, node_id=name, cluster_lease=LEASE)
    finally:
        STORE.url = None
    return CsmsApp(config)


async def test_a_charger_that_moves_to_another_node_is_closed_on_the_first(
    tmp_path: Path, postgres_database: str
) -> None:
    async with (
        node(tmp_path, "A", postgres_database) as a,
        node(tmp_path, "B", postgres_database) as b,
    ):
        assert a.cluster is not None and b.cluster is not None
        assert [a.cluster.leader, b.cluster.leader].count(True) == 1
        await a.services.chargers.register("CP-1")
        first = await RawClient.open(f"{a.ocpp_url}/CP-1")
        await first.boot()
        assert (await a.cluster.members.owner("CP-1"))["node_id"] == "A"  # type: ignore[index]
        async with await RawClient.open(f"{b.ocpp_url}/CP-1") as second:
            await second.boot()
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(first.ws.recv(), 5)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.reason == "Connected to another node"
            assert a.cluster.taken_over == 1
            owner = await b.cluster.members.owner("CP-1")
            assert owner is not None and owner["node_id"] == "B"
            assert a.registry.get("CP-1") is None and b.registry.get("CP-1") is not None

            async def still_online() -> bool:
                row = await a.services.chargers.get("CP-1")
                return row is not None and row["online"] == 1

            await asyncio.sleep(0.3)  # A's close is done: it must not have marked it offline
            assert await still_online()
            answer = await second.result("Heartbeat", {})
            assert "currentTime" in answer

        async def released() -> bool:  # B's claim goes with its connection
            nodes = await a.cluster.members.nodes()  # type: ignore[union-attr]
            return {row["node_id"]: row["chargers"] for row in nodes} == {"A": 0, "B": 0}

        await eventually(released)


async def test_a_killed_nodes_chargers_go_offline_once_its_lease_lapses(
    tmp_path: Path, postgres_database: str
) -> None:
    extra = ["--node-id", "B", "--cluster-lease", str(LEASE)]
    async with node(tmp_path, "A", postgres_database) as a:
        assert a.cluster is not None and a.cluster.leader
        b = await asyncio.to_thread(CsmsProcess(postgres_database, extra=extra).start)
        try:
            client = await RawClient.open(f"{b.url}/CP-B")  # auto-registered on B
            await client.boot()

            async def online_on_b() -> bool:
                owner = await a.cluster.members.owner("CP-B")  # type: ignore[union-attr]
                return owner is not None and owner["node_id"] == "B"

            await eventually(online_on_b)
            await asyncio.to_thread(b.kill)  # SIGKILL: B never leaves
        finally:
            b.stop()

        async def swept() -> bool:
            row = await a.services.chargers.get("CP-B")
            nodes = [n["node_id"] for n in await a.cluster.members.nodes()]  # type: ignore[union-attr]
            return row is not None and row["online"] == 0 and nodes == ["A"]

        await eventually(swept, timeout=5 * LEASE + 3)
        with pytest.raises(ConnectionClosed):  # and the charger sees its link gone
            await asyncio.wait_for(client.ws.recv(), 5)


async def test_when_the_leader_stops_another_node_leads(
    tmp_path: Path, postgres_database: str
) -> None:
    a = node(tmp_path, "A", postgres_database)
    await a.start()
    async with node(tmp_path, "B", postgres_database) as b:
        assert a.cluster is not None and b.cluster is not None
        assert a.cluster.leader and not b.cluster.leader
        await a.stop()

        async def b_leads() -> bool:
            return b.cluster is not None and b.cluster.leader

        await eventually(b_leads, timeout=3 * LEASE + 2)


def test_a_node_id_needs_postgresql(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from ocpp_bench.cli import main

    code = main(["csms", "serve", "--db", str(tmp_path / "x.db"), "--node-id", "A"])
    assert code == 2
    assert "--node-id: a cluster's nodes share one PostgreSQL database" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
