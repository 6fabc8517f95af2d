"""Every charge-point-initiated 1.6 message: the answer and what was stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from csms import CsmsApp
from tests.conftest import eventually

from .client import RawClient

NOW = "2026-11-24T10:00:00Z"


async def booted(client: RawClient) -> RawClient:
    assert (await client.boot())["status"] == "Accepted"
    return client


async def test_calls_before_boot_get_security_error(client: RawClient) -> None:
    frame = await client.call("Heartbeat", {})
    assert frame[0] == 4 and frame[2] == "SecurityError"
    await booted(client)
    assert "currentTime" in await client.result("Heartbeat", {})


async def test_boot_stores_every_field(csms_app: CsmsApp, client: RawClient) -> None:
    payload = {
        "chargePointVendor": "Vendor",
        "chargePointModel": "Model",
        "chargePointSerialNumber": "CPSN",
        "chargeBoxSerialNumber": "CBSN",
        "firmwareVersion": "1.2.3",
        "iccid": "ICCID",
        "imsi": "IMSI",
        "meterType": "MT",
        "meterSerialNumber": "MSN",
    }
    result = await client.result("BootNotification", payload)
    assert result["status"] == "Accepted"
    assert result["interval"] == csms_app.config.heartbeat_interval
    datetime.fromisoformat(result["currentTime"].replace("Z", "+00:00"))
    row = await csms_app.services.chargers.store.get("CP-1")
    assert row is not None
    assert (row["vendor"], row["model"], row["serial_number"], row["charge_box_serial"]) == (
        "Vendor",
        "Model",
        "CPSN",
        "CBSN",
    )
    assert (row["firmware_version"], row["iccid"], row["imsi"]) == ("1.2.3", "ICCID", "IMSI")
    assert (row["meter_type"], row["meter_serial"]) == ("MT", "MSN")
    assert row["boot_accepted"] == 1 and row["last_boot_at"]


@pytest.mark.parametrize("registration", ["Pending", "Rejected"])
async def test_pending_or_rejected_boot_gets_retry_interval(
    csms_app: CsmsApp, registration: str
) -> None:
    await csms_app.services.chargers.register("CP-P", registration=registration)
    async with await RawClient.open(f"{csms_app.ocpp_url}/CP-P") as client:
        result = await client.boot()
        assert result["status"] == registration
        assert result["interval"] == csms_app.config.boot_retry_interval
        frame = await client.call("StatusNotification", status(1, "Available"))
        assert frame[2] == "SecurityError"


async def test_accepted_registration_remembered_across_reconnect(
    csms_app: CsmsApp, client: RawClient
) -> None:
    await booted(client)
    await client.close()
    async with await RawClient.open(f"{csms_app.ocpp_url}/CP-1") as again:
        assert "currentTime" in await again.result("Heartbeat", {})


def status(connector: int, state: str, error: str = "NoError", **extra: str) -> dict[str, object]:
    return {"connectorId": connector, "status": state, "errorCode": error, **extra}


async def test_status_notification_creates_and_updates_connectors(
    csms_app: CsmsApp, client: RawClient
) -> None:
    await booted(client)
    for connector in (0, 1, 2):
        assert await client.result("StatusNotification", status(connector, "Available")) == {}
    faulted = status(
        2, "Faulted", "ConnectorLockFailure", info="lock", vendorId="V", vendorErrorCode="E7"
    )
    await client.result("StatusNotification", {**faulted, "timestamp": NOW})
    rows = await csms_app.services.chargers.store.connectors("CP-1")
    assert [(r["connector_id"], r["status"]) for r in rows] == [
        (0, "Available"),
        (1, "Available"),
        (2, "Faulted"),
    ]
    assert (rows[2]["error_code"], rows[2]["info"], rows[2]["vendor_id"]) == (
        "ConnectorLockFailure",
        "lock",
        "V",
    )
    assert (rows[2]["vendor_error_code"], rows[2]["status_timestamp"]) == ("E7", NOW)


class TestAuthorize:
    async def test_five_statuses(self, csms_app: CsmsApp, client: RawClient) -> None:
        tags = csms_app.services.tags
        past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
        future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
        await tags.upsert("OK", expiry_date=future, parent_id_tag="PARENT")
        await tags.upsert("BLOCKED", status="Blocked")
        await tags.upsert("OLD", expiry_date=past)
        await tags.upsert("MARKED-EXPIRED", status="Expired")
        await tags.upsert("BUSY")
        await booted(client)
        start = {"connectorId": 1, "idTag": "BUSY", "meterStart": 0, "timestamp": NOW}
        await client.result("StartTransaction", start)

        async def verdict(tag: str) -> dict[str, str]:
            info: dict[str, str] = (await client.result("Authorize", {"idTag": tag}))["idTagInfo"]
            return info

        assert await verdict("OK") == {
            "status": "Accepted",
            "expiryDate": future,
            "parentIdTag": "PARENT",
        }
        assert (await verdict("BLOCKED"))["status"] == "Blocked"
        assert (await verdict("OLD"))["status"] == "Expired"
        assert (await verdict("MARKED-EXPIRED"))["status"] == "Expired"
        assert (await verdict("UNKNOWN"))["status"] == "Invalid"
        # ConcurrentTx is "only relevant for a StartTransaction.req" (OCPP 1.6 §7.2):
        # Authorize answers the tag's own status, the second start gets ConcurrentTx.
        assert (await verdict("BUSY"))["status"] == "Accepted"
        again = await client.result("StartTransaction", {**start, "connectorId": 2})
        assert again["idTagInfo"]["status"] == "ConcurrentTx"


async def test_full_session_is_stored(csms_app: CsmsApp, client: RawClient) -> None:
    await csms_app.services.tags.upsert("TAG")
    await booted(client)
    await client.result("StatusNotification", status(1, "Preparing"))
    assert (await client.result("Authorize", {"idTag": "TAG"}))["idTagInfo"]["status"] == (
        "Accepted"
    )
    started = await client.result(
        "StartTransaction",
        {
            "connectorId": 1,
            "idTag": "TAG",
            "meterStart": 1000,
            "timestamp": NOW,
            "reservationId": 7,
        },
    )
    tx = started["transactionId"]
    assert isinstance(tx, int) and started["idTagInfo"]["status"] == "Accepted"
    await client.result("StatusNotification", status(1, "Charging"))
    sample = {
        "value": "1500",
        "measurand": "Energy.Active.Import.Register",
        "unit": "Wh",
        "phase": "L1",
        "location": "Outlet",
        "context": "Sample.Periodic",
        "format": "Raw",
    }
    await client.result(
        "MeterValues",
        {
            "connectorId": 1,
            "transactionId": tx,
            "meterValue": [
                {
                    "timestamp": NOW,
                    "sampledValue": [
                        sample,
                        {"value": "7.2", "measurand": "Power.Active.Import", "unit": "kW"},
                    ],
                }
            ],
        },
    )
    stopped = await client.result(
        "StopTransaction",
        {
            "transactionId": tx,
            "meterStop": 2500,
            "timestamp": "2026-11-24T11:00:00Z",
            "idTag": "TAG",
            "reason": "EVDisconnected",
            "transactionData": [
                {
                    "timestamp": "2026-11-24T11:00:00Z",
                    "sampledValue": [{"value": "2500", "context": "Transaction.End"}],
                }
            ],
        },
    )
    assert stopped["idTagInfo"]["status"] == "Accepted"

    row = await csms_app.services.transactions.transactions.get(tx)
    assert row is not None
    assert (row["charger_id"], row["connector_id"], row["id_tag"], row["status"]) == (
        "CP-1",
        1,
        "TAG",
        "Completed",
    )
    assert (row["meter_start"], row["meter_stop"], row["reservation_id"]) == (1000, 2500, 7)
    assert (row["stop_reason"], row["stop_id_tag"]) == ("EVDisconnected", "TAG")
    values = await csms_app.services.transactions.transactions.meter_values(tx)
    assert [(v["value"], v["measurand"], v["source"]) for v in values] == [
        ("1500", "Energy.Active.Import.Register", "MeterValues"),
        ("7.2", "Power.Active.Import", "MeterValues"),
        ("2500", "Energy.Active.Import.Register", "StopTransaction"),
    ]
    first = values[0]
    assert (
        first["unit"],
        first["phase"],
        first["location"],
        first["context"],
        first["format"],
    ) == ("Wh", "L1", "Outlet", "Sample.Periodic", "Raw")
    # The tag is free again.
    assert (await client.result("Authorize", {"idTag": "TAG"}))["idTagInfo"]["status"] == (
        "Accepted"
    )

    log = await csms_app.services.log.query("CP-1")
    actions = [(r["direction"], r["message_type"], r["action"]) for r in log]
    assert actions[:2] == [("in", 2, "BootNotification"), ("out", 3, "BootNotification")]
    assert ("in", 2, "StartTransaction") in actions and ("out", 3, "StopTransaction") in actions
    assert len(log) == 16
    start_rows = [r for r in log if r["action"] == "StartTransaction"]
    assert [r["transaction_id"] for r in start_rows] == [tx, tx]
    assert all(
        r["transaction_id"] == tx for r in log if r["action"] in ("MeterValues", "StopTransaction")
    )
    assert all(r["message_id"] and r["payload"] and r["timestamp"] for r in log)


async def test_start_with_rejected_tag_is_answered_and_recorded(
    csms_app: CsmsApp, client: RawClient
) -> None:
    await booted(client)
    result = await client.result(
        "StartTransaction", {"connectorId": 1, "idTag": "NOPE", "meterStart": 0, "timestamp": NOW}
    )
    assert result["idTagInfo"]["status"] == "Invalid"
    row = await csms_app.services.transactions.transactions.get(result["transactionId"])
    assert row is not None and row["auth_status"] == "Invalid"


async def test_transaction_ids_are_unique(client: RawClient) -> None:
    await booted(client)
    ids = set()
    for n in range(5):
        result = await client.result(
            "StartTransaction",
            {"connectorId": 1, "idTag": f"T{n}", "meterStart": 0, "timestamp": NOW},
        )
        ids.add(result["transactionId"])
    assert len(ids) == 5


async def test_stop_for_unknown_transaction_is_answered_and_recorded(
    csms_app: CsmsApp, client: RawClient
) -> None:
    await booted(client)
    result = await client.result(
        "StopTransaction", {"transactionId": 99999, "meterStop": 10, "timestamp": NOW}
    )
    assert result == {}
    events = await csms_app.services.chargers.store.events("CP-1", "Anomaly")
    assert [e["detail"] for e in events] == ["stop for an unknown transaction"]


async def test_data_transfer_known_and_unknown_vendor(csms_app: CsmsApp, client: RawClient) -> None:
    await booted(client)
    known = await client.result("DataTransfer", {"vendorId": "ocpp-bench", "data": "x"})
    unknown = await client.result("DataTransfer", {"vendorId": "acme", "messageId": "m"})
    assert (known["status"], unknown["status"]) == ("Accepted", "UnknownVendorId")
    events = await csms_app.services.chargers.store.events("CP-1", "DataTransfer")
    assert [e["detail"] for e in events] == ["Accepted", "UnknownVendorId"]


@pytest.mark.parametrize(
    ("action", "payload", "answer"),
    [
        ("DiagnosticsStatusNotification", {"status": "Uploaded"}, {}),
        ("FirmwareStatusNotification", {"status": "Installed"}, {}),
        (
            "SecurityEventNotification",
            {"type": "FirmwareUpdated", "timestamp": NOW, "techInfo": "x"},
            {},
        ),
        ("LogStatusNotification", {"status": "Uploaded", "requestId": 3}, {}),
        ("SignedFirmwareStatusNotification", {"status": "SignatureVerified", "requestId": 4}, {}),
        # recorded even when refused (no CA here, no CSR either: see test_certificates.py)
        ("SignCertificate", {"csr": "-----BEGIN CERTIFICATE REQUEST-----"}, {"status": "Rejected"}),
    ],
)
async def test_notifications_answered_and_recorded(
    csms_app: CsmsApp, client: RawClient, action: str, payload: dict[str, object], answer: object
) -> None:
    await booted(client)
    assert await client.result(action, payload) == answer
    events = await csms_app.services.chargers.store.events("CP-1", action)
    assert len(events) == 1
    row = await csms_app.services.chargers.store.get("CP-1")
    assert row is not None
    if action == "FirmwareStatusNotification":
        assert row["firmware_status"] == "Installed"
    if action == "DiagnosticsStatusNotification":
        assert row["diagnostics_status"] == "Uploaded"


async def test_unknown_action_is_not_implemented(client: RawClient) -> None:
    await booted(client)
    frame = await client.call("MakeCoffee", {})
    assert frame[:3] == [4, frame[1], "NotImplemented"]


async def test_csms_side_action_is_not_supported(client: RawClient) -> None:
    await booted(client)
    frame = await client.call("Reset", {"type": "Hard"})
    assert frame[2] == "NotSupported"


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (
            {"connectorId": "1", "status": "Available", "errorCode": "NoError"},
            "TypeConstraintViolation",
        ),
        ({"connectorId": 1, "status": "Available"}, "OccurenceConstraintViolation"),
        (
            {"connectorId": 1, "status": "Sleeping", "errorCode": "NoError"},
            "PropertyConstraintViolation",
        ),
        (
            {"connectorId": 1, "status": "Available", "errorCode": "NoError", "extra": 1},
            "FormationViolation",
        ),
    ],
)
async def test_schema_violations_get_the_right_error(
    csms_app: CsmsApp, client: RawClient, payload: dict[str, object], code: str
) -> None:
    await booted(client)
    frame = await client.call("StatusNotification", payload)
    assert frame[0] == 4 and frame[2] == code
    assert await csms_app.services.chargers.store.connectors("CP-1") == []
    assert "currentTime" in await client.result("Heartbeat", {})


async def test_disconnect_marks_offline_and_connectors_unavailable(
    csms_app: CsmsApp, client: RawClient
) -> None:
    await booted(client)
    await client.result("StatusNotification", status(1, "Available"))
    row = await csms_app.services.chargers.store.get("CP-1")
    assert row is not None and row["online"] == 1
    await client.close()

    async def offline() -> bool:
        row = await csms_app.services.chargers.store.get("CP-1")
        connectors = await csms_app.services.chargers.store.connectors("CP-1")
        return row is not None and row["online"] == 0 and connectors[0]["status"] == "Unavailable"

    await eventually(offline)


async def test_silent_charger_marked_offline_then_online_again(
    csms_app: CsmsApp, client: RawClient
) -> None:
    csms_app.config.offline_after = 0.3
    await booted(client)
    store = csms_app.services.chargers.store

    async def online_is(value: int) -> bool:
        row = await store.get("CP-1")
        return row is not None and row["online"] == value

    await eventually(lambda: online_is(0))
    await client.result("Heartbeat", {})
    await eventually(lambda: online_is(1))


async def test_meter_values_for_an_unknown_transaction_are_kept_and_flagged_once(
    csms_app: CsmsApp, client: RawClient
) -> None:
    await booted(client)
    for value in ("10", "20", "30"):
        payload = {
            "connectorId": 1,
            "transactionId": 4242,
            "meterValue": [{"timestamp": NOW, "sampledValue": [{"value": value}]}],
        }
        assert await client.result("MeterValues", payload) == {}
    values = await csms_app.services.transactions.transactions.meter_values(4242)
    assert [v["value"] for v in values] == ["10", "20", "30"]
    events = await csms_app.services.chargers.store.events("CP-1", "Anomaly")
    assert [e["detail"] for e in events] == ["meter values for an unknown transaction"]
