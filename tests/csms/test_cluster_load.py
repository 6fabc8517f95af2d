"""Three CSMS nodes behind a load balancer, 300 simulated chargers: every node's API drives
the chargers the others hold; then one node is SIGKILLed under a sessions load."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from csms.process import CsmsProcess
from simulator import ChargePointSpec, Station
from simulator.connection import Backoff
from simulator.fleet import Fleet, FleetOptions

from ..conftest import eventually
from .balancer import Balancer

pytestmark = [pytest.mark.postgresql, pytest.mark.slow]

NODES = ("A", "B", "C")
CHARGERS = 300
SESSIONS = {"1.6": 180, "2.0.1": 90}  # chargers in the sessions load, by OCPP version
IDLE = CHARGERS - sum(SESSIONS.values())  # 1.6 chargers driven by the API
LEASE = 2.0
TOKEN = "cluster-test-token-0123456789"


def fast_reconnect(spec: ChargePointSpec) -> None:
    spec.transcript_size = 2000  # every frame of the run, to check the CSMS against
    spec.backoff = Backoff(initial=0.5, factor=2.0, maximum=2.0, jitter=0.5)


def owners(url: str) -> dict[str, str]:
    with psycopg.connect(url) as connection:
        rows = connection.execute("SELECT charger_id, node_id FROM charger_owners").fetchall()
    return {charger: node for charger, node in rows}


def query(url: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as connection:
        return connection.execute(sql).fetchall()


def answered(cp: Station) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """Each transaction message the CSMS answered: (action, request, result)."""
    entries = list(cp.transcript)
    assert len(entries) < cp.spec.transcript_size, "the transcript overflowed"
    sent = {e.frame.message_id: e for e in entries if e.kind == "CALL" and e.direction == "out"}
    actions = ("StartTransaction", "StopTransaction", "TransactionEvent")
    found = []
    for entry in entries:
        if entry.kind != "CALLRESULT" or entry.direction != "in" or entry.frame is None:
            continue
        call = sent.get(entry.frame.message_id)
        if call is not None and call.action in actions:
            found.append((call.action, call.payload, entry.payload))
    return found


async def test_three_nodes_share_the_chargers_and_survive_a_killed_one(
    tmp_path: Path, postgres_database: str
) -> None:
    extra = ["--cluster-lease", str(LEASE), "--accept-any-tag", "--api-token", TOKEN]
    nodes = {
        name: CsmsProcess(
            postgres_database, heartbeat_interval=30, extra=[*extra, "--node-id", name]
        )
        for name in NODES
    }
    try:
        for process in nodes.values():
            await asyncio.to_thread(process.start)
        ports = [int(p.url.rsplit(":", 1)[1].split("/")[0]) for p in nodes.values()]
        async with (
            Balancer(ports) as balancer,
            httpx.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=20) as http,
        ):
            url = f"ws://127.0.0.1:{balancer.port}/ocpp"
            fleets, first = [], 1
            for version, count in SESSIONS.items():
                options = FleetOptions(
                    url, count, rate=100, id_pattern="CL-{n:04d}", first=first,
                    profile="charging", charge_s=1.5, pause_s=0.5, ocpp_version=version,
                )  # fmt: skip
                fleets.append(Fleet(options, spec_hook=fast_reconnect))
                first += count
            options = FleetOptions(url, IDLE, rate=100, id_pattern="CL-{n:04d}", first=first)
            idle = Fleet(options, spec_hook=fast_reconnect)
            fleets.append(idle)
            runs = [asyncio.create_task(fleet.run()) for fleet in fleets]

            async def held_by(names: tuple[str, ...]) -> bool:
                held = await asyncio.to_thread(owners, postgres_database)
                return len(held) == CHARGERS and set(held.values()) <= set(names)

            await eventually(lambda: held_by(NODES), timeout=60)
            held = await asyncio.to_thread(owners, postgres_database)
            spread = {name: list(held.values()).count(name) for name in NODES}
            assert min(spread.values()) >= CHARGERS // 4, spread
            await asyncio.gather(
                *(drive(http, nodes, held[cp.identity], cp) for cp in idle.charge_points)
            )

            on_c = {cp for cp, name in held.items() if name == "C"}
            nodes["C"].kill()  # under the sessions load: no goodbye, its lease lapses
            killed = asyncio.get_running_loop().time()
            await eventually(lambda: held_by(("A", "B")), timeout=30)
            moved = asyncio.get_running_loop().time() - killed
            await asyncio.sleep(3)  # sessions go on on A and B
            for fleet in fleets:
                fleet.stop()
            await asyncio.gather(*runs)

        async def swept() -> bool:  # C's lease lapsed, and the leader forgot it
            rows = await asyncio.to_thread(
                query, postgres_database, "SELECT node_id FROM cluster_nodes ORDER BY node_id"
            )
            return [row[0] for row in rows] == ["A", "B"]

        await eventually(swept, timeout=3 * LEASE + 2)
        charge_points = [cp for fleet in fleets for cp in fleet.charge_points]
        figures = check_transactions(postgres_database, charge_points)
        print(
            f"spread {spread}; {len(on_c)} chargers of C held by A and B {moved:.1f} s after"
            f" the kill; {figures}"
        )
        assert sum(len(cp.failures) for cp in charge_points) == 0
    finally:
        for process in nodes.values():
            process.stop()


async def drive(
    http: httpx.AsyncClient, nodes: dict[str, CsmsProcess], owner: str, cp: Station
) -> None:
    """GetConfiguration, RemoteStart and RemoteStop of `cp`, each through a node that does
    not hold it."""
    others = [name for name in NODES if name != owner]
    first, second = (nodes[name].api for name in others)
    body = {"chargerId": cp.identity, "keys": ["HeartbeatInterval"]}
    read = await http.post(f"{first}/api/operations/get-configuration", json=body)
    assert read.status_code == 200, read.text
    assert [k["key"] for k in read.json()["configurationKey"]] == ["HeartbeatInterval"]
    await cp.plug_in(1)
    body = {"chargerId": cp.identity, "connectorId": 1, "idTag": f"API-{cp.identity}"}
    started = await http.post(f"{second}/api/operations/remote-start", json=body)
    assert started.json() == {"status": "Accepted"}, started.text

    async def charging() -> bool:
        return cp.transaction(1) is not None and cp.transaction(1).transaction_id is not None

    await eventually(charging, timeout=10)
    body = {"chargerId": cp.identity, "transactionId": cp.transaction(1).transaction_id}
    stopped = await http.post(f"{first}/api/operations/remote-stop", json=body)
    assert stopped.json() == {"status": "Accepted"}, stopped.text

    async def ended() -> bool:
        return cp.transaction(1) is None

    await eventually(ended, timeout=10)
    await cp.unplug(1)


def check_transactions(url: str, charge_points: list[Station]) -> str:
    """Every transaction message the CSMS acknowledged is stored, with its charger: 1.6's
    StartTransaction (no transaction id given twice) and StopTransaction, 2.0.1's
    TransactionEvents (each seqNo, and Ended ones completed)."""
    given: dict[int, str] = {}
    stopped: set[int] = set()
    events: set[tuple[str, str, int]] = set()
    ended: set[tuple[str, str]] = set()
    for cp in charge_points:
        for action, request, result in answered(cp):
            if action == "StartTransaction":
                number = int(result["transactionId"])
                assert number not in given, f"transaction id {number} given twice"
                given[number] = cp.identity
            elif action == "StopTransaction":
                stopped.add(int(request["transactionId"]))
            else:
                own = request["transactionInfo"]["transactionId"]
                events.add((cp.identity, own, int(request["seqNo"])))
                if request["eventType"] == "Ended":
                    ended.add((cp.identity, own))
    assert len(given) > SESSIONS["1.6"] and len(ended) > SESSIONS["2.0.1"], "too few to tell"
    rows = query(url, "SELECT id, charger_id, status FROM transactions")
    stored = {row[0]: (row[1], row[2]) for row in rows}
    lost = [n for n in given if stored.get(n, ("", ""))[0] != given[n]]
    assert not lost, f"acknowledged starts not stored: {lost[:10]}"
    open_ = [n for n in stopped if stored.get(n, ("", ""))[1] != "Completed"]
    assert not open_, f"acknowledged stops not stored: {open_[:10]}"
    rows = query(
        url,
        "SELECT t.charger_id, t.station_transaction_id, e.seq_no, t.status"
        " FROM transaction_events e JOIN transactions t ON t.id = e.transaction_id",
    )
    kept = {(row[0], row[1], int(row[2])) for row in rows}
    completed = {(row[0], row[1]) for row in rows if row[3] == "Completed"}
    missing = sorted(events - kept)
    assert not missing, f"acknowledged TransactionEvents not stored: {missing[:10]}"
    assert ended <= completed, f"Ended but not completed: {sorted(ended - completed)[:10]}"
    return (
        f"{len(given)} StartTransactions, {len(stopped)} StopTransactions and {len(events)}"
        f" TransactionEvents ({len(ended)} Ended) acknowledged, all stored"
    )
