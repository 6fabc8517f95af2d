"""The CSMS keeps its own state in step with what it sent and what the charger answered."""

from __future__ import annotations

from typing import Any

import httpx

from csms import CsmsApp
from csms.domain import TransactionStart

from .charger import TestCharger
from .payloads import PROFILE


async def send(client: httpx.AsyncClient, action: str, payload: dict[str, Any]) -> Any:
    response = await client.post(f"/api/chargers/CP-1/ocpp/{action}", json=payload)
    assert response.status_code == 200, response.text
    return response.json()


async def detail(client: httpx.AsyncClient) -> dict[str, Any]:
    result: dict[str, Any] = (await client.get("/api/chargers/CP-1")).json()
    return result


async def test_configuration_changes_and_reads_are_stored(
    client: httpx.AsyncClient, charger: TestCharger
) -> None:
    await send(client, "ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": "15"})
    charger.answers["ChangeConfiguration"] = {"status": "Rejected"}
    await send(client, "ChangeConfiguration", {"key": "ConnectionTimeOut", "value": "5"})
    await send(client, "GetConfiguration", {})
    stored = {
        c["key"]: (c["value"], c["readonly"]) for c in (await detail(client))["configuration"]
    }
    assert stored == {"MeterValueSampleInterval": ("15", False), "HeartbeatInterval": ("60", False)}


async def test_authorization_key_changes_the_password_only_when_accepted(
    api_app: CsmsApp, client: httpx.AsyncClient, charger: TestCharger
) -> None:
    chargers = api_app.services.chargers
    new_key = "0123456789abcdef0123"
    charger.answers["ChangeConfiguration"] = {"status": "Rejected"}
    await send(client, "ChangeConfiguration", {"key": "AuthorizationKey", "value": new_key})
    assert (await chargers.admit("CP-1", None)).refusal == 0  # still no password
    charger.answers["ChangeConfiguration"] = {"status": "Accepted"}
    await send(client, "ChangeConfiguration", {"key": "AuthorizationKey", "value": new_key})
    assert (await chargers.admit("CP-1", None)).refusal == 401
    assert (await chargers.admit("CP-1", "wrong-password-000")).refusal == 401
    assert (await chargers.admit("CP-1", new_key)).refusal == 0
    charger_view = await detail(client)
    assert charger_view["hasPassword"] is True
    assert {"key": "AuthorizationKey", "value": "***"}.items() <= next(
        c for c in charger_view["configuration"] if c["key"] == "AuthorizationKey"
    ).items()
    log = (
        await client.get("/api/chargers/CP-1/messages", params={"action": "ChangeConfiguration"})
    ).json()
    assert new_key not in str(log)


async def test_reservations_and_their_expiry(
    api_app: CsmsApp, client: httpx.AsyncClient, charger: TestCharger
) -> None:
    later = {"connectorId": 1, "idTag": "TAG-R", "expiryDate": "2099-01-01T02:00:00+02:00"}
    await send(client, "ReserveNow", {**later, "reservationId": 1})
    await send(client, "ReserveNow", {**later, "reservationId": 2})
    await send(client, "ReserveNow", {**later, "reservationId": 3})
    past = {"connectorId": 1, "idTag": "TAG-R", "expiryDate": "2020-01-01T00:00:00Z"}
    await send(client, "ReserveNow", {**past, "reservationId": 4})
    charger.answers["ReserveNow"] = {"status": "Occupied"}
    await send(client, "ReserveNow", {**later, "reservationId": 5})
    await send(client, "CancelReservation", {"reservationId": 2})
    start = TransactionStart(1, "TAG-R", 0, "2026-11-24T10:00:00Z", reservation_id=3)
    await api_app.services.transactions.start("CP-1", start)
    reservations = {r["reservationId"]: r for r in (await detail(client))["reservations"]}
    assert {n: r["status"] for n, r in reservations.items()} == {
        1: "Reserved",
        2: "Cancelled",
        3: "Used",
        4: "Expired",
    }
    assert reservations[1]["expiryDate"] == "2099-01-01T00:00:00.000Z"
    assert reservations[1]["idTag"] == "TAG-R"


async def test_charging_profiles_replace_and_clear(
    client: httpx.AsyncClient, charger: TestCharger
) -> None:
    await send(client, "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": PROFILE})
    same_level = {**PROFILE, "chargingProfileId": 8}  # same stack level and purpose: replaces
    await send(client, "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": same_level})
    other = {**PROFILE, "chargingProfileId": 9, "stackLevel": 1}
    await send(client, "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": other})
    charger.answers["SetChargingProfile"] = {"status": "Rejected"}
    rejected = {**PROFILE, "chargingProfileId": 10, "stackLevel": 2}
    await send(client, "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": rejected})
    profiles = (await detail(client))["chargingProfiles"]
    assert sorted(p["chargingProfileId"] for p in profiles) == [8, 9]
    assert profiles[0]["csChargingProfiles"]["chargingSchedule"]["chargingRateUnit"] == "W"
    await send(client, "ClearChargingProfile", {"id": 8})
    assert [p["chargingProfileId"] for p in (await detail(client))["chargingProfiles"]] == [9]
    await send(client, "ClearChargingProfile", {"chargingProfilePurpose": "TxDefaultProfile"})
    assert (await detail(client))["chargingProfiles"] == []


async def test_local_list_version(client: httpx.AsyncClient, charger: TestCharger) -> None:
    await send(
        client,
        "SendLocalList",
        {"listVersion": 5, "updateType": "Full", "localAuthorizationList": []},
    )
    assert (await detail(client))["localListVersion"] == 5
    charger.answers["GetLocalListVersion"] = {"listVersion": 7}
    await send(client, "GetLocalListVersion", {})
    assert (await detail(client))["localListVersion"] == 7


async def test_firmware_and_diagnostics_requests_and_status(
    client: httpx.AsyncClient, charger: TestCharger
) -> None:
    await send(
        client,
        "UpdateFirmware",
        {"location": "https://fw/x.bin", "retrieveDate": "2030-01-01T00:00:00Z"},
    )
    await send(client, "GetDiagnostics", {"location": "ftp://diag/"})
    await charger.call("FirmwareStatusNotification", {"status": "Downloading"})
    await charger.call("DiagnosticsStatusNotification", {"status": "Uploaded"})
    view = await detail(client)
    assert (view["firmwareStatus"], view["diagnosticsStatus"]) == ("Downloading", "Uploaded")
    kinds = [e["kind"] for e in view["events"]]
    assert kinds[:2] == ["UpdateFirmwareRequested", "GetDiagnosticsRequested"]
    diagnostics = view["events"][1]
    assert diagnostics["payload"]["response"] == {"fileName": "diagnostics.zip"}
