"""TransactionEvent: the station's string ids beside the CSMS's numbers, retries applied once,
seqNo gaps recorded, offline events accepted late, meter values kept as samples."""

from __future__ import annotations

import json
from typing import Any

from csms import CsmsApp
from csms.api import views
from csms.services.energy import energy_delivered

from .station import Station, energy, event, token

LATER = "2026-12-02T10:30:00Z"


async def record(app: CsmsApp, station_id: str = "TX-1") -> dict[str, Any]:
    row = await app.services.db.fetch_one(
        "SELECT * FROM transactions WHERE station_transaction_id = ?", (station_id,)
    )
    assert row is not None, f"no record of {station_id}"
    return row


async def test_a_transaction_with_a_token_of_another_type_is_not_authorized(
    csms_app: CsmsApp, booted: Station
) -> None:
    await csms_app.services.tags.upsert("BADGE", token_type="ISO14443")
    wrong = event("Started", 0, idToken=token("BADGE", "KeyCode"), meterValue=energy(10))
    answer = await booted.result("TransactionEvent", wrong)
    assert answer == {"idTokenInfo": {"status": "Invalid"}}
    row = await record(csms_app)
    assert row["auth_status"] == "Invalid"


async def test_a_whole_transaction(csms_app: CsmsApp, booted: Station) -> None:
    await csms_app.services.tags.upsert("GROUP")
    await csms_app.services.tags.upsert("CARD", parent_id_tag="GROUP")
    started = event(
        "Started",
        0,
        idToken=token("CARD"),
        meterValue=energy(1000),
        info={"chargingState": "EVConnected", "remoteStartId": 9},
    )
    answer = await booted.result("TransactionEvent", started)
    group = {"idToken": "GROUP", "type": "Central"}
    assert answer == {"idTokenInfo": {"status": "Accepted", "groupIdToken": group}}
    updated = event(
        "Updated",
        1,
        trigger="MeterValuePeriodic",
        meterValue=energy(1600, LATER),
        info={"chargingState": "Charging"},
    )
    assert await booted.result("TransactionEvent", updated) == {}
    row = await record(csms_app)
    assert (row["status"], row["charging_state"], row["id_tag"]) == ("Active", "Charging", "CARD")
    assert (row["evse_id"], row["connector_id"], row["remote_start_id"]) == (1, 1, 9)
    ended = event(
        "Ended",
        2,
        trigger="StopAuthorized",
        timestamp=LATER,
        idToken=token("CARD"),
        meterValue=energy(2.5, LATER, unit="kWh"),
        info={"stoppedReason": "Local", "chargingState": "Idle"},
    )
    assert (await booted.result("TransactionEvent", ended))["idTokenInfo"]["status"] == "Accepted"
    row = await record(csms_app)
    assert (row["status"], row["stop_reason"], row["stop_timestamp"]) == (
        "Completed",
        "Local",
        LATER,
    )
    assert (row["meter_start"], row["meter_stop"]) == (1000, 2500)
    assert energy_delivered(row, None) == 1500.0
    samples = await csms_app.services.transactions.samples(int(row["id"]))
    assert [(s["value"], s["source"]) for s in samples] == [
        ("1000", "TransactionEvent"),
        ("1600", "TransactionEvent"),
        ("2.5", "TransactionEvent"),
    ]
    assert await csms_app.services.transactions.missing_events(int(row["id"])) == []


async def test_a_retried_event_is_applied_once(csms_app: CsmsApp, booted: Station) -> None:
    await csms_app.services.tags.upsert("CARD")
    started = event("Started", 0, idToken=token("CARD"), meterValue=energy(10))
    first = await booted.result("TransactionEvent", started)
    again = await booted.result("TransactionEvent", started)  # its answer was lost, say
    assert first == again == {"idTokenInfo": {"status": "Accepted"}}
    rows = await csms_app.services.db.fetch_all("SELECT id FROM transactions")
    assert len(rows) == 1
    samples = await csms_app.services.db.fetch_all("SELECT * FROM meter_values")
    assert len(samples) == 1
    events = await csms_app.services.db.fetch_all("SELECT * FROM transaction_events")
    assert len(events) == 1


async def test_a_token_in_another_transaction_is_concurrent(
    csms_app: CsmsApp, booted: Station
) -> None:
    await csms_app.services.tags.upsert("CARD")
    await booted.result("TransactionEvent", event("Started", 0, "TX-A", idToken=token("CARD")))
    other = event("Started", 0, "TX-B", idToken=token("CARD"), evse={"id": 2, "connectorId": 1})
    answer = await booted.result("TransactionEvent", other)
    assert answer["idTokenInfo"]["status"] == "ConcurrentTx"


