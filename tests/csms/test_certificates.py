"""SignCertificate (security whitepaper A02): the CSMS checks the CSR, answers, then sends the
certificate its charge-point CA signed in a CertificateSigned CALL."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from csms import CsmsApp
from csms.certificates import ChargePointCa
from tests.conftest import csms_config, eventually

from .client import RawClient


def make_csr(common_name: str, key: ec.EllipticCurvePrivateKey | None = None) -> str:
    key = key or ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ocpp-bench CPO"),
        ]
    )
    csr = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM).decode()


def tampered(pem: str) -> str:
    """The same CSR with one bit of its signature flipped."""
    der = bytearray(x509.load_pem_x509_csr(pem.encode()).public_bytes(serialization.Encoding.DER))
    der[-3] ^= 0x01
    body = base64.encodebytes(bytes(der)).decode()
    return f"-----BEGIN CERTIFICATE REQUEST-----\n{body}-----END CERTIFICATE REQUEST-----\n"


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
async def signing_app(tmp_path: Path, ca: trustme.CA) -> AsyncIterator[CsmsApp]:
    ca.cert_pem.write_to_path(str(tmp_path / "cp-ca.pem"))
    ca.private_key_pem.write_to_path(str(tmp_path / "cp-ca.key"))
    config = csms_config(
        tmp_path, cp_ca_cert=tmp_path / "cp-ca.pem", cp_ca_key=tmp_path / "cp-ca.key"
    )
    async with CsmsApp(config) as app:
        await app.services.chargers.register("CP-1")
        yield app


async def booted(app: CsmsApp) -> RawClient:
    client = await RawClient.open(f"{app.ocpp_url}/CP-1")
    assert (await client.boot())["status"] == "Accepted"
    return client


async def test_signs_a_valid_csr_after_answering(signing_app: CsmsApp, ca: trustme.CA) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    async with await booted(signing_app) as client:
        assert await client.result("SignCertificate", {"csr": make_csr("CP-1", key)}) == {
            "status": "Accepted"
        }
        kind, message_id, action, payload = await client.recv()  # after the answer, not before
        assert (kind, action) == (2, "CertificateSigned")
        await client.send(f'[3, "{message_id}", {{"status": "Accepted"}}]')

        leaf = x509.load_pem_x509_certificates(payload["certificateChain"].encode())[0]
        issuer = x509.load_pem_x509_certificate(ca.cert_pem.bytes())
        leaf.verify_directly_issued_by(issuer)
        assert leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "CP-1"
        assert leaf.public_key() == key.public_key()
        usage = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        assert ExtendedKeyUsageOID.CLIENT_AUTH in usage

        async def recorded() -> bool:
            store = signing_app.services.chargers.store
            return [e["detail"] for e in await store.events("CP-1", "CertificateSignedSent")] == [
                "Accepted"
            ]

        await eventually(recorded)
    requests = await signing_app.services.chargers.store.events("CP-1", "SignCertificate")
    assert [e["detail"] for e in requests] == ["Accepted"]


@pytest.mark.parametrize(
    "csr",
    [
        "-----BEGIN CERTIFICATE REQUEST-----\nbm90IGEgQ1NS\n-----END CERTIFICATE REQUEST-----",
        tampered(make_csr("CP-1")),
        make_csr("CP-OTHER"),  # a charger may not ask for another's certificate
    ],
    ids=["garbage", "bad-signature", "other-identity"],
)
async def test_refuses_a_csr_it_must_not_sign(signing_app: CsmsApp, csr: str) -> None:
    async with await booted(signing_app) as client:
        assert await client.result("SignCertificate", {"csr": csr}) == {"status": "Rejected"}
        # nothing follows: the next frame is the answer to our own Heartbeat
        assert "currentTime" in await client.result("Heartbeat", {})
    requests = await signing_app.services.chargers.store.events("CP-1", "SignCertificate")
    assert [e["detail"] for e in requests] == ["Rejected"]


async def test_refuses_every_csr_without_a_ca(csms_app: CsmsApp) -> None:
    await csms_app.services.chargers.register("CP-1")
    async with await booted(csms_app) as client:
        answer = await client.result("SignCertificate", {"csr": make_csr("CP-1")})
        assert answer == {"status": "Rejected"}
        assert "currentTime" in await client.result("Heartbeat", {})


def test_a_ca_key_that_is_not_the_certificates_is_refused(ca: trustme.CA) -> None:
    other = trustme.CA()
    with pytest.raises(ValueError, match="not the key of"):
        ChargePointCa.from_pem(ca.cert_pem.bytes(), other.private_key_pem.bytes())
    with pytest.raises(ValueError, match="no PEM certificate"):
        ChargePointCa.from_pem(b"nothing", ca.private_key_pem.bytes())


def test_an_intermediate_ca_sends_its_own_certificate_along() -> None:
    root = trustme.CA()
    intermediate = root.create_child_ca()
    signer = ChargePointCa.from_pem(
        intermediate.cert_pem.bytes(), intermediate.private_key_pem.bytes()
    )
    chain = x509.load_pem_x509_certificates(
        signer.sign(x509.load_pem_x509_csr(make_csr("CP-1").encode())).encode()
    )
    assert [c.subject for c in chain[1:]] == [signer.certificate.subject]
