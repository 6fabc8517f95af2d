"""CSMS-initiated 2.0.1 operations through the HTTP API: checked against the 2.0.1 schemas,
sent, and the CSMS's records kept in step with the station's answers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from csms import CsmsApp
from tests.conftest import csms_config, eventually
from tests.csms.client import RawClient

from .station import NOW, Station, event

TOKEN = "test-token-0123456789"
PASSWORD_VARIABLE = {
    "component": {"name": "SecurityCtrlr"},
    "variable": {"name": "BasicAuthPassword"},
}
NEW_PASSWORD = "a-new-password-0123"


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


async def operate(
    api: httpx.AsyncClient, station: Station, path: str, body: Any, action: str, answer: Any
) -> tuple[httpx.Response, dict[str, Any]]:
    """POST `path` while the station answers the CALL of `action` it gets; (response, the
    request the station got)."""
    sent = api.post(path, json=body)
    response, request = await asyncio.gather(sent, station.answer(action, answer))
    return response, request


async def test_an_accepted_password_becomes_the_stations(
    api_app: CsmsApp, api: httpx.AsyncClient, station: Station
) -> None:
    data = {**PASSWORD_VARIABLE, "attributeValue": NEW_PASSWORD}
    accepted = {"setVariableResult": [{**PASSWORD_VARIABLE, "attributeStatus": "Accepted"}]}
    response, request = await operate(
        api,
        station,
        "/api/chargers/CS-1/ocpp/SetVariables",
        {"setVariableData": [data]},
        "SetVariables",
        accepted,
    )
    assert response.status_code == 200, response.text
    assert request == {"setVariableData": [data]}
    admission = await api_app.services.chargers.admit("CS-1", NEW_PASSWORD)
    assert admission.refusal == 0
    assert (await api_app.services.chargers.admit("CS-1", "wrong-password-000")).refusal == 401
    variables = (await api.get("/api/chargers/CS-1/variables")).json()["items"]
    assert [(v["variable"], v["value"]) for v in variables] == [("BasicAuthPassword", "***")]

    async def logged() -> bool:
        """both frames of the SetVariables are in the message log"""
        return len(await api_app.services.log.query("CS-1", action="SetVariables")) == 2

    await eventually(logged)
    log = await api_app.services.log.query("CS-1", action="SetVariables")
    assert not any(NEW_PASSWORD in row["payload"] for row in log)


async def test_a_rejected_password_changes_nothing(
    api_app: CsmsApp, api: httpx.AsyncClient, station: Station
) -> None:
    data = {**PASSWORD_VARIABLE, "attributeValue": NEW_PASSWORD}
    rejected = {"setVariableResult": [{**PASSWORD_VARIABLE, "attributeStatus": "Rejected"}]}
    response, _ = await operate(
        api,
        station,
        "/api/chargers/CS-1/ocpp/SetVariables",
        {"setVariableData": [data]},
        "SetVariables",
        rejected,
    )
    assert response.status_code == 200
    row = await api_app.services.chargers.get("CS-1")
    assert row is not None and row["password_hash"] is None
    assert (await api.get("/api/chargers/CS-1/variables")).json()["items"] == []


async def test_get_variables_and_base_report_fill_the_device_model(
    api: httpx.AsyncClient, station: Station
) -> None:
    interval = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
    got = {**interval, "attributeStatus": "Accepted", "attributeValue": "60"}
    result = {"getVariableResult": [got]}
    response, _ = await operate(
        api,
        station,
        "/api/operations/get-configuration",
        {"chargerId": "CS-1", "keys": ["OCPPCommCtrlr.HeartbeatInterval"]},
        "GetVariables",
        result,
    )
    assert response.status_code == 200, response.text
    response, request = await operate(
        api,
        station,
        "/api/operations/get-configuration",
        {"chargerId": "CS-1"},
        "GetBaseReport",
        {"status": "Accepted"},
    )
    assert response.json() == {"status": "Accepted"} and request["reportBase"] == "FullInventory"
    for seq_no, (name, value) in enumerate((("AuthCtrlr", "true"), ("TxCtrlr", "false"))):
        part = {
            "requestId": request["requestId"],
            "generatedAt": NOW,
            "seqNo": seq_no,
            "tbc": seq_no == 0,
            "reportData": [
                {
                    "component": {"name": name, "evse": {"id": 1}},
                    "variable": {"name": "Enabled"},
                    "variableAttribute": [{"value": value, "mutability": "ReadOnly"}],
                }
            ],
        }
        assert await station.result("NotifyReport", part) == {}
    variables = (await api.get("/api/chargers/CS-1/variables")).json()["items"]
    assert [(v["component"], v["evseId"], v["variable"], v["value"]) for v in variables] == [
        ("AuthCtrlr", 1, "Enabled", "true"),
        ("OCPPCommCtrlr", None, "HeartbeatInterval", "60"),
        ("TxCtrlr", 1, "Enabled", "false"),
    ]


async def test_payloads_are_checked_against_the_2_0_1_schemas(
    api: httpx.AsyncClient, station: Station
) -> None:
    response = await api.post("/api/chargers/CS-1/ocpp/Reset", json={"type": "Hard"})
    assert response.status_code == 422 and response.json()["error"] == "InvalidPayload"
    only_16 = await api.post("/api/chargers/CS-1/ocpp/RemoteStartTransaction", json={"idTag": "T"})
    assert only_16.status_code == 404
    station_side = await api.post("/api/chargers/CS-1/ocpp/TransactionEvent", json={})
    assert station_side.status_code == 400


async def test_remote_start_and_stop_in_2_0_1_words(
    api_app: CsmsApp, api: httpx.AsyncClient, station: Station
) -> None:
    response, request = await operate(
        api,
        station,
        "/api/operations/remote-start",
        {"chargerId": "CS-1", "idTag": "CARD", "connectorId": 2},
        "RequestStartTransaction",
        {"status": "Accepted"},
    )
    assert response.json() == {"status": "Accepted"}
    assert request["idToken"] == {"idToken": "CARD", "type": "Central"}  # not registered
    assert request["evseId"] == 2 and request["remoteStartId"] > 0
    await api.put("/api/id-tags/BADGE", json={"tokenType": "ISO14443"})
    _, typed = await operate(
        api,
        station,
        "/api/operations/remote-start",
        {"chargerId": "CS-1", "idTag": "BADGE"},
        "RequestStartTransaction",
        {"status": "Rejected"},
    )
    assert typed["idToken"] == {"idToken": "BADGE", "type": "ISO14443"}  # as registered
    info = {"remoteStartId": request["remoteStartId"]}
    started = event("Started", 0, "TX-9", trigger="RemoteStart", info=info)
    await station.result("TransactionEvent", started)
    listed = (await api.get("/api/transactions", params={"chargerId": "CS-1"})).json()["items"]
    seen = [(t["stationTransactionId"], t["remoteStartId"], t["ocppVersion"]) for t in listed]
    assert seen == [("TX-9", request["remoteStartId"], "2.0.1")]
    number = listed[0]["transactionId"]
    detail = (await api.get(f"/api/transactions/{number}")).json()
    assert detail["missingSeqNos"] == [] and detail["stationTransactionId"] == "TX-9"
    response, request = await operate(
        api,
        station,
        "/api/operations/remote-stop",
        {"chargerId": "CS-1", "transactionId": number},
        "RequestStopTransaction",
        {"status": "Accepted"},
    )
    assert response.status_code == 200 and request == {"transactionId": "TX-9"}
    body = {"chargerId": "CS-1", "transactionId": 999}
    unknown = await api.post("/api/operations/remote-stop", json=body)
    assert unknown.status_code == 422 and unknown.json()["error"] == "InvalidOperation"


async def test_reset_in_2_0_1_words_and_1_6_still_its_own(
    api_app: CsmsApp, api: httpx.AsyncClient, station: Station
) -> None:
    response, request = await operate(
        api,
        station,
        "/api/operations/reset",
        {"chargerId": "CS-1", "type": "Hard"},
        "Reset",
        {"status": "Scheduled"},
    )
    assert response.json() == {"status": "Scheduled"} and request == {"type": "Immediate"}
    await api_app.services.chargers.register("CP-16")
    async with await RawClient.open(f"{api_app.ocpp_url}/CP-16") as old:
        await old.boot()
        body = {"chargerId": "CP-16", "type": "Hard"}
        sent = asyncio.create_task(api.post("/api/operations/reset", json=body))
        frame = await old.recv()
        assert frame[2:] == ["Reset", {"type": "Hard"}]
        await old.send(json.dumps([3, frame[1], {"status": "Accepted"}]))
        assert (await sent).json() == {"status": "Accepted"}


async def test_the_api_shows_the_version_and_evses(
    api: httpx.AsyncClient, station: Station
) -> None:
    actions = (await api.get("/api/ocpp/actions", params={"version": "2.0.1"})).json()
    assert "RequestStartTransaction" in actions["RemoteControl"]
    assert "GetBaseReport" in actions["Provisioning"]
    status = {"timestamp": NOW, "connectorStatus": "Available", "evseId": 2, "connectorId": 1}
    await station.result("StatusNotification", status)
    detail = (await api.get("/api/chargers/CS-1")).json()
    assert detail["connection"]["ocppVersion"] == "2.0.1"
    assert [(c["evseId"], c["connectorId"]) for c in detail["connectors"]] == [(2, 1)]
    [listed] = (await api.get("/api/chargers")).json()["items"]  # as the dashboard reads it
    assert listed["ocppVersion"] == "2.0.1" and detail["ocppVersion"] == "2.0.1"
    assert [(c["evseId"], c["connectorId"]) for c in listed["connectors"]] == [(2, 1)]


PROFILE = {
    "id": 7,
    "stackLevel": 0,
    "chargingProfilePurpose": "TxDefaultProfile",
    "chargingProfileKind": "Absolute",
    "chargingSchedule": [
        {
            "id": 1,
            "chargingRateUnit": "W",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 7000}],
        }
    ],
}


async def test_reservations_profiles_and_the_local_list_kept_in_step(
    api: httpx.AsyncClient, station: Station
) -> None:
    async def send(action: str, body: Any, answer: Any) -> None:
        response, _ = await operate(
            api, station, f"/api/chargers/CS-1/ocpp/{action}", body, action, answer
        )
        assert response.status_code == 200, response.text

    reserve = {"id": 3, "expiryDateTime": "2099-01-01T00:00:00Z", "evseId": 1,
               "idToken": {"idToken": "CARD", "type": "ISO14443"}}  # fmt: skip
    await send("ReserveNow", reserve, {"status": "Accepted"})
    await send("ReserveNow", {**reserve, "id": 4}, {"status": "Occupied"})
    await send(
        "SetChargingProfile", {"evseId": 1, "chargingProfile": PROFILE}, {"status": "Accepted"}
    )
    await send("SendLocalList", {"versionNumber": 5, "updateType": "Full"}, {"status": "Accepted"})
    detail = (await api.get("/api/chargers/CS-1")).json()
    assert [
        (r["reservationId"], r["connectorId"], r["idTag"], r["status"])
        for r in detail["reservations"]
    ] == [(3, 1, "CARD", "Reserved")]
    assert [p["chargingProfileId"] for p in detail["chargingProfiles"]] == [7]
    assert detail["localListVersion"] == 5
    await send("CancelReservation", {"reservationId": 3}, {"status": "Accepted"})
    await send("ClearChargingProfile", {"chargingProfileId": 7}, {"status": "Accepted"})
    await send("GetLocalListVersion", {}, {"versionNumber": 6})
    detail = (await api.get("/api/chargers/CS-1")).json()
    assert [r["status"] for r in detail["reservations"]] == ["Cancelled"]
    assert detail["chargingProfiles"] == [] and detail["localListVersion"] == 6


async def test_a_firmware_update_and_its_progress_as_the_api_shows_them(
    api: httpx.AsyncClient, station: Station
) -> None:
    firmware = {
        "location": "https://fw.example/2.bin",
        "retrieveDateTime": NOW,
        "signingCertificate": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
        "signature": "c2lnbmF0dXJl",
    }
    body = {"requestId": 4, "firmware": firmware}
    response, request = await operate(
        api, station, "/api/chargers/CS-1/ocpp/UpdateFirmware", body, "UpdateFirmware",
        {"status": "AcceptedCanceled"},
    )  # fmt: skip
    assert response.json() == {"status": "AcceptedCanceled"} and request == body
    for status in ("Downloading", "SignatureVerified", "InstallRebooting"):
        await station.result("FirmwareStatusNotification", {"status": status, "requestId": 4})
    detail = (await api.get("/api/chargers/CS-1")).json()
    assert detail["firmwareStatus"] == "InstallRebooting"
    events = [e for e in detail["events"] if "Firmware" in e["kind"]]
    requested = next(e for e in events if e["kind"] == "UpdateFirmwareRequested")
    assert requested["detail"] == "AcceptedCanceled"
    assert requested["payload"] == {"request": body, "response": {"status": "AcceptedCanceled"}}
    progress = [e["payload"] for e in events if e["kind"] == "FirmwareStatusNotification"]
    assert sorted(p["status"] for p in progress) == [
        "Downloading", "InstallRebooting", "SignatureVerified",
    ]  # fmt: skip
    assert {p["requestId"] for p in progress} == {4}
    await station.boot("FirmwareUpdate", firmwareVersion="2.0")
    await station.result("FirmwareStatusNotification", {"status": "Installed", "requestId": 4})
    detail = (await api.get("/api/chargers/CS-1")).json()
    assert (detail["firmwareStatus"], detail["firmwareVersion"]) == ("Installed", "2.0")


async def test_a_transactions_frames_are_linked_to_it_in_the_message_log(
    api_app: CsmsApp, api: httpx.AsyncClient, station: Station
) -> None:
    """Each TransactionEvent and its answer, and the RequestStopTransaction sent for it, carry
    the CSMS's number of the transaction; another transaction's frames carry its own."""
    for seq_no, kind in enumerate(("Started", "Updated")):
        assert "status" not in await station.result("TransactionEvent", event(kind, seq_no))
    assert await station.result("TransactionEvent", event("Started", 0, "TX-2")) == {}
    response, _ = await operate(
        api,
        station,
        "/api/chargers/CS-1/ocpp/RequestStopTransaction",
        {"transactionId": "TX-1"},
        "RequestStopTransaction",
        {"status": "Accepted"},
    )
    assert response.status_code == 200, response.text
    ended = event("Ended", 2, trigger="RemoteStop", info={"stoppedReason": "Remote"})
    await station.result("TransactionEvent", ended)
    numbers = {
        row["station_transaction_id"]: row["id"]
        for row in await api_app.services.db.fetch_all(
            "SELECT id, station_transaction_id FROM transactions", ()
        )
    }
    await api_app.services.log.flush()
    items = (await api.get("/api/chargers/CS-1/messages", params={"limit": 1000})).json()["items"]
    linked = [
        (m["direction"], m["action"], m["transactionId"])
        for m in items
        if m["action"] in ("TransactionEvent", "RequestStopTransaction")
    ]
    one, two = numbers["TX-1"], numbers["TX-2"]
    assert one != two
    assert linked == [
        *[("in", "TransactionEvent", one), ("out", "TransactionEvent", one)] * 2,
        ("in", "TransactionEvent", two),
        ("out", "TransactionEvent", two),
        ("out", "RequestStopTransaction", one),
        ("in", "RequestStopTransaction", one),
        ("in", "TransactionEvent", one),
        ("out", "TransactionEvent", one),
    ]
    own = (await api.get(f"/api/transactions/{two}/messages")).json()["items"]
    assert [(m["direction"], m["action"]) for m in own] == [
        ("in", "TransactionEvent"),
        ("out", "TransactionEvent"),
    ]
    first = (await api.get(f"/api/transactions/{one}/messages", params={"limit": 1000})).json()
    assert len(first["items"]) == 8
