"""The 2.0.1 station's answers to reset, availability, trigger, unlock, cache, local list,
data transfer and certificate operations, and what follows them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ocpp.exceptions import NotSupportedError
from ocpp.v201 import call

from simulator import ChargePoint, EvseSpec, InvalidAction, Outcome

from ..conftest import MiniCsms
from .conftest import StartStation


def statuses(csms: MiniCsms, cp_id: str, start: int = 0) -> list[tuple[int, int, str]]:
    return [
        (p["evseId"], p["connectorId"], p["connectorStatus"])
        for p in csms.payloads("StatusNotification", cp_id)[start:]
    ]


async def charging(cp: ChargePoint, number: int = 1, tag: str = "T") -> None:
    await cp.plug_in(number)
    await cp.present_tag(number, tag)
    assert cp.transaction(number) is not None


def boots(csms: MiniCsms, cp_id: str) -> list[str]:
    return [p["reason"] for p in csms.payloads("BootNotification", cp_id)]


# -- Reset: Immediate or OnIdle, the station or one EVSE, idle or with a transaction ------


async def test_reset_immediate_of_a_busy_station_ends_and_reboots(
    csms: MiniCsms, start_station: StartStation
) -> None:
    cp = await start_station("CS-R1")
    await charging(cp)
    answer = await csms.call("CS-R1", call.Reset(type="Immediate"))
    assert answer.status == "Accepted"
    await csms.wait_connected("CS-R1", 2)
    await cp.wait_ready(5)
    ended = await csms.wait_for("TransactionEvent", lambda p: p["eventType"] == "Ended")
    assert ended["triggerReason"] == "ResetCommand"
    assert ended["transactionInfo"]["stoppedReason"] == "ImmediateReset"
    assert boots(csms, "CS-R1") == ["PowerUp", "RemoteReset"]
    event = await csms.wait_for("SecurityEventNotification")
    assert event["type"] == "ResetOrReboot"


async def test_reset_on_idle_of_an_idle_station_reboots_at_once(
    csms: MiniCsms, start_station: StartStation
) -> None:
    cp = await start_station("CS-R2")
    assert (await csms.call("CS-R2", call.Reset(type="OnIdle"))).status == "Accepted"
    await csms.wait_connected("CS-R2", 2)
    await cp.wait_ready(5)
    assert boots(csms, "CS-R2") == ["PowerUp", "RemoteReset"]


async def test_reset_on_idle_of_a_busy_station_waits_for_the_end(
    csms: MiniCsms, start_station: StartStation
) -> None:
    cp = await start_station("CS-R3")
    await charging(cp)
    assert (await csms.call("CS-R3", call.Reset(type="OnIdle"))).status == "Scheduled"
    assert cp.transaction(1) is not None and boots(csms, "CS-R3") == ["PowerUp"]
    await cp.stop_charging(1)
    await csms.wait_connected("CS-R3", 2)
    await cp.wait_ready(5)
    ended = [p for p in csms.payloads("TransactionEvent") if p["eventType"] == "Ended"]
    assert [p["transactionInfo"]["stoppedReason"] for p in ended] == ["Local"]
    assert boots(csms, "CS-R3") == ["PowerUp", "RemoteReset"]


async def test_reset_of_one_evse(csms: MiniCsms, start_station: StartStation) -> None:
    cp = await start_station("CS-R4", connectors=2)
    await charging(cp, 1)
    await charging(cp, 2, "U")
    assert (await csms.call("CS-R4", call.Reset(type="OnIdle", evse_id=1))).status == "Scheduled"
    assert (await csms.call("CS-R4", call.Reset(type="Immediate", evse_id=2))).status == "Accepted"
    ended = await csms.wait_for("TransactionEvent", lambda p: p["eventType"] == "Ended")
    assert ended["evse"]["id"] == 2
    assert ended["transactionInfo"]["stoppedReason"] == "ImmediateReset"
    down = await csms.wait_for(
        "StatusNotification", lambda p: (p["evseId"], p["connectorStatus"]) == (2, "Unavailable")
    )
    after = next(i for i, r in enumerate(csms.received) if r.payload is down)
    await csms.wait_for(  # back, the cable still in
        "StatusNotification",
        lambda p: (p["evseId"], p["connectorStatus"]) == (2, "Occupied"),
        start=after,
    )
    assert cp.transaction(1) is not None
    start = len(csms.payloads("StatusNotification", "CS-R4"))
    await cp.stop_charging(1)  # the scheduled reset of EVSE 1 follows at once
    assert statuses(csms, "CS-R4", start) == [(1, 1, "Unavailable"), (1, 1, "Occupied")]
    assert boots(csms, "CS-R4") == ["PowerUp"]  # no reboot of the station
    assert (await csms.call("CS-R4", call.Reset(type="Immediate", evse_id=9))).status == "Rejected"


# -- ChangeAvailability: station, EVSE or connector, idle or with a transaction ------------


async def test_availability_of_the_station_idle_and_busy(
    csms: MiniCsms, start_station: StartStation
) -> None:
    cp = await start_station("CS-A1", connectors=2)
    await charging(cp, 1)
    answer = await csms.call("CS-A1", call.ChangeAvailability(operational_status="Inoperative"))
    assert answer.status == "Scheduled"  # EVSE 1 has a transaction
    await cp.wait_status(2, "Unavailable")
    assert cp.status(1) == "Occupied" and cp.transaction(1) is not None
    with pytest.raises(InvalidAction, match="cannot start"):
        await cp.present_tag(2, "X")
    await cp.stop_charging(1)
    await cp.wait_status(1, "Unavailable")
    back = await csms.call("CS-A1", call.ChangeAvailability(operational_status="Operative"))
    assert back.status == "Accepted"
    await cp.wait_status(1, "Occupied")
    await cp.wait_status(2, "Available")


async def test_availability_of_an_evse_and_a_connector(
    csms: MiniCsms, start_station: StartStation
) -> None:
    cp = await start_station("CS-A2", evses=[EvseSpec(2), EvseSpec(1)])
    one = {"id": 1}
    answer = await csms.call(
        "CS-A2", call.ChangeAvailability(operational_status="Inoperative", evse=one)
    )
    assert answer.status == "Accepted"
    await cp.wait_status(1, "Unavailable")
    await cp.wait_status(2, "Unavailable")
    assert cp.status(3) == "Available"
    again = await csms.call(
        "CS-A2", call.ChangeAvailability(operational_status="Inoperative", evse=one)
    )
    assert again.status == "Accepted"  # already so
    await csms.call("CS-A2", call.ChangeAvailability(operational_status="Operative", evse=one))
    await cp.wait_status(1, "Available")
    connector = {"id": 1, "connectorId": 2}
    await csms.call(
        "CS-A2", call.ChangeAvailability(operational_status="Inoperative", evse=connector)
    )
    await cp.wait_status(2, "Unavailable")
    assert cp.status(1) == "Available"
    await charging(cp, 3)
    busy = await csms.call(
        "CS-A2", call.ChangeAvailability(operational_status="Inoperative", evse={"id": 2})
    )
    assert busy.status == "Scheduled"
    await cp.stop_charging(3)
    await cp.wait_status(3, "Unavailable")
    unknown = await csms.call(
        "CS-A2", call.ChangeAvailability(operational_status="Inoperative", evse={"id": 5})
    )
    assert unknown.status == "Rejected"


async def test_the_other_connector_of_an_evse_in_use_is_unavailable(
    csms: MiniCsms, start_station: StartStation
) -> None:
    cp = await start_station("CS-A3", evses=[EvseSpec(2)])
    await cp.plug_in(1)
    await cp.wait_status(2, "Unavailable")
    with pytest.raises(InvalidAction, match="in use"):
        await cp.plug_in(2)
    await cp.unplug(1)
    await cp.wait_status(2, "Available")


# -- TriggerMessage ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "action"),
    [
        ("Heartbeat", "Heartbeat"),
        ("StatusNotification", "StatusNotification"),
        ("MeterValues", "MeterValues"),
        ("LogStatusNotification", "LogStatusNotification"),
        ("FirmwareStatusNotification", "FirmwareStatusNotification"),
        ("SignChargingStationCertificate", "SignCertificate"),
    ],
)
async def test_trigger_message_sends_what_it_asks(
    csms: MiniCsms, start_station: StartStation, message: str, action: str
) -> None:
    await start_station("CS-T")
    start = len(csms.received)
    answer = await csms.call("CS-T", call.TriggerMessage(requested_message=message))
    assert answer.status == "Accepted"
    await csms.wait_for(action, start=start)


async def test_trigger_message_refusals(csms: MiniCsms, start_station: StartStation) -> None:
    cp = await start_station("CS-T2")
    refused = {
        "BootNotification": "Rejected",  # accepted already
        "TransactionEvent": "Rejected",  # none runs
        "PublishFirmwareStatusNotification": "NotImplemented",
    }
    for message, status in refused.items():
        answer = await csms.call("CS-T2", call.TriggerMessage(requested_message=message))
        assert answer.status == status, message
    unknown = await csms.call(
        "CS-T2", call.TriggerMessage(requested_message="Heartbeat", evse={"id": 4})
    )
    assert unknown.status == "Rejected"
    await charging(cp)
    start = len(csms.received)
    answer = await csms.call("CS-T2", call.TriggerMessage(requested_message="TransactionEvent"))
    assert answer.status == "Accepted"
    event = await csms.wait_for("TransactionEvent", start=start)
    assert event["triggerReason"] == "Trigger" and event["eventType"] == "Updated"


# -- unlock, cache, local list, data transfer ----------------------------------------------


async def test_unlock_connector(csms: MiniCsms, start_station: StartStation) -> None:
    cp = await start_station("CS-U")
    unknown = await csms.call("CS-U", call.UnlockConnector(evse_id=1, connector_id=3))
    assert unknown.status == "UnknownConnector"
    assert (await csms.call("CS-U", call.UnlockConnector(evse_id=1, connector_id=1))).status == (
        "Unlocked"
    )
    await charging(cp)
    busy = await csms.call("CS-U", call.UnlockConnector(evse_id=1, connector_id=1))
    assert busy.status == "OngoingAuthorizedTransaction"
    cp.set_outcome("UnlockConnector", Outcome.fail("lock", times=1))
    await cp.stop_charging(1)
    failed = await csms.call("CS-U", call.UnlockConnector(evse_id=1, connector_id=1))
    assert failed.status == "UnlockFailed"
    event = await csms.wait_for(
        "NotifyEvent", lambda p: p["eventData"][0]["techCode"] == "UnlockFailed"
    )
    assert event["eventData"][0]["component"]["name"] == "ConnectorPlugRetentionLock"


async def test_auth_cache_and_local_list(csms: MiniCsms, start_station: StartStation) -> None:
    cp = await start_station("CS-L")
    version = await csms.call("CS-L", call.GetLocalListVersion())
    assert version.version_number == 0
    entries: list[dict[str, Any]] = [
        {"idToken": {"idToken": "LOCAL", "type": "ISO14443"}, "idTokenInfo": {"status": "Accepted"}}
    ]
    full = await csms.call(
        "CS-L",
        call.SendLocalList(version_number=3, update_type="Full", local_authorization_list=entries),
    )
    assert full.status == "Accepted"
    stale = await csms.call(
        "CS-L", call.SendLocalList(version_number=2, update_type="Differential")
    )
    assert stale.status == "VersionMismatch"
    assert (await csms.call("CS-L", call.GetLocalListVersion())).version_number == 3
    await cp.present_tag(1, "CACHED")  # online: asked, and cached
    await cp.present_tag(1, "CACHED")  # again, before a cable: the authorization is dropped
    await cp.go_offline()
    cp.configure({"LocalAuthorizeOffline": "true"})
    assert (await cp.present_tag(1, "LOCAL"))["status"] == "Accepted"  # from the list
    await cp.present_tag(1, "LOCAL")  # again: cancels the waiting authorization
    assert (await cp.present_tag(1, "CACHED"))["status"] == "Accepted"  # from the cache
    await cp.present_tag(1, "CACHED")
    assert (await cp.present_tag(1, "STRANGER"))["status"] == "Invalid"
    cp.configure({"AllowOfflineTxForUnknownId": "true"})
    assert (await cp.present_tag(1, "STRANGER"))["status"] == "Accepted"
    await cp.go_online()
    assert (await csms.call("CS-L", call.ClearCache())).status == "Accepted"
    cp.configure({"AuthCacheCtrlr.Enabled": "false"})
    assert (await csms.call("CS-L", call.ClearCache())).status == "Rejected"


async def test_a_tag_put_in_the_cache_authorizes_from_it_and_the_csms_corrects_it(
    csms: MiniCsms, start_station: StartStation
) -> None:
    csms.tags["STALE"] = {"status": "Invalid"}
    cp = await start_station("CS-SEED", configuration={"AuthCtrlr.LocalPreAuthorize": "true"})
    cp.cache_tag("STALE")  # Accepted, as the CSMS once said
    await cp.plug_in(1)
    assert (await cp.present_tag(1, "STALE"))["status"] == "Accepted"
    ended = await csms.wait_for("TransactionEvent", lambda p: p["eventType"] == "Ended")
    assert csms.payloads("Authorize", "CS-SEED") == []  # no Authorize: the cache decided
    started = csms.payloads("TransactionEvent", "CS-SEED")[0]
    assert (started["triggerReason"], started["idToken"]["idToken"]) == ("Authorized", "STALE")
    assert ended["triggerReason"] == "Deauthorized"  # the CSMS said Invalid (StopTxOnInvalidId)
    assert (await cp.present_tag(1, "STALE"))["status"] == "Invalid"  # the cache learnt it
    assert len(csms.payloads("Authorize", "CS-SEED")) == 1
    cp.cache_tag("OLD", "Accepted", expiry="2020-01-01T00:00:00Z")
    await cp.go_offline()
    cp.configure({"LocalAuthorizeOffline": "true"})
    assert (await cp.present_tag(1, "OLD"))["status"] == "Expired"


async def test_data_transfer_and_unknown_actions(
    csms: MiniCsms, start_station: StartStation
) -> None:
    await start_station("CS-D")
    answer = await csms.call("CS-D", call.DataTransfer(vendor_id="acme"))
    assert answer.status == "UnknownVendorId"
    with pytest.raises(NotSupportedError):  # a 2.0.1 action it does not implement
        await csms.call("CS-D", call.SetMonitoringBase(monitoring_base="All"))


# -- certificates --------------------------------------------------------------------------


def _root() -> tuple[str, Any]:
    import trustme

    ca = trustme.CA()
    return ca.cert_pem.bytes().decode(), ca


async def test_csr_certificate_signed_and_installed_certificates(
    csms: MiniCsms, start_station: StartStation
) -> None:
    from cryptography import x509

    from simulator.certificates import hash_data

    await start_station("CS-C")
    root_pem, ca = _root()
    installed = await csms.call(
        "CS-C",
        call.InstallCertificate(certificate_type="CSMSRootCertificate", certificate=root_pem),
    )
    assert installed.status == "Accepted"
    bad = await csms.call(
        "CS-C", call.InstallCertificate(certificate_type="CSMSRootCertificate", certificate="junk")
    )
    assert bad.status == "Rejected"
    ids = await csms.call(
        "CS-C", call.GetInstalledCertificateIds(certificate_type=["CSMSRootCertificate"])
    )
    assert ids.status == "Accepted"
    data = ids.certificate_hash_data_chain[0]["certificate_hash_data"]
    root = x509.load_pem_x509_certificate(root_pem.encode())
    assert data["serial_number"] == format(root.serial_number, "x")
    assert data == {
        "hash_algorithm": "SHA256",
        "issuer_name_hash": hash_data(root_pem)["issuerNameHash"],
        "issuer_key_hash": hash_data(root_pem)["issuerKeyHash"],
        "serial_number": hash_data(root_pem)["serialNumber"],
    }
    none = await csms.call(
        "CS-C", call.GetInstalledCertificateIds(certificate_type=["MORootCertificate"])
    )
    assert none.status == "NotFound"
    wrong = {**hash_data(root_pem), "serialNumber": "abc"}
    assert (
        await csms.call("CS-C", call.DeleteCertificate(certificate_hash_data=wrong))
    ).status == "NotFound"
    gone = await csms.call(
        "CS-C", call.DeleteCertificate(certificate_hash_data=hash_data(root_pem))
    )
    assert gone.status == "Accepted"
    # the station's own certificate: its CSR, then a chain for another key is refused
    await csms.call("CS-C", call.TriggerMessage(requested_message="SignChargingStationCertificate"))
    sign = await csms.wait_for("SignCertificate")
    csr = x509.load_pem_x509_csr(sign["csr"].encode())
    assert csr.subject.rfc4514_string() == "CN=CS-C"
    foreign = ca.issue_cert("CS-C").cert_chain_pems[0].bytes().decode()
    refused = await csms.call("CS-C", call.CertificateSigned(certificate_chain=foreign))
    assert refused.status == "Rejected"
    event = await csms.wait_for("SecurityEventNotification")
    assert event["type"] == "InvalidChargingStationCertificate"


# -- reservations --------------------------------------------------------------------------


def _in(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


async def test_reservation_kept_for_its_token_and_used_by_it(
    csms: MiniCsms, start_station: StartStation
) -> None:
    cp = await start_station("CS-RES")
    mine = {"idToken": "MINE", "type": "ISO14443"}
    answer = await csms.call(
        "CS-RES", call.ReserveNow(id=7, expiry_date_time=_in(30), id_token=mine, evse_id=1)
    )
    assert answer.status == "Accepted"
    await cp.wait_status(1, "Reserved")
    other = await csms.call(
        "CS-RES", call.ReserveNow(id=8, expiry_date_time=_in(30), id_token=mine, evse_id=1)
    )
    assert other.status == "Occupied"
    anywhere = await csms.call(
        "CS-RES", call.ReserveNow(id=9, expiry_date_time=_in(30), id_token=mine)
    )
    assert anywhere.status == "Rejected"  # not EVSE-specific: not supported
    assert (await cp.present_tag(1, "OTHER"))["status"] == "Invalid"
    await cp.plug_in(1)
    await cp.present_tag(1, "MINE")
    started = await csms.wait_for("TransactionEvent", lambda p: p["eventType"] == "Started")
    assert started["reservationId"] == 7
    assert (await csms.call("CS-RES", call.CancelReservation(reservation_id=7))).status == (
        "Rejected"  # used up
    )


async def test_reservation_expires_or_is_cancelled(
    csms: MiniCsms, start_station: StartStation
) -> None:
    cp = await start_station("CS-RX", connectors=2)
    token = {"idToken": "T", "type": "ISO14443"}
    await csms.call(
        "CS-RX", call.ReserveNow(id=1, expiry_date_time=_in(0.3), id_token=token, evse_id=1)
    )
    await csms.call(
        "CS-RX", call.ReserveNow(id=2, expiry_date_time=_in(30), id_token=token, evse_id=2)
    )
    await cp.wait_status(2, "Reserved")
    update = await csms.wait_for("ReservationStatusUpdate", timeout=3)
    assert update == {"reservationId": 1, "reservationUpdateStatus": "Expired"}
    assert cp.status(1) == "Available"
    assert (await csms.call("CS-RX", call.CancelReservation(reservation_id=2))).status == (
        "Accepted"
    )
    await cp.wait_status(2, "Available")


def _sign(csr_pem: str) -> str:
    """A CA's certificate for the CSR's key and subject, then the CA's own: a chain."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    csr = x509.load_pem_x509_csr(csr_pem.encode())
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test CPO CA")])
    now = datetime.now(UTC)

    def build(subject: x509.Name, public_key: Any) -> x509.Certificate:
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(name)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=1))
            .not_valid_after(now + timedelta(days=1))
            .sign(key, hashes.SHA256())
        )

    leaf, ca = build(csr.subject, csr.public_key()), build(name, key.public_key())
    return "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in (leaf, ca))


async def test_certificate_signed_for_the_csr_key_is_accepted(
    csms: MiniCsms, start_station: StartStation
) -> None:
    cp = await start_station("CS-CS")
    await csms.call(
        "CS-CS", call.TriggerMessage(requested_message="SignChargingStationCertificate")
    )
    sign = await csms.wait_for("SignCertificate")
    assert sign["certificateType"] == "ChargingStationCertificate"
    chain = _sign(sign["csr"])
    answer = await csms.call("CS-CS", call.CertificateSigned(certificate_chain=chain))
    assert answer.status == "Accepted"
    assert cp.config.get("SecurityCtrlr.CertificateEntries") == "1"
    again = await csms.call("CS-CS", call.CertificateSigned(certificate_chain=chain))
    assert again.status == "Rejected"  # no CSR waits for a certificate any more
    ids = await csms.call("CS-CS", call.GetInstalledCertificateIds())
    assert ids.status == "NotFound"  # its own certificate is not among the installed ones
