"""Each station-initiated 2.0.1 message: answered as the spec says, and kept."""

from __future__ import annotations

import json

import pytest

from csms import CsmsApp

from .station import NOW, Station, energy, token


async def test_heartbeat_and_status_per_evse_connector(csms_app: CsmsApp, booted: Station) -> None:
    assert (await booted.result("Heartbeat", {}))["currentTime"].endswith("Z")
    for evse, status in ((1, "Available"), (2, "Occupied")):
        status_request = {
            "timestamp": NOW, "connectorStatus": status, "evseId": evse, "connectorId": 1,
        }  # fmt: skip
        assert await booted.result("StatusNotification", status_request) == {}
    rows = await csms_app.services.chargers.connectors("CS-1")
    assert [(r["evse_id"], r["connector_id"], r["status"]) for r in rows] == [
        (1, 1, "Available"),
        (2, 1, "Occupied"),
    ]


async def test_authorize_by_token_type_and_group(csms_app: CsmsApp, booted: Station) -> None:
    tags = csms_app.services.tags
    await tags.upsert("GROUP")
    await tags.upsert("CARD", parent_id_tag="GROUP")
    await tags.upsert("LOST", status="Blocked")
    known = await booted.result("Authorize", {"idToken": token("CARD")})
    assert known["idTokenInfo"] == {
        "status": "Accepted",
        "groupIdToken": {"idToken": "GROUP", "type": "Central"},
    }
    blocked = await booted.result("Authorize", {"idToken": token("LOST", "KeyCode")})
    assert blocked["idTokenInfo"]["status"] == "Blocked"
    unknown = await booted.result("Authorize", {"idToken": token("NOBODY", "eMAID")})
    assert unknown["idTokenInfo"]["status"] == "Invalid"
    free = await booted.result("Authorize", {"idToken": token("", "NoAuthorization")})
    assert free["idTokenInfo"]["status"] == "Accepted"


async def test_a_typed_tag_is_that_type_only_and_names_its_groups_type(
    csms_app: CsmsApp, booted: Station
) -> None:
    tags = csms_app.services.tags
    await tags.upsert("FLEET", token_type="eMAID")
    await tags.upsert("BADGE", parent_id_tag="FLEET", token_type="ISO14443")
    badge = await booted.result("Authorize", {"idToken": token("BADGE", "ISO14443")})
    assert badge["idTokenInfo"] == {
        "status": "Accepted",
        "groupIdToken": {"idToken": "FLEET", "type": "eMAID"},
    }
    typed = await booted.result("Authorize", {"idToken": token("BADGE", "KeyCode")})
    assert typed["idTokenInfo"] == {"status": "Invalid"}  # another token of the same value
    await tags.upsert("ANY")  # registered without a type: any type is it
    for kind in ("KeyCode", "ISO15693"):
        untyped = await booted.result("Authorize", {"idToken": token("ANY", kind)})
        assert untyped["idTokenInfo"]["status"] == "Accepted"


async def test_meter_values_outside_transactions_are_kept(
    csms_app: CsmsApp, booted: Station
) -> None:
    request = {"evseId": 2, "meterValue": energy(1.5, unit="kWh", multiplier=3)}
    assert await booted.result("MeterValues", request) == {}
    rows = await csms_app.services.db.fetch_all(
        "SELECT connector_id, transaction_id, value, unit, source FROM meter_values"
    )
    assert rows == [
        {
            "connector_id": 2,
            "transaction_id": None,
            "value": "1500.0",
            "unit": "kWh",
            "source": "MeterValues",
        }
    ]


