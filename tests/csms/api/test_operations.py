"""Every CSMS-initiated operation over HTTP reaches the charger; its answer comes back; errors
map onto HTTP statuses."""

from __future__ import annotations

import asyncio
import contextlib

import httpx
import pytest

from csms import CsmsApp
from csms.ocpp16.operations import CSMS_ACTIONS
from tests.conftest import eventually

from .charger import TestCharger
from .payloads import ANSWERS, REQUESTS


@pytest.mark.parametrize("action", sorted(CSMS_ACTIONS))
async def test_every_action_reaches_the_charger(
    client: httpx.AsyncClient, charger: TestCharger, action: str
) -> None:
    response = await client.post(f"/api/chargers/CP-1/ocpp/{action}", json=REQUESTS[action])
    assert response.status_code == 200, response.text
    assert response.json() == ANSWERS[action]
    assert (action, REQUESTS[action]) in charger.received


async def test_empty_body_is_an_empty_payload(
    client: httpx.AsyncClient, charger: TestCharger
) -> None:
    response = await client.post("/api/chargers/CP-1/ocpp/ClearCache")
    assert response.status_code == 200, response.text
    assert charger.received == [("ClearCache", {})]


async def test_unknown_charger_is_404(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/chargers/NOPE/ocpp/Reset", json={"type": "Soft"})
    assert response.status_code == 404
    assert response.json()["error"] == "UnknownCharger"


async def test_registered_but_not_connected_is_409(
    api_app: CsmsApp, client: httpx.AsyncClient
) -> None:
    await api_app.services.chargers.register("CP-OFF")
    response = await client.post("/api/chargers/CP-OFF/ocpp/Reset", json={"type": "Soft"})
    assert response.status_code == 409
    assert response.json()["error"] == "ChargerNotConnected"


async def test_invalid_payload_is_422_with_the_schema_error_and_nothing_is_sent(
    client: httpx.AsyncClient, charger: TestCharger
) -> None:
    response = await client.post("/api/chargers/CP-1/ocpp/Reset", json={"type": "Sideways"})
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "InvalidPayload"
    assert body["code"] == "PropertyConstraintViolation"
    assert "payload.type" in body["details"]["field"]
    missing = await client.post("/api/chargers/CP-1/ocpp/RemoteStartTransaction", json={})
    assert missing.status_code == 422
    assert missing.json()["code"] == "OccurenceConstraintViolation"
    assert charger.received == []


async def test_non_object_body_is_422(client: httpx.AsyncClient, charger: TestCharger) -> None:
    response = await client.post("/api/chargers/CP-1/ocpp/Reset", json=["Soft"])
    assert response.status_code == 422
    assert charger.received == []


async def test_call_error_is_502_with_its_code_and_description(
    client: httpx.AsyncClient, charger: TestCharger
) -> None:
    charger.errors["Reset"] = ("NotSupported", "no resets today")
    response = await client.post("/api/chargers/CP-1/ocpp/Reset", json={"type": "Hard"})
    assert response.status_code == 502
    body = response.json()
    assert (body["error"], body["code"], body["description"]) == (
        "CallError",
        "NotSupported",
        "no resets today",
    )


async def test_invalid_answer_is_502(client: httpx.AsyncClient, charger: TestCharger) -> None:
    charger.session.validate = False  # let the charger send an answer that breaks the schema
    charger.answers["Reset"] = {"status": "Maybe"}
    response = await client.post("/api/chargers/CP-1/ocpp/Reset", json={"type": "Hard"})
    assert response.status_code == 502
    assert response.json()["error"] == "InvalidResponse"
    assert response.json()["response"] == {"status": "Maybe"}


async def test_no_answer_in_time_is_504(client: httpx.AsyncClient, charger: TestCharger) -> None:
    charger.hang.add("Reset")
    response = await client.post(
        "/api/chargers/CP-1/ocpp/Reset", params={"timeout": 0.2}, json={"type": "Soft"}
    )
    assert response.status_code == 504
    assert response.json()["error"] == "CallTimeout"


@pytest.mark.parametrize("action", ["BootNotification", "StartTransaction", "Heartbeat"])
async def test_charge_point_initiated_action_is_400(
    client: httpx.AsyncClient, charger: TestCharger, action: str
) -> None:
    response = await client.post(f"/api/chargers/CP-1/ocpp/{action}", json={})
    assert response.status_code == 400
    assert "initiated by the charge point" in response.json()["detail"]


async def test_unknown_action_is_404(client: httpx.AsyncClient, charger: TestCharger) -> None:
    response = await client.post("/api/chargers/CP-1/ocpp/MakeCoffee", json={})
    assert response.status_code == 404
    assert response.json()["error"] == "UnsupportedAction"


async def test_actions_are_listed_by_profile(client: httpx.AsyncClient) -> None:
    profiles = (await client.get("/api/ocpp/actions")).json()
    assert "RemoteStartTransaction" in profiles["Core"]
    assert sum(len(actions) for actions in profiles.values()) == len(CSMS_ACTIONS) == 26


async def test_friendly_routes(
    api_app: CsmsApp, client: httpx.AsyncClient, charger: TestCharger
) -> None:
    start = await client.post(
        "/api/operations/remote-start", json={"chargerId": "CP-1", "idTag": "TAG-1"}
    )
    assert start.json() == {"status": "Accepted"}

    async def started() -> bool:
        return 1 in charger.transactions

    await eventually(started)
    transaction_id = charger.transactions[1]
    stop = await client.post(
        "/api/operations/remote-stop", json={"chargerId": "CP-1", "transactionId": transaction_id}
    )
    assert stop.json() == {"status": "Accepted"}
    reset = await client.post("/api/operations/reset", json={"chargerId": "CP-1", "type": "Hard"})
    assert reset.json() == {"status": "Accepted"}
    change = await client.post(
        "/api/operations/change-configuration",
        json={"chargerId": "CP-1", "key": "MeterValueSampleInterval", "value": "30"},
    )
    assert change.json() == {"status": "Accepted"}
    get = await client.post(
        "/api/operations/get-configuration",
        json={"chargerId": "CP-1", "keys": ["HeartbeatInterval"]},
    )
    assert get.json() == ANSWERS["GetConfiguration"]
    actions = [action for action, _ in charger.received]
    assert actions == [
        "RemoteStartTransaction",
        "RemoteStopTransaction",
        "Reset",
        "ChangeConfiguration",
        "GetConfiguration",
    ]
    assert charger.received[0][1] == {"idTag": "TAG-1"}
    assert charger.received[4][1] == {"key": ["HeartbeatInterval"]}

    async def stopped() -> bool:
        row = await api_app.services.transactions.transactions.get(transaction_id)
        return row is not None and row["status"] == "Completed"

    await eventually(stopped)


async def test_friendly_route_errors_map_the_same_way(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/operations/reset", json={"chargerId": "GHOST", "type": "Soft"}
    )
    assert response.status_code == 404


async def test_timeout_covers_the_wait_behind_another_call(
    client: httpx.AsyncClient, charger: TestCharger
) -> None:
    """OCPP-J sends one CALL at a time: a request queued behind a call the charger never
    answers still gets its 504 in time."""
    charger.hang.add("Reset")
    first = asyncio.create_task(
        client.post("/api/chargers/CP-1/ocpp/Reset", params={"timeout": 5}, json={"type": "Soft"})
    )

    async def sent() -> bool:
        return bool(charger.received)

    await eventually(sent)
    started = asyncio.get_running_loop().time()
    second = await client.post("/api/chargers/CP-1/ocpp/ClearCache", params={"timeout": 0.3})
    assert second.status_code == 504
    assert asyncio.get_running_loop().time() - started < 3
    first.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await first
