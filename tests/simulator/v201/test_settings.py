"""Settings of a 2.0.1 station that change what it does: DisablePostAuthorize and
MaxEnergyOnInvalidId with StopTxOnInvalidId."""

from __future__ import annotations

import pytest

from simulator import NotConnected

from .conftest import MiniCsms, StartStation


@pytest.mark.parametrize("where", ["cache", "list"])
async def test_a_token_known_as_not_accepted_is_asked_again_unless_disabled(
    csms: MiniCsms, start_station: StartStation, where: str
) -> None:
    """C10.FR.03 / C14.FR.03: with LocalPreAuthorize, a token the cache or the local list
    holds as Blocked is asked of the CSMS (here it is Accepted now); with DisablePostAuthorize
    the station refuses it itself."""
    cp = await start_station("CS-POST", configuration={"AuthCtrlr.LocalPreAuthorize": "true"})
    controller = "AuthCacheCtrlr" if where == "cache" else "LocalAuthListCtrlr"
    for tag in ("ASKED", "KEPT"):
        if where == "cache":
            cp.cache_tag(tag, "Blocked")
        else:
            cp.behaviour.state.auth.local_list[(tag, "ISO14443")] = {"status": "Blocked"}
    assert (await cp.present_tag(1, "ASKED"))["status"] == "Accepted"
    assert [p["idToken"]["idToken"] for p in csms.payloads("Authorize", "CS-POST")] == ["ASKED"]
    await cp.present_tag(1, "ASKED")  # no cable came: the authorization is dropped
    cp.configure({f"{controller}.DisablePostAuthorize": "true"})
    assert (await cp.present_tag(1, "KEPT"))["status"] == "Blocked"
    assert len(csms.payloads("Authorize", "CS-POST")) == 1  # not asked


async def start_turned_down(
    csms: MiniCsms, start_station: StartStation, identity: str, settings: dict[str, str]
) -> None:
    """A transaction started for a token the cache holds as Accepted (LocalPreAuthorize),
    which the CSMS then answers Invalid."""
    csms.tags["LATE"] = {"status": "Invalid"}
    configuration = {**settings, "AuthCtrlr.LocalPreAuthorize": "true"}
    cp = await start_station(identity, configuration=configuration)
    cp.cache_tag("LATE", "Accepted")
    await cp.plug_in(1)
    await cp.present_tag(1, "LATE")


async def test_an_invalid_token_charges_up_to_max_energy_then_the_transaction_ends(
    csms: MiniCsms, start_station: StartStation
) -> None:
    await start_turned_down(csms, start_station, "CS-MAX", {"TxCtrlr.MaxEnergyOnInvalidId": "5"})
    ended = await csms.wait_for("TransactionEvent", lambda p: p["eventType"] == "Ended", 15)
    assert ended["triggerReason"] == "Deauthorized"
    assert ended["transactionInfo"]["stoppedReason"] == "DeAuthorized"
    events = csms.payloads("TransactionEvent", "CS-MAX")
    registers = [
        sv["value"]
        for e in (events[0], ended)
        for mv in e.get("meterValue", [])
        for sv in mv["sampledValue"]
        if sv.get("measurand", "Energy.Active.Import.Register") == "Energy.Active.Import.Register"
    ]
    assert len(registers) == 2 and registers[1] - registers[0] >= 5  # the energy it was let have


async def test_an_invalid_token_without_stop_tx_is_suspended_once_max_energy_is_used(
    csms: MiniCsms, start_station: StartStation
) -> None:
    settings = {"StopTransactionOnInvalidId": "false", "TxCtrlr.MaxEnergyOnInvalidId": "0"}
    await start_turned_down(csms, start_station, "CS-SUS", settings)
    suspended = await csms.wait_for(
        "TransactionEvent",
        lambda p: p["transactionInfo"].get("chargingState") == "SuspendedEVSE",
        10,
    )
    assert (suspended["eventType"], suspended["triggerReason"]) == (
        "Updated",
        "ChargingStateChanged",
    )
    events = csms.payloads("TransactionEvent", "CS-SUS")
    assert not any(e["eventType"] == "Ended" for e in events)  # it goes on, without energy


@pytest.mark.parametrize("allowed", [False, True])
async def test_a_transaction_starts_before_the_boot_is_accepted_only_if_allowed(
    csms: MiniCsms, start_station: StartStation, allowed: bool
) -> None:
    """B02: while Pending, a cable in (TxStartPoint EVConnected) starts no transaction,
    unless TxBeforeAcceptedEnabled; then its Started event waits for the Accepted boot."""
    csms.boot_status, csms.boot_interval = ["Pending"], 0
    cp = await start_station(
        "CS-PEND",
        boot=False,
        configuration={
            "TxCtrlr.TxStartPoint": "EVConnected",
            "TxCtrlr.TxBeforeAcceptedEnabled": str(allowed).lower(),
        },
    )
    with pytest.raises(NotConnected):  # started, and Pending
        await cp.start(timeout=0.3)
    assert cp.registration == "Pending"
    await cp.plug_in(1)
    evse = cp.behaviour.state.evses[1]
    assert (evse.transaction is not None) is allowed
    assert csms.payloads("TransactionEvent", "CS-PEND") == []
    csms.boot_status = ["Accepted"]
    await cp.wait_ready(5)
    if allowed:
        started = await csms.wait_for("TransactionEvent", lambda p: True, 5)
        assert (started["eventType"], started["triggerReason"]) == ("Started", "CablePluggedIn")
    else:
        assert evse.transaction is None
