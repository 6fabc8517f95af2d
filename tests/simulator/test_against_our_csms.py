"""The simulator against the project's own CSMS (fixture `csms_app` from tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import trustme
from cryptography import x509

from csms import CsmsApp
from simulator import EV, Status, create_charge_point
from tests.conftest import csms_config

from .conftest import fast_spec


async def test_full_session_against_our_csms(csms_app: Any) -> None:
    await csms_app.services.chargers.register("SIM-OURS", password="pw-0123456789abcdef")
    await csms_app.services.tags.upsert("TAG-OURS")
    spec = fast_spec(
        "SIM-OURS",
        password="pw-0123456789abcdef",
        ev=EV(max_power_w=22_000),
        configuration={"MeterValueSampleInterval": "1"},
        time_scale=0.2,
    )
    cp = create_charge_point(spec, csms_app.ocpp_url)
    async with cp:
        assert cp.registration == "Accepted"
        await cp.plug_in(1)
        info = await cp.present_tag(1, "TAG-OURS")
        assert info["status"] == "Accepted"
        tx = cp.transaction(1)
        assert tx is not None
        await tx.started.wait()
        assert tx.transaction_id is not None
        await cp.transcript.wait_sent("MeterValues", timeout=3)
        # remote stop from the CSMS side
        answer = await csms_app.call(
            "SIM-OURS", "RemoteStopTransaction", {"transactionId": tx.transaction_id}
        )
        assert answer == {"status": "Accepted"}
        await cp.wait_status(1, "Finishing")
        await cp.unplug(1)
        assert cp.status(1) == Status.AVAILABLE
        row = await csms_app.services.transactions.transactions.get(tx.transaction_id)
        assert row["status"] == "Completed"
        assert row["meter_stop"] > row["meter_start"]
        stop = cp.transcript.sent_payloads("StopTransaction")[0]
        assert stop["reason"] == "Remote"
        # every CALL the simulator sent was answered with a CALLRESULT, none with a CALLERROR
        for entry in cp.transcript.calls("out"):
            answer_entry = cp.transcript.answer_to(entry)
            assert answer_entry is not None and answer_entry.kind == "CALLRESULT", entry.line()


async def test_certificate_renewal_with_our_csms(tmp_path: Path) -> None:
    """Whitepaper A02 end to end: the CSMS triggers a CSR, signs it with its charge-point CA,
    and the simulator installs the certificate for the key it kept."""
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    ca.private_key_pem.write_to_path(str(tmp_path / "ca.key"))
    config = csms_config(tmp_path, cp_ca_cert=tmp_path / "ca.pem", cp_ca_key=tmp_path / "ca.key")
    async with CsmsApp(config) as app:
        await app.services.chargers.register("SIM-CERT")
        async with create_charge_point(fast_spec("SIM-CERT"), app.ocpp_url) as cp:
            answer = await app.operations.send(
                "SIM-CERT",
                "ExtendedTriggerMessage",
                {"requestedMessage": "SignChargePointCertificate"},
            )
            assert answer == {"status": "Accepted"}
            signed = await cp.expect_call("CertificateSigned", timeout=5)
            assert signed.response == {"status": "Accepted"}
            assert cp.behaviour.security.certificate_key is not None
            leaf = x509.load_pem_x509_certificates(signed.payload["certificateChain"].encode())[0]
            leaf.verify_directly_issued_by(x509.load_pem_x509_certificate(ca.cert_pem.bytes()))
            assert leaf.public_key() == cp.behaviour.security.certificate_key.public_key()


async def test_probes_against_our_csms(csms_app: Any) -> None:
    """OCPP-J 1.6 3.1.2 as our CSMS does it: no subprotocol in common, the handshake completes
    without one and the socket is closed at once (1002); ocpp1.6 among others is selected."""
    await csms_app.services.chargers.register("SIM-PROBE", password="pw-0123456789abcdef")
    spec = fast_spec("SIM-PROBE", password="pw-0123456789abcdef")
    cp = create_charge_point(spec, csms_app.ocpp_url)
    for offered in (["ocpp0.1"], []):
        refused = await cp.probe(offered)
        assert (refused.status, refused.subprotocol, refused.closed) == (101, None, 1002)
        assert not refused.accepted
    agreed = await cp.probe(["ocpp0.1", "ocpp1.6"])
    assert (agreed.status, agreed.subprotocol, agreed.accepted) == (101, "ocpp1.6", True)
    cp.password = "not-the-password"
    assert (await cp.probe()).status == 401
