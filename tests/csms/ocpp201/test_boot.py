"""BootNotification in 2.0.1: reasons kept, Accepted / Pending / Rejected, and the
SecurityError rule for a station whose boot is not accepted (B01-B03)."""

from __future__ import annotations

import asyncio

from csms import CsmsApp

from .station import Station, boot_request


async def test_an_accepted_boot_keeps_what_the_station_said(
    csms_app: CsmsApp, station: Station
) -> None:
    answer = await station.boot(
        "FirmwareUpdate",
        serialNumber="SN-1",
        firmwareVersion="2.1",
        modem={"iccid": "8931", "imsi": "2620"},
    )
    assert answer["status"] == "Accepted" and answer["interval"] == 60
    assert answer["currentTime"].endswith("Z")
    row = await csms_app.services.chargers.get("CS-1")
    assert row is not None
    said = {k: row[k] for k in ("vendor", "model", "serial_number", "firmware_version", "iccid")}
    assert said == {
        "vendor": "Test",
        "model": "Raw",
        "serial_number": "SN-1",
        "firmware_version": "2.1",
        "iccid": "8931",
    }
    assert row["imsi"] == "2620" and row["boot_accepted"] == 1
    events = await csms_app.services.chargers.events("CS-1", "BootNotification")
    assert [(e["detail"], e["payload"]) for e in events] == [
        ("Accepted", '{"reason":"FirmwareUpdate"}')
    ]


async def test_before_its_boot_a_station_gets_security_errors(station: Station) -> None:
    frame = await station.error("Heartbeat", {})
    assert frame[2] == "SecurityError"
    assert (await station.boot())["status"] == "Accepted"
    assert "currentTime" in await station.result("Heartbeat", {})


async def test_a_pending_station_may_send_what_the_csms_asks_for_only(
    csms_app: CsmsApp,
) -> None:
    await csms_app.services.chargers.register("CS-P", registration="Pending")
    async with await Station.connect(f"{csms_app.ocpp_url}/CS-P") as station:
        answer = await station.boot()
        assert answer["status"] == "Pending" and answer["interval"] == 1
        report = {"requestId": 1, "generatedAt": "2026-12-02T10:00:00Z", "seqNo": 0}
        assert await station.result("NotifyReport", report) == {}
        frame = await station.error("Authorize", {"idToken": {"idToken": "T", "type": "Local"}})
        assert frame[2] == "SecurityError"


async def test_a_rejected_station_may_send_nothing_but_its_boot(csms_app: CsmsApp) -> None:
    await csms_app.services.chargers.register("CS-R", registration="Rejected")
    async with await Station.connect(f"{csms_app.ocpp_url}/CS-R") as station:
        assert (await station.boot())["status"] == "Rejected"
        report = {"requestId": 1, "generatedAt": "2026-12-02T10:00:00Z", "seqNo": 0}
        assert (await station.error("NotifyReport", report))[2] == "SecurityError"
        assert (await station.error("Heartbeat", {}))[2] == "SecurityError"
        again = await station.result("BootNotification", boot_request("ScheduledReset"))
        assert again["status"] == "Rejected"


async def test_a_pending_station_may_send_what_a_trigger_asked_for(csms_app: CsmsApp) -> None:
    await csms_app.services.chargers.register("CS-PT", registration="Pending")
    status = {
        "timestamp": "2026-12-02T10:00:00Z",
        "connectorStatus": "Available",
        "evseId": 1,
        "connectorId": 1,
    }
    async with await Station.connect(f"{csms_app.ocpp_url}/CS-PT") as station:
        assert (await station.boot())["status"] == "Pending"
        # not asked for: refused (B02.FR.09)
        assert (await station.error("StatusNotification", status))[2] == "SecurityError"
        trigger = {"requestedMessage": "StatusNotification"}
        sent = csms_app.operations.send("CS-PT", "TriggerMessage", trigger, 5)
        answered, request = await asyncio.gather(
            sent, station.answer("TriggerMessage", {"status": "Accepted"})
        )
        assert answered == {"status": "Accepted"} and request == trigger
        assert await station.result("StatusNotification", status) == {}
        assert (await station.error("Heartbeat", {}))[2] == "SecurityError"
