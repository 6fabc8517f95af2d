"""Diagnostics of a 2.0.1 station as the CSMS keeps them (N01, N09, N10): GetLog and
CustomerInformation sent through the API, the LogStatusNotifications that follow (the
charger's diagnosticsStatus), and the NotifyCustomerInformation parts joined by requestId into
one report, all read back through the API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from csms import CsmsApp
from tests.conftest import csms_config

from .station import NOW, Station

TOKEN = "test-token-0123456789"


@pytest.fixture
async def api_app(tmp_path: Path) -> AsyncIterator[CsmsApp]:
    async with CsmsApp(csms_config(tmp_path, api_port=0, api_token=TOKEN)) as app:
        yield app


@pytest.fixture
async def api(api_app: CsmsApp) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=api_app.api_url, headers=headers, timeout=10) as client:
        yield client


@pytest.fixture
async def station(api_app: CsmsApp) -> AsyncIterator[Station]:
    await api_app.services.chargers.register("CS-1")
    async with await Station.connect(f"{api_app.ocpp_url}/CS-1") as station:
        assert (await station.boot())["status"] == "Accepted"
        yield station


async def events(api: httpx.AsyncClient, kind: str) -> list[dict[str, Any]]:
    response = await api.get("/api/chargers/CS-1/events", params={"kind": kind})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def part(request_id: int, seq_no: int, data: str, tbc: bool = False) -> dict[str, Any]:
    return {"requestId": request_id, "seqNo": seq_no, "tbc": tbc, "generatedAt": NOW, "data": data}


async def test_get_log_and_its_upload_statuses_are_kept(
    api: httpx.AsyncClient, station: Station
) -> None:
    body = {"logType": "SecurityLog", "requestId": 7, "log": {"remoteLocation": "ftp://x/"}}
    answer = {"status": "Accepted", "filename": "security.log"}
    sent = api.post("/api/chargers/CS-1/ocpp/GetLog", json=body)
    response, request = await asyncio.gather(sent, station.answer("GetLog", answer))
    assert request == body
    assert response.status_code == 200 and response.json() == answer
    (asked,) = await events(api, "GetLogRequested")
    assert asked["detail"] == "Accepted" and asked["payload"]["response"] == answer
    for status in ("Uploading", "Uploaded"):
        notification = {"status": status, "requestId": 7}
        assert await station.result("LogStatusNotification", notification) == {}
        charger = (await api.get("/api/chargers/CS-1")).json()
        assert charger["diagnosticsStatus"] == status
    told = await events(api, "LogStatusNotification")
    assert [(e["detail"], e["payload"]["requestId"]) for e in told] == [
        ("Uploading", 7),
        ("Uploaded", 7),
    ]


async def test_customer_information_parts_are_joined_into_one_report(
    api: httpx.AsyncClient, station: Station
) -> None:
    body = {
        "requestId": 3, "report": True, "clear": False,
        "idToken": {"idToken": "CUST-1", "type": "ISO14443"},
    }  # fmt: skip
    sent = api.post("/api/chargers/CS-1/ocpp/CustomerInformation", json=body)
    response, request = await asyncio.gather(
        sent, station.answer("CustomerInformation", {"status": "Accepted"})
    )
    assert request == body and response.json() == {"status": "Accepted"}
    (asked,) = await events(api, "CustomerInformationRequested")
    assert asked["detail"] == "Accepted"
    # parts out of order, one of them retried; the report comes with the last
    for payload in (part(3, 1, "second ", tbc=True), part(3, 0, "first ", tbc=True)):
        assert await station.result("NotifyCustomerInformation", payload) == {}
    assert await events(api, "CustomerInformation") == []
    await station.result("NotifyCustomerInformation", part(3, 0, "again ", tbc=True))
    await station.result("NotifyCustomerInformation", part(3, 2, "third"))
    (report,) = await events(api, "CustomerInformation")
    assert report["detail"] == "Complete"
    assert report["payload"] == {
        "requestId": 3, "parts": 3, "missing": [], "generatedAt": NOW,
        "data": "first second third",
    }  # fmt: skip
    assert len(await events(api, "NotifyCustomerInformation")) == 4


async def test_a_report_with_parts_missing_is_incomplete_and_a_request_id_used_again_starts_anew(
    api: httpx.AsyncClient, station: Station
) -> None:
    await station.result("NotifyCustomerInformation", part(5, 0, "a", tbc=True))
    await station.result("NotifyCustomerInformation", part(5, 3, "d"))
    await station.result("NotifyCustomerInformation", part(5, 0, "No data available"))
    first, second = await events(api, "CustomerInformation")
    assert first["detail"] == "Incomplete"
    assert (first["payload"]["missing"], first["payload"]["data"]) == ([1, 2], "ad")
    assert second["detail"] == "Complete"
    assert (second["payload"]["parts"], second["payload"]["data"]) == (1, "No data available")


async def test_events_of_an_unknown_charger_are_a_404(api: httpx.AsyncClient) -> None:
    response = await api.get("/api/chargers/NOBODY/events")
    assert response.status_code == 404 and response.json()["error"] == "UnknownCharger"
