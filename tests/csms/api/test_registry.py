"""Chargers and id tags over HTTP; the curl examples of the original design."""

from __future__ import annotations

import httpx
import pytest

from csms import CsmsApp
from simulator import ChargePointSpec, create_charge_point
from tests.conftest import eventually


async def test_original_design_curl_examples(api_app: CsmsApp, client: httpx.AsyncClient) -> None:
    """`POST /api/chargers` then `POST /api/operations/remote-start`, bodies as in the original
    design, only the auth header added; the charger is the simulator."""
    created = await client.post(
        "/api/chargers",
        json={
            "chargerId": "TEST_CHARGER_001",
            "name": "Test Charger",
            "model": "Test Model",
            "vendor": "Test Vendor",
        },
    )
    assert created.status_code == 201, created.text
    assert created.json()["chargerId"] == "TEST_CHARGER_001"
    await api_app.services.tags.upsert("TEST_USER")
    spec = ChargePointSpec("TEST_CHARGER_001", boot_retry_s=0.1, call_timeout_s=3)
    async with create_charge_point(spec, api_app.ocpp_url) as charge_point:
        await charge_point.plug_in(1)
        started = await client.post(
            "/api/operations/remote-start",
            json={"chargerId": "TEST_CHARGER_001", "connectorId": 1, "idTag": "TEST_USER"},
        )
        assert started.status_code == 200, started.text
        assert started.json() == {"status": "Accepted"}

        async def transaction_listed() -> bool:
            listed = await client.get(
                "/api/transactions", params={"chargerId": "TEST_CHARGER_001", "status": "Active"}
            )
            return [t["idTag"] for t in listed.json()["items"]] == ["TEST_USER"]

        await eventually(transaction_listed, timeout=5)


async def test_charger_crud(api_app: CsmsApp, client: httpx.AsyncClient) -> None:
    body = {"chargerId": "CP-9", "name": "Nine", "password": "pw-0123456789abcdef"}
    assert (await client.post("/api/chargers", json=body)).status_code == 201
    again = await client.post("/api/chargers", json=body)
    assert again.status_code == 409 and again.json()["error"] == "ChargerExists"
    charger = (await client.get("/api/chargers/CP-9")).json()
    assert charger["hasPassword"] and charger["enabled"] and not charger["connected"]
    assert charger["ocppVersion"] is None  # it has no live connection to speak one
    assert "password" not in charger and "password_hash" not in charger

    patched = await client.patch("/api/chargers/CP-9", json={"vendor": "V", "enabled": False})
    assert patched.status_code == 200
    assert (patched.json()["vendor"], patched.json()["name"]) == ("V", "Nine")
    assert patched.json()["enabled"] is False
    admission = await api_app.services.chargers.admit("CP-9", "pw-0123456789abcdef")
    assert admission.refusal == 403

    replaced = await client.put("/api/chargers/CP-9", json={"model": "M"})
    assert replaced.status_code == 200
    after = replaced.json()
    assert (after["name"], after["vendor"], after["model"]) == (None, None, "M")
    assert after["enabled"] is True and after["hasPassword"] is False

    assert (await client.delete("/api/chargers/CP-9")).status_code == 204
    assert (await client.get("/api/chargers/CP-9")).status_code == 404
    assert (await client.delete("/api/chargers/CP-9")).status_code == 404
    assert (await client.patch("/api/chargers/CP-9", json={"name": "x"})).status_code == 404


async def test_charger_validation(client: httpx.AsyncClient) -> None:
    unknown_field = await client.post("/api/chargers", json={"chargerId": "A", "colour": "red"})
    assert unknown_field.status_code == 422
    bad_registration = await client.post(
        "/api/chargers", json={"chargerId": "A", "registration": "Maybe"}
    )
    assert bad_registration.status_code == 422
    null_enabled = await client.post("/api/chargers", json={"chargerId": "B"})
    assert null_enabled.status_code == 201
    assert (await client.patch("/api/chargers/B", json={"enabled": None})).status_code == 422


async def test_a_charger_is_registered_for_an_ocpp_version(
    api_app: CsmsApp, client: httpx.AsyncClient
) -> None:
    """`registeredOcppVersion`: the version it must speak, shown beside the live one; a change
    to another version than the one it speaks closes its connection."""
    body = {"chargerId": "CP-V", "registeredOcppVersion": "2.0.1"}
    assert (await client.post("/api/chargers", json=body)).status_code == 201
    charger = (await client.get("/api/chargers/CP-V")).json()
    assert (charger["registeredOcppVersion"], charger["ocppVersion"]) == ("2.0.1", None)
    spec = ChargePointSpec("CP-V", ocpp_version="2.0.1", boot_retry_s=0.1, call_timeout_s=3)
    async with create_charge_point(spec, api_app.ocpp_url):

        async def speaks() -> bool:
            return (await client.get("/api/chargers/CP-V")).json()["ocppVersion"] == "2.0.1"

        await eventually(speaks)
        patched = await client.patch("/api/chargers/CP-V", json={"registeredOcppVersion": "1.6"})
        assert patched.status_code == 200 and patched.json()["registeredOcppVersion"] == "1.6"

        async def closed() -> bool:
            return api_app.registry.get("CP-V") is None

        await eventually(closed)
    bad = await client.patch("/api/chargers/CP-V", json={"registeredOcppVersion": "2.1"})
    assert bad.status_code == 422 and "registeredOcppVersion" in bad.text
    anyone = await client.put("/api/chargers/CP-V", json={})
    assert anyone.json()["registeredOcppVersion"] == "any"
    listed = (await client.get("/api/chargers")).json()["items"]
    assert [c["registeredOcppVersion"] for c in listed] == ["any"]