async def test_seq_no_gaps_are_recorded_and_filled_late(csms_app: CsmsApp, booted: Station) -> None:
    await booted.result("TransactionEvent", event("Started", 0, trigger="CablePluggedIn"))
    await booted.result("TransactionEvent", event("Updated", 3, trigger="ChargingStateChanged"))
    row = await record(csms_app)
    transactions = csms_app.services.transactions
    assert await transactions.missing_events(int(row["id"])) == [1, 2]
    anomalies = await csms_app.services.chargers.events("CS-1", "Anomaly")
    assert [json.loads(a["payload"])["data"] for a in anomalies] == [{"missingSeqNos": [1, 2]}]
    late = event("Updated", 1, trigger="MeterValuePeriodic", offline=True)
    await booted.result("TransactionEvent", late)
    assert await transactions.missing_events(int(row["id"])) == [2]
    assert len(await csms_app.services.chargers.events("CS-1", "Anomaly")) == 1
    assert (await record(csms_app))["last_seq_no"] == 3


async def test_offline_events_come_late_and_out_of_order(
    csms_app: CsmsApp, booted: Station
) -> None:
    """The Ended event came first (the station queued the others): the record is closed and
    stays so, and the late Started event gives it its start."""
    ended = event(
        "Ended",
        2,
        "TX-OFF",
        trigger="EVCommunicationLost",
        timestamp=LATER,
        offline=True,
        meterValue=energy(900, LATER),
        info={"stoppedReason": "EVDisconnected"},
    )
    assert await booted.result("TransactionEvent", ended) == {}
    started = event(
        "Started", 0, "TX-OFF", trigger="CablePluggedIn", offline=True, meterValue=energy(100)
    )
    await booted.result("TransactionEvent", started)
    await booted.result("TransactionEvent", event("Updated", 1, "TX-OFF", offline=True))
    row = await record(csms_app, "TX-OFF")
    assert row["status"] == "Completed" and row["stop_reason"] == "EVDisconnected"
    assert (row["meter_start"], row["meter_stop"], row["start_timestamp"]) == (
        100,
        900,
        "2026-12-02T10:00:00Z",
    )
    assert row["last_seq_no"] == 2
    assert await csms_app.services.transactions.missing_events(int(row["id"])) == []


async def test_station_ids_are_per_station(csms_app: CsmsApp, booted: Station) -> None:
    await csms_app.services.chargers.register("CS-2")
    async with await Station.connect(f"{csms_app.ocpp_url}/CS-2") as other:
        await other.boot()
        await other.result("TransactionEvent", event("Started", 0, "SAME"))
    await booted.result("TransactionEvent", event("Started", 0, "SAME"))
    rows = await csms_app.services.db.fetch_all(
        "SELECT id, charger_id FROM transactions WHERE station_transaction_id = 'SAME'"
    )
    assert sorted(r["charger_id"] for r in rows) == ["CS-1", "CS-2"]
    assert len({r["id"] for r in rows}) == 2


async def test_a_start_without_a_reading_takes_the_first_that_comes(
    csms_app: CsmsApp, booted: Station
) -> None:
    await booted.result("TransactionEvent", event("Started", 0, "TX-Q", trigger="EVDetected"))
    periodic = event("Updated", 1, "TX-Q", trigger="MeterValuePeriodic", meterValue=energy(7000))
    await booted.result("TransactionEvent", periodic)
    later = event("Updated", 2, "TX-Q", trigger="MeterValuePeriodic", meterValue=energy(7400))
    await booted.result("TransactionEvent", later)
    ended = event("Ended", 3, "TX-Q", meterValue=energy(7500), info={"stoppedReason": "Local"})
    await booted.result("TransactionEvent", ended)
    row = await record(csms_app, "TX-Q")
    assert (row["meter_start"], row["meter_stop"]) == (7000, 7500)
    assert energy_delivered(row, None) == 500.0


async def test_a_start_without_a_token_takes_the_first_token_shown(
    csms_app: CsmsApp, booted: Station
) -> None:
    """TxStartPoint EVConnected: the transaction starts with no token (idTag null in the API);
    the token presented later becomes its idTag, and the answer carries the verdict on it."""
    await csms_app.services.tags.upsert("CARD")
    plugged = event("Started", 0, "TX-P", trigger="CablePluggedIn")
    assert await booted.result("TransactionEvent", plugged) == {}
    row = await record(csms_app, "TX-P")
    assert views.transaction(row, None)["idTag"] is None
    shown = event("Updated", 1, "TX-P", idToken=token("CARD"))
    answer = await booted.result("TransactionEvent", shown)
    assert answer == {"idTokenInfo": {"status": "Accepted"}}
    row = await record(csms_app, "TX-P")
    assert (row["id_tag"], row["auth_status"]) == ("CARD", "Accepted")
    assert views.transaction(row, None)["idTag"] == "CARD"
