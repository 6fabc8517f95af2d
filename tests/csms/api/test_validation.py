"""The API refuses what the CLI refuses, with the same reasons (csms.services.validation):
charger ids the handshake would refuse, weak passwords unless allowed, expiry dates that are no
dates, unknown parent tags."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import httpx
import pytest

from csms import CsmsApp


def refused(response: httpx.Response, field: str) -> str:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "InvalidField" and body["field"] == field, body
    detail: str = body["detail"]
    return detail


@pytest.mark.parametrize("charger_id", ["a/b:c", "C" * 49, "back\\slash", "nul\x00"])
async def test_a_charger_id_the_handshake_would_refuse(
    api_app: CsmsApp, client: httpx.AsyncClient, charger_id: str
) -> None:
    response = await client.post("/api/chargers", json={"chargerId": charger_id})
    assert "handshake would refuse" in refused(response, "chargerId")
    bulk = await client.post(
        "/api/chargers/bulk", json={"chargers": [{"chargerId": "OK-1"}, {"chargerId": charger_id}]}
    )
    refused(bulk, "chargerId")
    assert await api_app.services.chargers.store.get("OK-1") is None  # all checked first


async def test_a_weak_password_only_when_allowed(client: httpx.AsyncClient) -> None:
    weak = {"chargerId": "CP-1", "password": "fifteen-chars!!"}
    detail = refused(await client.post("/api/chargers", json=weak), "password")
    assert "16 bytes" in detail and "allowWeakPassword" in detail
    lab = await client.post("/api/chargers", json=weak, params={"allowWeakPassword": "true"})
    assert lab.status_code == 201
    refused(await client.patch("/api/chargers/CP-1", json={"password": "short"}), "password")
    refused(await client.put("/api/chargers/CP-1", json={"password": "short"}), "password")
    strong = await client.patch("/api/chargers/CP-1", json={"password": "sixteen-chars!!!"})
    assert strong.status_code == 200
    assert (await client.patch("/api/chargers/CP-1", json={"password": None})).status_code == 200


async def test_an_unknown_parent_tag(client: httpx.AsyncClient) -> None:
    child = {"idTag": "CHILD", "parentIdTag": "NOPE"}
    assert "'NOPE'" in refused(await client.post("/api/id-tags", json=child), "parentIdTag")
    put = await client.put("/api/id-tags/CHILD", json={"parentIdTag": "NOPE"})
    refused(put, "parentIdTag")
    assert (await client.get("/api/id-tags/CHILD")).status_code == 404
    assert (await client.post("/api/id-tags", json={"idTag": "GROUP"})).status_code == 201
    child["parentIdTag"] = "GROUP"
    assert (await client.post("/api/id-tags", json=child)).status_code == 201
    own = await client.put("/api/id-tags/SELF", json={"parentIdTag": "SELF"})  # a group's own id
    assert own.status_code == 201


async def test_the_api_and_the_cli_give_the_same_reason(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    api = refused(await client.put("/api/id-tags/X", json={"expiryDate": "tomorrow"}), "expiryDate")
    cli = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ocpp_bench.cli", "csms", "add-tag", "X", "--expiry", "tomorrow",
        "--db", str(tmp_path / "cli.db"), stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await asyncio.wait_for(cli.communicate(), 60)
    assert cli.returncode == 2
    assert api.removeprefix("expiryDate: ") == stderr.decode().strip().split("--expiry: ", 1)[1]
