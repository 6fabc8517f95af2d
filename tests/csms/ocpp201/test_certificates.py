"""SignCertificate in 2.0.1 (A02): signed with the configured CA as for 1.6, then sent in a
CertificateSigned CALL once the answer is on the wire, its certificateType echoed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trustme
from cryptography import x509
from cryptography.x509.oid import NameOID

from csms import CsmsApp
from tests.conftest import csms_config, eventually
from tests.csms.test_certificates import make_csr

from .station import Station


@pytest.fixture
async def signing_app(tmp_path: Path) -> AsyncIterator[CsmsApp]:
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(tmp_path / "cp-ca.pem"))
    ca.private_key_pem.write_to_path(str(tmp_path / "cp-ca.key"))
    config = csms_config(
        tmp_path, cp_ca_cert=tmp_path / "cp-ca.pem", cp_ca_key=tmp_path / "cp-ca.key"
    )
    async with CsmsApp(config) as app:
        await app.services.chargers.register("CS-1")
        yield app


async def test_a_valid_csr_is_signed_and_sent(signing_app: CsmsApp) -> None:
    async with await Station.connect(f"{signing_app.ocpp_url}/CS-1") as station:
        await station.boot()
        request = {"csr": make_csr("CS-1"), "certificateType": "ChargingStationCertificate"}
        assert await station.result("SignCertificate", request) == {"status": "Accepted"}
        sent = await station.answer("CertificateSigned", {"status": "Accepted"})
        assert sent["certificateType"] == "ChargingStationCertificate"
        leaf = x509.load_pem_x509_certificates(sent["certificateChain"].encode())[0]
        assert leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "CS-1"

        async def recorded() -> bool:
            """the station's verdict on the certificate is recorded"""
            events = await signing_app.services.chargers.events("CS-1", "CertificateSignedSent")
            return [e["detail"] for e in events] == ["Accepted"]

        await eventually(recorded)


async def test_a_csr_for_another_station_is_rejected(signing_app: CsmsApp) -> None:
    async with await Station.connect(f"{signing_app.ocpp_url}/CS-1") as station:
        await station.boot()
        answer = await station.result("SignCertificate", {"csr": make_csr("CS-OTHER")})
        assert answer == {"status": "Rejected"}
        assert "currentTime" in await station.result("Heartbeat", {})
