"""CSMS-initiated calls from any node of a cluster to a charger another node holds: routed
to the owner over PostgreSQL, answered or failed there, raised on the node asked."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from csms import CsmsApp, CsmsConfig
from csms.operations import ChargerNotConnected
from ocppj import CallErrorReceived, CallTimeout, OcppError
from simulator import ChargePointSpec, Outcome, create_charge_point

from ..conftest import STORE, csms_config, eventually
from .client import RawClient
from .test_cluster import LEASE, node

pytestmark = pytest.mark.postgresql

TOKEN = "cluster-api-token-0123456789"


@pytest.fixture
async def two(tmp_path: Path, postgres_database: str) -> AsyncIterator[tuple[CsmsApp, CsmsApp]]:
    async with (
        node(tmp_path, "A", postgres_database) as a,
        node(tmp_path, "B", postgres_database) as b,
    ):
        yield a, b


async def held_by(app: CsmsApp, charger_id: str) -> None:
    async def owned() -> bool:
        assert app.cluster is not None
        owner = await app.cluster.members.owner(charger_id)
        return owner is not None and owner["node_id"] == app.config.node_id

    await eventually(owned)


async def test_a_call_from_another_node_is_answered_by_the_charger(
    two: tuple[CsmsApp, CsmsApp],
) -> None:
    a, b = two
    await a.services.chargers.register("CP-1")
    spec = ChargePointSpec("CP-1", boot_retry_s=0.1, call_timeout_s=3)
    async with create_charge_point(spec, a.ocpp_url):
        await held_by(a, "CP-1")
        answer = await b.call("CP-1", "GetConfiguration", {"key": ["HeartbeatInterval"]})
        assert [k["key"] for k in answer["configurationKey"]] == ["HeartbeatInterval"]
        changed = await b.operations.perform(
            "CP-1", "change-configuration", {"key": "MeterValueSampleInterval", "value": "17"}
        )
        assert changed == {"status": "Accepted"}
        read = await a.call("CP-1", "GetConfiguration", {"key": ["MeterValueSampleInterval"]})
        assert read["configurationKey"][0]["value"] == "17"
        rows = await a.services.chargers.configuration("CP-1")  # recorded by the node asked
        assert {r["key"]: r["value"] for r in rows}.get("MeterValueSampleInterval") == "17"
        assert a.cluster is not None and b.cluster is not None
        assert (b.cluster.router.forwarded, a.cluster.router.served) == (2, 2)


async def test_the_owners_errors_are_raised_on_the_node_asked(
    two: tuple[CsmsApp, CsmsApp],
) -> None:
    a, b = two
    await a.services.chargers.register("CP-1")
    spec = ChargePointSpec("CP-1", boot_retry_s=0.1, call_timeout_s=3)
    async with create_charge_point(spec, a.ocpp_url) as cp:
        await held_by(a, "CP-1")
        cp.set_outcome("Reset", Outcome.not_supported())
        with pytest.raises(CallErrorReceived) as refused:
            await b.call("CP-1", "Reset", {"type": "Soft"})
        assert refused.value.code == "NotSupported"
        with pytest.raises(OcppError) as bad:  # our payload breaks the schema, at the owner
            await b.call("CP-1", "Reset", {"type": "Sideways"})
        assert bad.value.code in ("PropertyConstraintViolation", "FormationViolation")
        held = cp.expect("ClearCache", hold=True)
        with pytest.raises(CallTimeout) as late:
            await b.call("CP-1", "ClearCache", {}, timeout=0.5)
        assert late.value.timeout == 0.5
        await (await held.wait(3)).answer({"status": "Accepted"})
    with pytest.raises(ChargerNotConnected):
        await b.call("CP-1", "ClearCache", {})
    assert b.cluster is not None
    assert await b.cluster.members.take_answer("any") is None  # nothing left behind
    rows = await b.services.db.fetch_all("SELECT id FROM cluster_calls")
    assert rows == []


async def test_a_201_station_on_another_node_gets_its_versions_request(
    two: tuple[CsmsApp, CsmsApp],
) -> None:
    a, b = two
    await a.services.chargers.register("CS-1")
    spec = ChargePointSpec("CS-1", ocpp_version="2.0.1", boot_retry_s=0.1, call_timeout_s=3)
    async with create_charge_point(spec, a.ocpp_url):
        await held_by(a, "CS-1")
        answer = await b.operations.perform(
            "CS-1", "get-configuration", {"keys": ["OCPPCommCtrlr.HeartbeatInterval"]}
        )
        assert answer["getVariableResult"][0]["attributeStatus"] == "Accepted"


async def test_calls_from_both_nodes_reach_the_charger_one_at_a_time(
    two: tuple[CsmsApp, CsmsApp],
) -> None:
    a, b = two
    await a.services.chargers.register("CP-1")
    spec = ChargePointSpec("CP-1", boot_retry_s=0.1, call_timeout_s=3)
    async with create_charge_point(spec, a.ocpp_url) as cp:
        await held_by(a, "CP-1")
        calls = [(node_app.call("CP-1", "GetConfiguration", {})) for node_app in (a, b, a, b, b, a)]
        answers = await asyncio.gather(*calls)
        assert all("configurationKey" in answer for answer in answers)
        entries = [e for e in cp.transcript if e.action == "GetConfiguration"]
        kinds = [e.kind for e in entries]
        assert kinds == ["CALL", "CALLRESULT"] * 6  # never a second CALL before the answer


def api_node_config(tmp_path: Path, url: str) -> CsmsConfig:
    """Node B's configuration, with its API (token TOKEN)."""
    STORE.url = url
    try:
        return csms_config(
            tmp_path / "B", node_id="B", cluster_lease=LEASE, api_port=0, api_token=TOKEN
        )
    finally:
        STORE.url = None