async def test_bulk_registration_and_listing(client: httpx.AsyncClient) -> None:
    chargers = [{"chargerId": f"BULK-{n:02}"} for n in range(12)]
    first = await client.post("/api/chargers/bulk", json={"chargers": chargers[:8]})
    assert first.json() == {"created": [c["chargerId"] for c in chargers[:8]], "existing": []}
    second = (await client.post("/api/chargers/bulk", json={"chargers": chargers})).json()
    assert len(second["created"]) == 4 and len(second["existing"]) == 8
    page = (await client.get("/api/chargers", params={"limit": 5, "offset": 5})).json()
    assert page["total"] == 12
    assert [c["chargerId"] for c in page["items"]] == [f"BULK-{n:02}" for n in range(5, 10)]
    offline = (await client.get("/api/chargers", params={"status": "offline"})).json()
    assert offline["total"] == 12
    online = (await client.get("/api/chargers", params={"status": "online"})).json()
    assert online == {"items": [], "total": 0, "limit": 100, "offset": 0}
    assert (await client.get("/api/chargers", params={"status": "asleep"})).status_code == 422


async def test_charger_detail_shows_live_connection_and_connectors(
    api_app: CsmsApp, client: httpx.AsyncClient
) -> None:
    await api_app.services.chargers.register("SIM-D")
    spec = ChargePointSpec("SIM-D", connectors=2, boot_retry_s=0.1, call_timeout_s=3)
    async with create_charge_point(spec, api_app.ocpp_url):

        async def reported() -> bool:
            detail = (await client.get("/api/chargers/SIM-D")).json()
            return len(detail["connectors"]) == 3

        await eventually(reported)
        detail = (await client.get("/api/chargers/SIM-D")).json()
        assert detail["connected"] and detail["online"]
        assert detail["connection"]["subprotocol"] == "ocpp1.6"
        assert detail["ocppVersion"] == "1.6"
        assert detail["connection"]["bootAccepted"] is True
        assert detail["vendor"] == "ocpp-bench" and detail["model"] == "SimCharger"
        assert [c["status"] for c in detail["connectors"][1:]] == ["Available", "Available"]
        listed = (await client.get("/api/chargers", params={"status": "online"})).json()
        assert [c["chargerId"] for c in listed["items"]] == ["SIM-D"]

    async def gone() -> bool:
        return not (await client.get("/api/chargers/SIM-D")).json()["connected"]

    await eventually(gone)
    detail = (await client.get("/api/chargers/SIM-D")).json()
    assert detail["connection"] is None
    assert {c["status"] for c in detail["connectors"]} == {"Unavailable"}


async def test_deleting_a_connected_charger_closes_its_connection(
    api_app: CsmsApp, client: httpx.AsyncClient
) -> None:
    await api_app.services.chargers.register("SIM-X")
    spec = ChargePointSpec("SIM-X", boot_retry_s=0.1, call_timeout_s=3)
    async with create_charge_point(spec, api_app.ocpp_url):
        assert api_app.registry.get("SIM-X") is not None
        assert (await client.delete("/api/chargers/SIM-X")).status_code == 204

        async def closed() -> bool:
            return api_app.registry.get("SIM-X") is None

        await eventually(closed)


async def test_id_tag_crud(client: httpx.AsyncClient) -> None:
    created = await client.post(
        "/api/id-tags", json={"idTag": "PARENT", "expiryDate": "2030-01-01T01:00:00+01:00"}
    )
    assert created.status_code == 201
    assert created.json()["status"] == "Accepted"
    assert created.json()["expiryDate"] == "2030-01-01T00:00:00.000Z"
    assert (await client.post("/api/id-tags", json={"idTag": "PARENT"})).status_code == 409
    child = await client.put("/api/id-tags/CHILD", json={"parentIdTag": "PARENT"})
    assert child.status_code == 201
    assert child.json()["parentIdTag"] == "PARENT"
    blocked = await client.patch("/api/id-tags/CHILD", json={"status": "Blocked"})
    assert (blocked.json()["status"], blocked.json()["parentIdTag"]) == ("Blocked", "PARENT")
    typed = await client.patch("/api/id-tags/CHILD", json={"tokenType": "KeyCode"})
    assert (typed.json()["tokenType"], typed.json()["status"]) == ("KeyCode", "Blocked")
    replaced = await client.put("/api/id-tags/CHILD", json={"status": "Invalid"})
    assert replaced.status_code == 200
    assert (replaced.json()["status"], replaced.json()["parentIdTag"]) == ("Invalid", None)
    assert replaced.json()["tokenType"] is None  # a PUT replaces every field
    listed = (await client.get("/api/id-tags")).json()["items"]
    assert [t["idTag"] for t in listed] == ["CHILD", "PARENT"]
    assert (await client.delete("/api/id-tags/CHILD")).status_code == 204
    assert (await client.get("/api/id-tags/CHILD")).status_code == 404
    assert (await client.patch("/api/id-tags/CHILD", json={"status": "Blocked"})).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"idTag": "X" * 21},
        {"idTag": "T", "status": "Fine"},
        {"idTag": "T", "expiryDate": "tomorrow"},
        {"idTag": "T", "status": None},
        {"idTag": "T", "tokenType": "NoAuthorization"},  # names no one: no tag of the registry
        {"idTag": "T", "tokenType": "RFID"},
    ],
)
async def test_id_tag_validation(client: httpx.AsyncClient, body: dict[str, object]) -> None:
    assert (await client.post("/api/id-tags", json=body)).status_code == 422
