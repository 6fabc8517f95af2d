"""Firmware, diagnostics, triggers, security extensions, power loss, invalid ids, raw access."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from ocpp.v16 import call

from csms.certificates import ChargePointCa, read_csr
from ocppj import CallErrorReceived, OcppError
from simulator import Outcome, Status

from .conftest import MiniCsms, StartCp


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


async def sequence(csms: MiniCsms, action: str, count: int) -> list[str]:
    await csms.wait_for(action, timeout=3)
    for _ in range(50):
        if len(csms.payloads(action)) >= count:
            break
        await csms.wait_for(action, start=len(csms.received), timeout=3)
    return [p["status"] for p in csms.payloads(action)]


async def test_diagnostics_and_firmware_sequences(csms: MiniCsms, start_cp: StartCp) -> None:
    cp = await start_cp("CP-FW")
    answer = await csms.call("CP-FW", call.GetDiagnostics(location="ftp://example/upload"))
    assert answer.file_name.startswith("diagnostics-CP-FW")
    assert await sequence(csms, "DiagnosticsStatusNotification", 2) == ["Uploading", "Uploaded"]
    await csms.call("CP-FW", call.UpdateFirmware(location="http://fw", retrieve_date=now_iso()))
    assert await sequence(csms, "FirmwareStatusNotification", 4) == [
        "Downloading",
        "Downloaded",
        "Installing",
        "Installed",
    ]
    assert cp.behaviour.firmware_version == "1.0.0+1"
    boots = csms.payloads("BootNotification")
    assert [b["firmwareVersion"] for b in boots] == ["1.0.0", "1.0.0+1"]  # rebooted to install
    actions = [(r.action, r.payload.get("status")) for r in csms.received]
    assert actions.index(("FirmwareStatusNotification", "Installed")) > max(
        i for i, (action, _) in enumerate(actions) if action == "BootNotification"
    )
    cp.set_outcome("UpdateFirmware", Outcome.fail("Installing", times=1))
    await csms.call("CP-FW", call.UpdateFirmware(location="http://fw", retrieve_date=now_iso()))
    statuses = await sequence(csms, "FirmwareStatusNotification", 8)
    assert statuses[4:] == ["Downloading", "Downloaded", "Installing", "InstallationFailed"]
    assert cp.behaviour.firmware_version == "1.0.0+1"


async def test_trigger_message(csms: MiniCsms, start_cp: StartCp) -> None:
    await start_cp("CP-TRIG")
    mark = len(csms.received)
    answer = await csms.call(
        "CP-TRIG", call.TriggerMessage(requested_message="MeterValues", connector_id=1)
    )
    assert answer.status == "Accepted"
    values = await csms.wait_for("MeterValues", start=mark)
    assert values["meterValue"][0]["sampledValue"][0]["context"] == "Trigger"
    answer = await csms.call(
        "CP-TRIG", call.TriggerMessage(requested_message="StatusNotification", connector_id=1)
    )
    await csms.wait_for("StatusNotification", lambda p: p["connectorId"] == 1, start=mark)
    bad = await csms.call(
        "CP-TRIG", call.TriggerMessage(requested_message="Heartbeat", connector_id=9)
    )
    assert bad.status == "Rejected"


async def test_security_extensions(csms: MiniCsms, start_cp: StartCp) -> None:
    await start_cp("CP-SEC")
    pem = trustme.CA().cert_pem.bytes().decode()
    installed = await csms.call(
        "CP-SEC",
        call.InstallCertificate(certificate_type="CentralSystemRootCertificate", certificate=pem),
    )
    assert installed.status == "Accepted"
    ids = await csms.call(
        "CP-SEC", call.GetInstalledCertificateIds(certificate_type="CentralSystemRootCertificate")
    )
    assert ids.status == "Accepted" and len(ids.certificate_hash_data) == 1
    hash_data = ids.certificate_hash_data[0]
    deleted = await csms.call(
        "CP-SEC",
        call.DeleteCertificate(
            certificate_hash_data={
                "hashAlgorithm": hash_data["hash_algorithm"],
                "issuerNameHash": hash_data["issuer_name_hash"],
                "issuerKeyHash": hash_data["issuer_key_hash"],
                "serialNumber": hash_data["serial_number"],
            }
        ),
    )
    assert deleted.status == "Accepted"
    log = await csms.call(
        "CP-SEC",
        call.GetLog(
            log_type="SecurityLog", request_id=5, log={"remoteLocation": "ftp://example/logs"}
        ),
    )
    assert log.status == "Accepted"
    assert await sequence(csms, "LogStatusNotification", 2) == ["Uploading", "Uploaded"]
    assert csms.payloads("LogStatusNotification")[0]["requestId"] == 5
    trigger = await csms.call(
        "CP-SEC", call.ExtendedTriggerMessage(requested_message="SignChargePointCertificate")
    )
    assert trigger.status == "Accepted"
    assert "CERTIFICATE REQUEST" in (await csms.wait_for("SignCertificate"))["csr"]
    firmware = call.ExtendedTriggerMessage(requested_message="FirmwareStatusNotification")
    assert (await csms.call("CP-SEC", firmware)).status == "Accepted"
    assert (await csms.wait_for("SignedFirmwareStatusNotification"))["status"] == "Idle"
    signed = await csms.call(
        "CP-SEC",
        call.SignedUpdateFirmware(
            request_id=9,
            firmware={
                "location": "http://fw",
                "retrieveDateTime": now_iso(),
                "signingCertificate": pem,
                "signature": "c2ln",
            },
        ),
    )
    assert signed.status == "Accepted"
    statuses = await sequence(csms, "SignedFirmwareStatusNotification", 6)  # Idle, then 5
    assert statuses[0] == "Idle" and statuses[-1] == "Installed"


async def test_a_certificate_for_its_own_csr_is_accepted(csms: MiniCsms, start_cp: StartCp) -> None:
    """Whitepaper A02: a key pair made on request, a PKCS#10 CSR (CN identity, O CpoName), and
    only a certificate for that key accepted; anything else is an InvalidChargePointCertificate
    security event."""
    cp = await start_cp("CP-CSR", configuration={"CpoName": "ACME Charging"})
    assert "csr_key" not in vars(cp)  # nothing made before it is asked for
    trigger = call.ExtendedTriggerMessage(requested_message="SignChargePointCertificate")
    assert (await csms.call("CP-CSR", trigger)).status == "Accepted"
    csr = read_csr((await csms.wait_for("SignCertificate"))["csr"])  # its signature verifies
    assert csr.subject.rfc4514_string() == "O=ACME Charging,CN=CP-CSR"
    ca = trustme.CA()
    signer = ChargePointCa.from_pem(ca.cert_pem.bytes(), ca.private_key_pem.bytes())

    request = x509.CertificateSigningRequestBuilder().subject_name(csr.subject)
    other = request.sign(ec.generate_private_key(ec.SECP256R1()), hashes.SHA256())
    garbage = "-----BEGIN CERTIFICATE-----\nTk9U\n-----END CERTIFICATE-----"
    for chain in (signer.sign(other), garbage):  # another key's certificate, and no certificate
        answer = await csms.call("CP-CSR", call.CertificateSigned(certificate_chain=chain))
        assert answer.status == "Rejected"
    events = [p["type"] for p in await payloads_of(csms, "SecurityEventNotification", 2)]
    assert events == ["InvalidChargePointCertificate"] * 2

    chain = signer.sign(csr)
    answer = await csms.call("CP-CSR", call.CertificateSigned(certificate_chain=chain))
    assert answer.status == "Accepted"
    assert chain in cp.behaviour.security.certificates.values()
    security = cp.behaviour.security
    assert security.certificate_key is not None and security.csr_key is None
    again = await csms.call("CP-CSR", call.CertificateSigned(certificate_chain=chain))
    assert again.status == "Rejected"  # no CSR is pending any more


async def payloads_of(csms: MiniCsms, action: str, count: int) -> list[dict[str, Any]]:
    while len(csms.payloads(action)) < count:
        await csms.wait_for(action, start=len(csms.received), timeout=3)
    return csms.payloads(action)


async def test_power_loss_reports_interrupted_transaction(
    csms: MiniCsms, start_cp: StartCp
) -> None:
    cp = await start_cp("CP-POWER")
    await cp.plug_in(1)
    await cp.present_tag(1, "T")
    tx = cp.transaction(1)
    assert tx is not None
    await tx.started.wait()
    await cp.power_loss(timeout=5)
    stop = await csms.wait_for("StopTransaction")
    assert stop["reason"] == "PowerLoss" and stop["transactionId"] == tx.transaction_id
    actions = [r.action for r in csms.received]
    assert actions.count("BootNotification") == 2
    assert (
        actions.index("StopTransaction")
        > [i for i, a in enumerate(actions) if a == "BootNotification"][1]
    )
    assert cp.status(1) == Status.FINISHING  # the cable is still in


async def test_invalid_id_in_start_answer_stops_transaction(
    csms: MiniCsms, start_cp: StartCp
) -> None:
    cp = await start_cp("CP-INV", configuration={"LocalPreAuthorize": "true"})
    cp.cache_tag("STOLEN")  # still cached as good
    csms.tags["STOLEN"] = {"status": "Blocked"}
    await cp.plug_in(1)
    assert (await cp.present_tag(1, "STOLEN"))["status"] == "Accepted"
    assert csms.payloads("Authorize") == []  # LocalPreAuthorize: started from the cache
    stop = await csms.wait_for("StopTransaction")
    assert stop["reason"] == "DeAuthorized"
    await cp.wait_status(1, "Finishing")
    found = cp.behaviour.auth.lookup("STOLEN", datetime.now(UTC))
    assert found is not None and found[0]["status"] == "Blocked"  # cache updated
    cp.cache_tag("OLD", "Accepted", expiry="2020-01-01T00:00:00Z")
    old = cp.behaviour.auth.lookup("OLD", datetime.now(UTC))
    assert old is not None and old[0]["status"] == "Expired"


async def test_invalid_id_suspends_when_configured(csms: MiniCsms, start_cp: StartCp) -> None:
    cp = await start_cp(
        "CP-INV2",
        configuration={"LocalPreAuthorize": "true", "StopTransactionOnInvalidId": "false"},
    )
    cp.behaviour.auth.remember("STOLEN", {"status": "Accepted"})
    csms.tags["STOLEN"] = {"status": "Blocked"}
    await cp.plug_in(1)
    await cp.present_tag(1, "STOLEN")
    await cp.wait_status(1, "SuspendedEVSE")
    assert cp.connector(1).meter.power_w == 0


async def test_connection_timeout_cancels_waiting_tag(csms: MiniCsms, start_cp: StartCp) -> None:
    cp = await start_cp("CP-CTO", configuration={"ConnectionTimeOut": "2"}, time_scale=0.1)
    await cp.present_tag(1, "T")
    assert cp.status(1) == Status.PREPARING
    await cp.wait_status(1, "Available", timeout=3)
    assert csms.payloads("StartTransaction") == []


async def test_clock_aligned_and_stop_transaction_data(csms: MiniCsms, start_cp: StartCp) -> None:
    cp = await start_cp(
        "CP-ALIGN",
        configuration={
            "ClockAlignedDataInterval": "1",
            "StopTxnSampledData": "Energy.Active.Import.Register,SoC",
            "StopTxnAlignedData": "Energy.Active.Import.Register",
        },
        time_scale=0.1,
    )
    await cp.plug_in(1)
    await cp.present_tag(1, "T")
    aligned = await csms.wait_for("MeterValues", lambda p: "transactionId" in p, timeout=3)
    assert aligned["meterValue"][0]["sampledValue"][0]["context"] == "Sample.Clock"
    await cp.stop_charging(1)
    stop = await csms.wait_for("StopTransaction")
    contexts = [v["context"] for d in stop["transactionData"] for v in d["sampledValue"]]
    assert contexts[0] == "Transaction.Begin" and contexts[-1] == "Transaction.End"
    assert "Sample.Clock" in contexts
    assert {"Energy.Active.Import.Register", "SoC"} <= {
        v["measurand"] for d in stop["transactionData"] for v in d["sampledValue"]
    }


async def test_raw_paths_and_exchange_hook(csms: MiniCsms, start_cp: StartCp) -> None:
    seen: list[tuple[str, str, str | None]] = []
    cp = await start_cp("CP-RAW")
    cp.on_exchange = lambda action, side, seconds, error: seen.append((action, side, error))
    sent = len(cp.transcript)
    with pytest.raises(OcppError):  # validated: not sent at all
        await cp.call("StatusNotification", {"connectorId": "one"})
    assert len(cp.transcript) == sent
    with pytest.raises(CallErrorReceived) as refused:
        await cp.call_raw("StatusNotification", {"connectorId": "one"}, timeout=3)
    assert refused.value.code in (
        "TypeConstraintViolation",
        "FormationViolation",
        "FormatViolation",
    )
    answer = await cp.call("DataTransfer", {"vendorId": "acme", "data": "x"})
    assert answer["status"] == "Accepted"
    await csms.call("CP-RAW", call.ClearCache())
    assert ("DataTransfer", "cp", None) in seen
    assert ("ClearCache", "csms", None) in seen
    assert any(action == "StatusNotification" and error for action, _, error in seen)
    sent_raw = cp.transcript.calls("out", "StatusNotification")[-1]
    assert '"one"' in sent_raw.text