async def test_each_nodes_api_shows_where_chargers_are_and_the_cluster(
    tmp_path: Path, postgres_database: str
) -> None:
    config = api_node_config(tmp_path, postgres_database)
    async with node(tmp_path, "A", postgres_database) as a, CsmsApp(config) as b:
        await a.services.chargers.register("CP-1")
        await a.services.chargers.register("CP-2")
        spec = ChargePointSpec("CP-1", boot_retry_s=0.1, call_timeout_s=3)
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with (
            create_charge_point(spec, a.ocpp_url),
            httpx.AsyncClient(base_url=b.api_url, headers=headers) as http,
        ):
            await held_by(a, "CP-1")
            one = (await http.get("/api/chargers/CP-1")).json()
            assert (one["connected"], one["node"], one["ocppVersion"]) == (True, "A", "1.6")
            listed = (await http.get("/api/chargers")).json()["items"]
            where = {c["chargerId"]: (c["connected"], c["node"]) for c in listed}
            assert where == {"CP-1": (True, "A"), "CP-2": (False, None)}
            health = (await http.get("/health")).json()
            assert (health["node"], health["connectedChargers"]) == ("B", 0)
            nodes = {n["nodeId"]: n["chargers"] for n in health["cluster"]["nodes"]}
            assert nodes == {"A": 1, "B": 0}
            assert health["cluster"]["connectedChargers"] == 1
            metrics = (await http.get("/metrics")).text
            assert 'ocpp_cluster_node_chargers{node="A"} 1.0' in metrics
            assert 'ocpp_cluster_node_chargers{node="B"} 0.0' in metrics
            assert "ocpp_cluster_leader 0.0" in metrics  # A started first and leads


async def test_a_registry_change_on_one_node_closes_the_connection_on_the_other(
    tmp_path: Path, postgres_database: str
) -> None:
    """Disabled, registered for another version, removed: each through B's API, for a
    charger A holds."""
    config = api_node_config(tmp_path, postgres_database)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with (
        node(tmp_path, "A", postgres_database) as a,
        CsmsApp(config) as b,
        httpx.AsyncClient(base_url=b.api_url, headers=headers) as http,
    ):
        for change, reason in (
            ({"enabled": False}, "Charger disabled"),
            ({"registeredOcppVersion": "2.0.1"}, "Registered for OCPP 2.0.1"),
            (None, "Charger removed"),
        ):
            await a.services.chargers.register("CP-1")
            await a.services.chargers.update("CP-1", enabled=1, ocpp_version=None)
            client = await RawClient.open(f"{a.ocpp_url}/CP-1")
            await client.boot()
            await held_by(a, "CP-1")
            if change is None:
                response = await http.delete("/api/chargers/CP-1")
            else:
                response = await http.patch("/api/chargers/CP-1", json=change)
            assert response.is_success, response.text
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(client.ws.recv(), 5)
            assert closed.value.rcvd is not None and closed.value.rcvd.reason == reason

            async def gone() -> bool:
                return a.registry.get("CP-1") is None

            await eventually(gone)
