"""CSMS-initiated operations: remote start/stop, reset, configuration, availability, unlock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from ocpp.exceptions import NotSupportedError
from ocpp.v16 import call

from simulator import ExpectationFailed, InvalidAction, Outcome, Status

from .conftest import MiniCsms, StartCp


async def test_remote_start_then_remote_stop(csms: MiniCsms, start_cp: StartCp) -> None:
    cp = await start_cp("CP-REMOTE")
    await cp.plug_in(1)
    answer = await csms.call("CP-REMOTE", call.RemoteStartTransaction(id_tag="R1", connector_id=1))
    assert answer.status == "Accepted"
    assert (await csms.wait_for("Authorize"))["idTag"] == "R1"  # AuthorizeRemoteTxRequests
    start = await csms.wait_for("StartTransaction")
    assert start == {**start, "idTag": "R1", "connectorId": 1}
    await cp.wait_status(1, "Charging")
    tx = cp.transaction(1)
    assert tx is not None
    await tx.started.wait()
    answer = await csms.call(
        "CP-REMOTE", call.RemoteStopTransaction(transaction_id=tx.transaction_id)
    )
    assert answer.status == "Accepted"
    stop = await csms.wait_for("StopTransaction")
    assert stop["reason"] == "Remote" and stop["transactionId"] == tx.transaction_id
    await cp.wait_status(1, "Finishing")
    unknown = await csms.call("CP-REMOTE", call.RemoteStopTransaction(transaction_id=999999))
    assert unknown.status == "Rejected"
    # the order on the wire: the answer to RemoteStart went out before Authorize
    kinds = [(e.kind, e.action) for e in cp.transcript]
    assert kinds.index(("CALLRESULT", "RemoteStartTransaction")) < kinds.index(
        ("CALL", "Authorize")
    )


async def test_remote_start_without_authorize_and_cable_later(
    csms: MiniCsms, start_cp: StartCp
) -> None:
    cp = await start_cp("CP-R2", configuration={"AuthorizeRemoteTxRequests": "false"})
    answer = await csms.call("CP-R2", call.RemoteStartTransaction(id_tag="R2"))
    assert answer.status == "Accepted"
    await cp.wait_status(1, "Preparing")
    await cp.plug_in(1)
    await csms.wait_for("StartTransaction")
    assert csms.payloads("Authorize") == []


async def test_remote_start_refused_on_faulted_connector(csms: MiniCsms, start_cp: StartCp) -> None:
    cp = await start_cp("CP-R3")
    await cp.fault(1, "GroundFailure")
    answer = await csms.call("CP-R3", call.RemoteStartTransaction(id_tag="R3", connector_id=1))
    assert answer.status == "Rejected"
    await cp.clear_fault(1)
    assert cp.status(1) == Status.AVAILABLE


@pytest.mark.parametrize(("kind", "reason"), [("Soft", "SoftReset"), ("Hard", "HardReset")])
async def test_reset_stops_transaction_and_boots_again(
    csms: MiniCsms, start_cp: StartCp, kind: str, reason: str
) -> None:
    cp = await start_cp("CP-RESET")
    await cp.plug_in(1)
    await cp.present_tag(1, "T")
    answer = await csms.call("CP-RESET", call.Reset(type=kind))
    assert answer.status == "Accepted"
    stop = await csms.wait_for("StopTransaction")
    assert stop["reason"] == reason
    await csms.wait_connected("CP-RESET", count=2)
    await csms.wait_for(
        "BootNotification", start=[r.action for r in csms.received].index("StopTransaction")
    )
    assert len(csms.payloads("BootNotification")) == 2
    # after the boot every connector is reported again
    boot2 = [i for i, r in enumerate(csms.received) if r.action == "BootNotification"][1]
    await csms.wait_for("StatusNotification", lambda p: p["connectorId"] == 1, start=boot2)


async def test_get_and_change_configuration(csms: MiniCsms, start_cp: StartCp) -> None:
    await start_cp("CP-CFG", custom_keys={"VendorColour": ("blue", False)})
    got = await csms.call(
        "CP-CFG", call.GetConfiguration(key=["HeartbeatInterval", "NoSuchKey", "VendorColour"])
    )
    values = {k["key"]: (k["value"], k["readonly"]) for k in got.configuration_key}
    assert values == {"HeartbeatInterval": ("60", False), "VendorColour": ("blue", False)}
    assert got.unknown_key == ["NoSuchKey"]
    everything = await csms.call("CP-CFG", call.GetConfiguration())
    assert {k["key"] for k in everything.configuration_key} >= {
        "NumberOfConnectors",
        "LocalAuthListEnabled",
    }
    assert "AuthorizationKey" not in {k["key"] for k in everything.configuration_key}

    async def change(key: str, value: str) -> str:
        answer = await csms.call("CP-CFG", call.ChangeConfiguration(key=key, value=value))
        return str(answer.status)

    assert await change("MeterValueSampleInterval", "5") == "Accepted"
    assert await change("NumberOfConnectors", "4") == "Rejected"  # readonly
    assert await change("HeartbeatInterval", "soon") == "Rejected"  # not an integer
    assert (
        await change("MeterValuesSampledData", "Energy.Active.Import.Register,Nonsense")
        == "Rejected"
    )
    assert await change("Bogus", "1") == "NotSupported"
    got = await csms.call("CP-CFG", call.GetConfiguration(key=["MeterValueSampleInterval"]))
    assert got.configuration_key[0]["value"] == "5"


async def test_security_profile_is_reported_as_the_one_in_effect(
    csms: MiniCsms, start_cp: StartCp
) -> None:
    await start_cp("CP-OPEN")
    await start_cp("CP-BASIC", password="pw-0123456789abcdef")
    for identity, profile in (("CP-OPEN", "0"), ("CP-BASIC", "1")):
        got = await csms.call(identity, call.GetConfiguration(key=["SecurityProfile"]))
        assert got.configuration_key == [
            {"key": "SecurityProfile", "readonly": False, "value": profile}
        ], identity


async def test_change_availability_scheduled_during_transaction(
    csms: MiniCsms, start_cp: StartCp
) -> None:
    cp = await start_cp("CP-AV")
    await cp.plug_in(1)
    await cp.present_tag(1, "T")
    answer = await csms.call("CP-AV", call.ChangeAvailability(connector_id=1, type="Inoperative"))
    assert answer.status == "Scheduled"
    assert cp.status(1) == Status.CHARGING
    await cp.stop_charging(1)
    await cp.unplug(1)
    assert cp.status(1) == Status.UNAVAILABLE
    answer = await csms.call("CP-AV", call.ChangeAvailability(connector_id=0, type="Operative"))
    assert answer.status == "Accepted"
    await cp.wait_status(1, "Available")


async def statuses(csms: MiniCsms, identity: str, start: int) -> list[str]:
    """The connector 1 statuses `identity` reported from index `start` of what the CSMS got."""
    return [
        r.payload["status"]
        for r in csms.received[start:]
        if r.cp_id == identity and r.action == "StatusNotification" and r.payload["connectorId"]
    ]


async def test_inoperative_while_preparing_is_accepted_via_available(
    csms: MiniCsms, start_cp: StartCp
) -> None:
    """OCPP 1.6 5.2: Scheduled only while a transaction is in progress; Preparing has none, so
    Accepted. 4.9 has no Preparing -> Unavailable: B1 (Available), then A8 (Unavailable)."""
    for how in ("cable", "tag"):
        identity = f"CP-PREP-{how}"
        cp = await start_cp(identity)
        if how == "cable":
            await cp.plug_in(1)
        else:
            await cp.present_tag(1, "T-WAIT")  # authorized, waiting for the cable
        assert cp.status(1) == Status.PREPARING
        start = len(csms.received)
        answer = await csms.call(
            identity, call.ChangeAvailability(connector_id=1, type="Inoperative")
        )
        assert answer.status == "Accepted"
        await csms.wait_for(
            "StatusNotification", lambda p: p["status"] == "Unavailable", start=start
        )
        assert await statuses(csms, identity, start) == ["Available", "Unavailable"]
        assert cp.failures == []
        with pytest.raises(InvalidAction):  # out of service: no session starts
            await cp.present_tag(1, "T-OTHER")
        if how == "tag":  # the pending authorization went with the session
            await cp.plug_in(1)
            assert cp.transaction(1) is None
        start = len(csms.received)
        answer = await csms.call(
            identity, call.ChangeAvailability(connector_id=1, type="Operative")
        )
        assert answer.status == "Accepted"
        await cp.wait_status(1, "Preparing")  # H2: the cable is still in
        await cp.present_tag(1, "T-NEXT")
        assert cp.status(1) == Status.CHARGING
        assert cp.failures == []


async def test_inoperative_ends_a_reservation_and_the_finishing_phase(
    csms: MiniCsms, start_cp: StartCp
) -> None:
    """5.13: a reservation is terminated when its connector is set Unavailable (G8); Finishing
    goes Unavailable (F8) and, made operative with the cable still in, Preparing (H2)."""
    cp = await start_cp("CP-RES-AV")
    expiry = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    reserved = await csms.call(
        "CP-RES-AV",
        call.ReserveNow(connector_id=1, expiry_date=expiry, id_tag="T-RES", reservation_id=7),
    )
    assert reserved.status == "Accepted"
    await cp.wait_status(1, "Reserved")
    for kind in ("Inoperative", "Operative"):
        answer = await csms.call("CP-RES-AV", call.ChangeAvailability(connector_id=1, type=kind))
        assert answer.status == "Accepted"
        await cp.wait_status(1, "Unavailable" if kind == "Inoperative" else "Available")
    assert cp.connector(1).reservation is None
    cancel = await csms.call("CP-RES-AV", call.CancelReservation(reservation_id=7))
    assert cancel.status == "Rejected"

    await cp.plug_in(1)
    await cp.present_tag(1, "T-FIN")
    await cp.stop_charging(1)
    assert cp.status(1) == Status.FINISHING
    for kind, status in (("Inoperative", "Unavailable"), ("Operative", "Preparing")):
        answer = await csms.call("CP-RES-AV", call.ChangeAvailability(connector_id=1, type=kind))
        assert answer.status == "Accepted"
        await cp.wait_status(1, status)
    assert cp.failures == []


async def test_unlock_connector_ends_transaction(csms: MiniCsms, start_cp: StartCp) -> None:
    cp = await start_cp("CP-UNLOCK")
    await cp.plug_in(1)
    await cp.present_tag(1, "T")
    answer = await csms.call("CP-UNLOCK", call.UnlockConnector(connector_id=1))
    assert answer.status == "Unlocked"
    stop = await csms.wait_for("StopTransaction")
    assert stop["reason"] == "UnlockCommand"


async def test_outcomes_and_held_calls(csms: MiniCsms, start_cp: StartCp) -> None:
    cp = await start_cp("CP-OUT")
    cp.set_outcome("Reset", Outcome.reject(times=1))
    assert (await csms.call("CP-OUT", call.Reset(type="Soft"))).status == "Rejected"
    assert len(csms.payloads("BootNotification")) == 1  # no reboot followed
    cp.set_outcome("ClearCache", Outcome.not_supported())
    with pytest.raises(NotSupportedError):
        await csms.call("CP-OUT", call.ClearCache())
    cp.set_outcome("ClearCache", None)
    assert (await csms.call("CP-OUT", call.ClearCache())).status == "Accepted"
    refused = await cp.expect_call("ClearCache", timeout=1)  # calls are kept until claimed
    assert refused.error is not None and refused.error.code == "NotSupported"
    seen = await cp.expect_call("ClearCache", timeout=1)
    assert seen.response == {"status": "Accepted"}

    waiter = cp.expect("DataTransfer", hold=True)
    import asyncio

    pending = asyncio.create_task(
        csms.call("CP-OUT", call.DataTransfer(vendor_id="acme", data="ping"))
    )
    held = await waiter.wait(2)
    assert held.payload["data"] == "ping"
    await held.answer({"status": "Accepted", "data": "pong"})
    answer = await pending
    assert answer.data == "pong"
    with pytest.raises(ExpectationFailed):
        await cp.expect_call("GetConfiguration", timeout=0.1)