NOTIFICATIONS = [
    ("NotifyEvent", {"generatedAt": NOW, "seqNo": 0, "eventData": [{
        "eventId": 1, "timestamp": NOW, "trigger": "Alerting", "actualValue": "true",
        "eventNotificationType": "HardWiredNotification",
        "component": {"name": "Door"}, "variable": {"name": "Open"}}]}, {}),
    ("FirmwareStatusNotification", {"status": "Downloading", "requestId": 3}, {}),
    ("LogStatusNotification", {"status": "Uploading", "requestId": 4}, {}),
    ("SecurityEventNotification", {"type": "TamperDetectionActivated", "timestamp": NOW}, {}),
    ("NotifyCustomerInformation",
     {"data": "none", "seqNo": 0, "generatedAt": NOW, "requestId": 5}, {}),
    ("NotifyChargingLimit", {"chargingLimit": {"chargingLimitSource": "EMS"}}, {}),
    ("ClearedChargingLimit", {"chargingLimitSource": "EMS"}, {}),
    ("ReportChargingProfiles", {"requestId": 6, "chargingLimitSource": "CSO", "evseId": 1,
     "chargingProfile": [{"id": 1, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
                          "chargingProfileKind": "Absolute", "chargingSchedule": [{
                              "id": 1, "chargingRateUnit": "W",
                              "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 7000}]}]}]},
     {}),
    ("NotifyEVChargingNeeds", {"evseId": 1, "chargingNeeds": {"requestedEnergyTransfer": "DC"}},
     {"status": "Rejected"}),
    ("NotifyDisplayMessages", {"requestId": 7}, {}),
    ("NotifyMonitoringReport", {"requestId": 8, "seqNo": 0, "generatedAt": NOW}, {}),
    ("PublishFirmwareStatusNotification", {"status": "Published"}, {}),
    ("GetCertificateStatus", {"ocspRequestData": {
        "hashAlgorithm": "SHA256", "issuerNameHash": "a", "issuerKeyHash": "b",
        "serialNumber": "c", "responderURL": "http://ocsp"}}, {"status": "Failed"}),
]  # fmt: skip


@pytest.mark.parametrize(("action", "payload", "answer"), NOTIFICATIONS, ids=lambda v: str(v)[:30])
async def test_notifications_are_answered_and_kept_as_events(
    csms_app: CsmsApp, booted: Station, action: str, payload: dict[str, object], answer: object
) -> None:
    assert await booted.result(action, payload) == answer
    events = await csms_app.services.chargers.events("CS-1", action)
    kept = [json.loads(e["payload"]) for e in events]  # schema defaults filled in (tbc)
    assert [{key: value for key, value in e.items() if key in payload} for e in kept] == [payload]


async def test_reported_charging_profiles_are_kept_as_the_stations(
    csms_app: CsmsApp, booted: Station
) -> None:
    def profile(number: int, level: int) -> dict[str, object]:
        return {"id": number, "stackLevel": level, "chargingProfilePurpose": "TxDefaultProfile",
                "chargingProfileKind": "Absolute", "chargingSchedule": [{
                    "id": number, "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}]}]}  # fmt: skip

    for evse, profiles, tbc in (
        (1, [profile(1, 0), profile(2, 1)], True),
        (2, [profile(3, 0)], False),
    ):
        part = {"requestId": 6, "chargingLimitSource": "CSO", "evseId": evse,
                "chargingProfile": profiles, "tbc": tbc}  # fmt: skip
        assert await booted.result("ReportChargingProfiles", part) == {}
    kept = await csms_app.services.charging_profiles.find("CS-1")
    assert [(p["connector_id"], p["profile_id"], p["stack_level"]) for p in kept] == [
        (1, 2, 1),  # the highest level first
        (1, 1, 0),
        (2, 3, 0),
    ]
    assert json.loads(kept[2]["profile"]) == profile(3, 0)


async def test_firmware_status_is_the_stations_current_one(
    csms_app: CsmsApp, booted: Station
) -> None:
    await booted.result("FirmwareStatusNotification", {"status": "Installed", "requestId": 3})
    row = await csms_app.services.chargers.get("CS-1")
    assert row is not None and row["firmware_status"] == "Installed"


async def test_data_transfer_is_never_a_call_error(csms_app: CsmsApp, booted: Station) -> None:
    known = csms_app.config.vendor_ids[0]
    answers = [
        await booted.result("DataTransfer", {"vendorId": "acme"}),
        await booted.result("DataTransfer", {"vendorId": known, "messageId": "Hello"}),
        await booted.result("DataTransfer", {"vendorId": known, "data": {"x": 1}}),
    ]
    statuses = [answer["status"] for answer in answers]
    assert statuses == ["UnknownVendorId", "UnknownMessageId", "Rejected"]
    events = await csms_app.services.chargers.events("CS-1", "DataTransfer")
    assert [e["detail"] for e in events] == statuses


async def test_reservation_status_updates_end_reservations(
    csms_app: CsmsApp, booted: Station
) -> None:
    reservations = csms_app.services.reservations
    await reservations.put("CS-1", 11, 1, "CARD", "2099-01-01T00:00:00.000Z")
    await reservations.put("CS-1", 12, 1, "CARD", "2099-01-01T00:00:00.000Z")
    for number, status in ((11, "Expired"), (12, "Removed")):
        update = {"reservationId": number, "reservationUpdateStatus": status}
        assert await booted.result("ReservationStatusUpdate", update) == {}
    found = {r["reservation_id"]: r["status"] for r in await reservations.find("CS-1")}
    assert found == {11: "Expired", 12: "Cancelled"}
