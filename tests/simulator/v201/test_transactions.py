"""The 2.0.1 station's boot, statuses and transactions, seen from an independent CSMS."""

from __future__ import annotations

import asyncio
from typing import Any

from ocpp.v201 import call

from simulator import EvseSpec
from simulator.v201 import Behaviour201

from ...conftest import eventually
from ..conftest import MiniCsms
from .conftest import StartStation


def events(csms: MiniCsms, cp_id: str) -> list[dict[str, Any]]:
    return csms.payloads("TransactionEvent", cp_id)


def summary(payloads: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    return [(p["eventType"], p["triggerReason"], p["seqNo"]) for p in payloads]


async def test_boot_reports_reason_and_every_connector(
    csms: MiniCsms, start_station: StartStation
) -> None:
    await start_station("CS-BOOT", evses=[EvseSpec(2), EvseSpec(1)], serial_number="SN-1")
    boot = csms.payloads("BootNotification", "CS-BOOT")[0]
    assert boot["reason"] == "PowerUp"
    assert boot["chargingStation"] == {
        "model": "SimCharger",
        "vendorName": "ocpp-bench",
        "firmwareVersion": "1.0.0",
        "serialNumber": "SN-1",
    }
    await csms.wait_for("StatusNotification", lambda p: p["evseId"] == 2)
    statuses = [
        (p["evseId"], p["connectorId"], p["connectorStatus"])
        for p in csms.payloads("StatusNotification", "CS-BOOT")
    ]
    assert statuses == [(1, 1, "Available"), (1, 2, "Available"), (2, 1, "Available")]


async def test_pending_boot_is_retried_after_its_interval(
    csms: MiniCsms, start_station: StartStation
) -> None:
    csms.boot_status = ["Pending", "Rejected", "Accepted"]
    csms.boot_interval = 10
    cp = await start_station("CS-PEND", boot=False, time_scale=0.01)
    await cp.start(timeout=5)
    assert len(csms.payloads("BootNotification", "CS-PEND")) == 3
    first = csms.received.index(next(r for r in csms.received if r.action == "BootNotification"))
    assert all(r.action == "BootNotification" for r in csms.received[first : first + 3])


async def test_a_session_is_started_updated_and_ended_with_its_own_seq_nos(
    csms: MiniCsms, start_station: StartStation
) -> None:
    cp = await start_station("CS-TX")
    await cp.plug_in(1)
    info = await cp.present_tag(1, "TAG-1")
    assert info["status"] == "Accepted"
    authorize = await csms.wait_for("Authorize")
    assert authorize["idToken"] == {"idToken": "TAG-1", "type": "ISO14443"}
    await cp.suspend(1, "EV")
    await cp.resume(1)
    await cp.present_tag(1, "TAG-1")  # the same token again: stop
    await cp.unplug(1)
    first = events(csms, "CS-TX")
    assert summary(first) == [
        ("Started", "Authorized", 0),
        ("Updated", "ChargingStateChanged", 1),
        ("Updated", "ChargingStateChanged", 2),
        ("Ended", "StopAuthorized", 3),
    ]
    started, ended = first[0], first[-1]
    assert started["idToken"]["idToken"] == "TAG-1"
    assert started["evse"] == {"id": 1, "connectorId": 1}
    assert started["transactionInfo"]["chargingState"] == "Charging"
    assert started["meterValue"][0]["sampledValue"][0]["context"] == "Transaction.Begin"
    assert [e["transactionInfo"]["chargingState"] for e in first[1:3]] == [
        "SuspendedEV",
        "Charging",
    ]
    assert ended["transactionInfo"]["stoppedReason"] == "Local"
    assert ended["meterValue"][-1]["sampledValue"][0]["context"] == "Transaction.End"
    assert ended.get("offline", False) is False  # online: the schema's default, or said so
    assert {e["transactionInfo"]["transactionId"] for e in first} == {
        started["transactionInfo"]["transactionId"]
    }
    await cp.plug_in(1)
    await cp.present_tag(1, "ISO15693:TAG-2")
    await cp.stop_charging(1)
    second = events(csms, "CS-TX")[len(first) :]
    assert summary(second) == [("Started", "Authorized", 0), ("Ended", "StopAuthorized", 1)]
    assert second[0]["idToken"] == {"idToken": "TAG-2", "type": "ISO15693"}
    statuses = [p["connectorStatus"] for p in csms.payloads("StatusNotification", "CS-TX")]
    assert statuses == ["Available", "Occupied", "Available", "Occupied"]


async def test_transaction_starting_at_the_cable_and_ending_at_it(
    csms: MiniCsms, start_station: StartStation
) -> None:
    cp = await start_station(
        "CS-EVC",
        configuration={"TxCtrlr.TxStartPoint": "EVConnected", "TxCtrlr.TxStopPoint": "EVConnected"},
    )
    await cp.plug_in(1)
    await cp.present_tag(1, "T")
    await cp.present_tag(1, "T")  # deauthorized: charging stops, the transaction goes on
    await cp.unplug(1)
    got = events(csms, "CS-EVC")
    assert summary(got) == [
        ("Started", "CablePluggedIn", 0),
        ("Updated", "Authorized", 1),
        ("Updated", "StopAuthorized", 2),
        ("Ended", "EVCommunicationLost", 3),
    ]
    assert "idToken" not in got[0] and got[1]["idToken"]["idToken"] == "T"
    assert got[0]["transactionInfo"]["chargingState"] == "EVConnected"
    assert got[2]["transactionInfo"]["chargingState"] == "EVConnected"
    assert got[3]["transactionInfo"]["stoppedReason"] == "Local"


async def test_the_ev_side_lost_deauthorizes_and_ends_at_an_authorized_stop_point(
    csms: MiniCsms, start_station: StartStation
) -> None:
    cp = await start_station(
        "CS-EVSIDE",
        configuration={"TxCtrlr.TxStopPoint": "Authorized", "StopTxOnEVSideDisconnect": "true"},
    )
    await cp.plug_in(1)
    await cp.present_tag(1, "T")
    await cp.suspend(1, "EV")
    mark = len(csms.received)
    await cp.unplug(1)
    got = events(csms, "CS-EVSIDE")
    assert summary(got) == [
        ("Started", "Authorized", 0),
        ("Updated", "ChargingStateChanged", 1),
        ("Ended", "EVCommunicationLost", 2),
    ]
    info = got[-1]["transactionInfo"]
    assert (info["chargingState"], info["stoppedReason"]) == ("Idle", "EVDisconnected")
    assert cp.transaction(1) is None
    status = await csms.wait_for("StatusNotification", start=mark)
    assert (status["evseId"], status["connectorStatus"]) == (1, "Available")


async def test_invalid_token_starts_nothing(csms: MiniCsms, start_station: StartStation) -> None:
    csms.tags["BAD"] = {"status": "Blocked"}
    cp = await start_station("CS-BAD")
    await cp.plug_in(1)
    info = await cp.present_tag(1, "BAD")
    assert info["status"] == "Blocked"
    assert cp.transaction(1) is None and events(csms, "CS-BAD") == []


async def test_remote_start_with_its_id_and_remote_stop(
    csms: MiniCsms, start_station: StartStation
) -> None:
    cp = await start_station("CS-RS")
    await cp.plug_in(1)
    answer = await csms.call(
        "CS-RS",
        call.RequestStartTransaction(
            id_token={"idToken": "R-1", "type": "Central"}, remote_start_id=42
        ),
    )
    assert answer.status == "Accepted"
    started = await csms.wait_for("TransactionEvent", lambda p: p["eventType"] == "Started")
    assert started["triggerReason"] == "RemoteStart"
    assert started["transactionInfo"]["remoteStartId"] == 42
    assert await csms.wait_for("Authorize")  # AuthorizeRemoteStart is true by default
    tx_id = started["transactionInfo"]["transactionId"]
    running = cp.transaction(1)
    assert running is not None and running.transaction_id == tx_id
    status = await csms.call("CS-RS", call.GetTransactionStatus(transaction_id=tx_id))
    assert status.ongoing_indicator is True
    busy = await csms.call(
        "CS-RS",
        call.RequestStartTransaction(
            id_token={"idToken": "R-2", "type": "Central"}, remote_start_id=43
        ),
    )
    assert busy.status == "Rejected"  # the only EVSE is in use
    assert (
        await csms.call("CS-RS", call.RequestStopTransaction(transaction_id="nope"))
    ).status == "Rejected"
    stop = await csms.call("CS-RS", call.RequestStopTransaction(transaction_id=tx_id))
    assert stop.status == "Accepted"
    ended = await csms.wait_for("TransactionEvent", lambda p: p["eventType"] == "Ended")
    assert ended["triggerReason"] == "RemoteStop"
    assert ended["transactionInfo"]["stoppedReason"] == "Remote"
    done = await csms.call("CS-RS", call.GetTransactionStatus(transaction_id=tx_id))
    assert done.ongoing_indicator is False


async def test_remote_start_waits_for_the_cable_then_times_out(
    csms: MiniCsms, start_station: StartStation
) -> None:
    cp = await start_station(
        "CS-TO",
        time_scale=0.01,
        configuration={"TxCtrlr.TxStartPoint": "Authorized", "ConnectionTimeOut": "20"},
    )
    answer = await csms.call(
        "CS-TO",
        call.RequestStartTransaction(
            id_token={"idToken": "R", "type": "Central"}, remote_start_id=1
        ),
    )
    assert answer.status == "Accepted"
    ended = await csms.wait_for("TransactionEvent", lambda p: p["eventType"] == "Ended", timeout=3)
    assert summary(events(csms, "CS-TO")) == [
        ("Started", "RemoteStart", 0),
        ("Ended", "EVConnectTimeout", 1),
    ]
    assert ended["transactionInfo"]["stoppedReason"] == "Timeout"
    assert cp.transaction(1) is None


async def test_events_offline_are_queued_flagged_and_delivered_in_order(
    csms: MiniCsms, start_station: StartStation
) -> None:
    cp = await start_station("CS-OFF")
    await cp.plug_in(1)
    await cp.present_tag(1, "T")
    await cp.go_offline()
    await cp.suspend(1, "EVSE")
    await cp.stop_charging(1)
    assert cp.queued == ["TransactionEvent", "TransactionEvent"]
    before = len(events(csms, "CS-OFF"))
    await cp.go_online()
    await csms.wait_for("TransactionEvent", lambda p: p["eventType"] == "Ended")
    late = events(csms, "CS-OFF")[before:]
    assert summary(late) == [
        ("Updated", "ChargingStateChanged", 1),
        ("Ended", "StopAuthorized", 2),
    ]
    assert all(p["offline"] is True for p in late)


async def test_an_event_refused_past_its_attempts_leaves_a_seq_no_gap(
    csms: MiniCsms, start_station: StartStation
) -> None:
    cp = await start_station("CS-GAP", configuration={"TransactionMessageAttempts": "2"})
    await cp.plug_in(1)
    await cp.present_tag(1, "T")
    csms.fail["TransactionEvent"] = 2  # both attempts of the next event
    await cp.suspend(1, "EV")
    await cp.stop_charging(1)
    await csms.wait_for("TransactionEvent", lambda p: p["eventType"] == "Ended")
    delivered = [p["seqNo"] for p in events(csms, "CS-GAP")]
    assert delivered == [0, 1, 1, 2]  # seqNo 1 tried twice, refused: the CSMS sees 0, 2


async def test_meter_values_periodic_and_clock_aligned(
    csms: MiniCsms, start_station: StartStation
) -> None:
    cp = await start_station(
        "CS-MV",
        time_scale=0.01,
        configuration={
            "SampledDataCtrlr.TxUpdatedInterval": "10",
            "SampledDataCtrlr.TxEndedInterval": "10",
            "AlignedDataCtrlr.Interval": "15",
        },
    )
    await csms.wait_for("MeterValues", timeout=3)  # aligned, outside a transaction
    aligned = csms.payloads("MeterValues", "CS-MV")[0]
    assert aligned["evseId"] == 1
    assert aligned["meterValue"][0]["sampledValue"][0]["context"] == "Sample.Clock"
    await cp.plug_in(1)
    await cp.present_tag(1, "T")
    await csms.wait_for("TransactionEvent", lambda p: p["triggerReason"] == "MeterValuePeriodic")
    await csms.wait_for("TransactionEvent", lambda p: p["triggerReason"] == "MeterValueClock")
    await cp.stop_charging(1)
    ended = await csms.wait_for("TransactionEvent", lambda p: p["eventType"] == "Ended")
    contexts = [mv["sampledValue"][0]["context"] for mv in ended["meterValue"]]
    assert contexts[-1] == "Transaction.End" and "Sample.Periodic" in contexts
    periodic = next(p for p in events(csms, "CS-MV") if p["triggerReason"] == "MeterValuePeriodic")
    measurands = {v["measurand"] for v in periodic["meterValue"][0]["sampledValue"]}
    assert measurands == {"Energy.Active.Import.Register", "Power.Active.Import"}
    seq = [p["seqNo"] for p in events(csms, "CS-MV")]
    assert seq == list(range(len(seq)))


async def test_power_loss_ends_the_transaction_after_the_boot(
    csms: MiniCsms, start_station: StartStation
) -> None:
    cp = await start_station("CS-PL")
    await cp.plug_in(1)
    await cp.present_tag(1, "T")
    await cp.power_loss()
    ended = await csms.wait_for("TransactionEvent", lambda p: p["eventType"] == "Ended")
    assert ended["transactionInfo"]["stoppedReason"] == "PowerLoss"
    assert [b["reason"] for b in csms.payloads("BootNotification", "CS-PL")] == [
        "PowerUp",
        "PowerUp",
    ]


async def test_transaction_status_tells_of_events_still_queued(
    csms: MiniCsms, start_station: StartStation
) -> None:
    cp = await start_station("CS-Q", configuration={"TransactionMessageRetryInterval": "30"})
    csms.fail["TransactionEvent"] = 1  # the Started event is refused once: retried in 30 s
    await cp.plug_in(1)
    starting = asyncio.create_task(cp.present_tag(1, "T"))
    started = await csms.wait_for("TransactionEvent")
    tx_id = started["transactionInfo"]["transactionId"]
    status = await csms.call("CS-Q", call.GetTransactionStatus(transaction_id=tx_id))
    assert status.ongoing_indicator is True and status.messages_in_queue is True
    anything = await csms.call("CS-Q", call.GetTransactionStatus())
    assert anything.messages_in_queue is True and anything.ongoing_indicator is None
    other = await csms.call("CS-Q", call.GetTransactionStatus(transaction_id="other"))
    assert other.ongoing_indicator is False and other.messages_in_queue is False
    await cp.go_offline()  # the wait for the delivery ends with the link
    await asyncio.wait_for(starting, 5)
    assert cp.queued == ["TransactionEvent"]


async def test_a_held_queue_keeps_its_events_across_the_reconnect_until_released(
    csms: MiniCsms, start_station: StartStation
) -> None:
    cp = await start_station("CS-HOLD", configuration={"TxCtrlr.TxStopPoint": "EVConnected"})
    await cp.plug_in(1)
    await cp.present_tag(1, "T")
    tx = cp.transaction(1)
    assert tx is not None
    await cp.go_offline()
    await cp.suspend(1, "EV")
    await cp.present_tag(1, "T")  # deauthorized: the transaction waits for the cable
    await cp.unplug(1)
    cp.hold_queue()
    before, mark = len(events(csms, "CS-HOLD")), len(csms.received)
    await cp.go_online()
    status = await csms.call("CS-HOLD", call.GetTransactionStatus(transaction_id=tx.transaction_id))
    assert status.ongoing_indicator is False and status.messages_in_queue is True
    await cp.plug_in(1)
    await cp.present_tag(1, "T")  # online and held: its Started waits behind, the driver not
    second = cp.transaction(1)
    assert second is not None and cp.queued == ["TransactionEvent"] * 4
    cp.release_queue(lambda action, payload: payload["eventType"] == "Ended")
    await csms.wait_for("TransactionEvent", lambda p: p["eventType"] == "Ended")

    async def three_left() -> bool:
        """the others stay held"""
        return cp.queued == ["TransactionEvent"] * 3

    await eventually(three_left)
    status = await csms.call(
        "CS-HOLD", call.GetTransactionStatus(transaction_id=second.transaction_id)
    )
    assert status.ongoing_indicator is True and status.messages_in_queue is True
    cp.release_queue()
    await csms.wait_for("TransactionEvent", lambda p: p["eventType"] == "Started", start=mark)
    late = events(csms, "CS-HOLD")[before:]
    assert summary(late) == [
        ("Ended", "EVCommunicationLost", 3),  # picked: ahead of the two before it
        ("Updated", "ChargingStateChanged", 1),
        ("Updated", "StopAuthorized", 2),
        ("Started", "Authorized", 0),
    ]
    assert [bool(p.get("offline")) for p in late] == [True, True, True, False]

    async def delivered() -> bool:
        """all delivered"""
        return cp.queued == []

    await eventually(delivered)
    status = await csms.call("CS-HOLD", call.GetTransactionStatus())
    assert status.messages_in_queue is False


async def test_parking_bay_occupancy_starts_and_ends_the_transaction(
    csms: MiniCsms, start_station: StartStation
) -> None:
    cp = await start_station(
        "CS-BAY",
        configuration={
            "TxCtrlr.TxStartPoint": "ParkingBayOccupancy",
            "TxCtrlr.TxStopPoint": "ParkingBayOccupancy",
        },
    )
    station = cp.behaviour
    assert isinstance(station, Behaviour201)
    await station.ev_detected(1)
    await cp.plug_in(1)
    await cp.present_tag(1, "T")
    await cp.unplug(1)
    await station.ev_departed(1)
    got = events(csms, "CS-BAY")
    assert summary(got) == [
        ("Started", "EVDetected", 0),
        ("Updated", "CablePluggedIn", 1),
        ("Updated", "Authorized", 2),
        ("Updated", "EVCommunicationLost", 3),
        ("Ended", "EVDeparted", 4),
    ]
    assert [e["transactionInfo"]["chargingState"] for e in got] == [
        "Idle",
        "EVConnected",
        "Charging",
        "Idle",
        "Idle",
    ]
    assert got[-1]["transactionInfo"]["stoppedReason"] == "EVDisconnected"
