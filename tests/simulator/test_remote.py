"""CSMS-initiated operations: remote start/stop, reset, configuration, availability, unlock."""

from __future__ import annotations

import pytest
from ocpp.exceptions import NotSupportedError
from ocpp.v16 import call

from simulator import ExpectationFailed, Outcome, Status

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
