"""Charge point certificates: reading a CSR, and signing it with the CA configured for the
chargers' certificates (`cp_ca_cert`, `cp_ca_key`), as in security whitepaper use case A02.

The whitepaper prefers a separate CA server (A02.FR.04); this in-process CA serves test benches
and small installations.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALIDITY = timedelta(days=365)
CLOCK_SKEW = timedelta(minutes=5)  # the certificate is valid a little before now
SigningKey = (
    rsa.RSAPrivateKey
    | ec.EllipticCurvePrivateKey
    | ed25519.Ed25519PrivateKey
    | ed448.Ed448PrivateKey
)


class InvalidCsr(ValueError):
    """Not a PKCS#10 request we can sign: unreadable, or its signature does not verify."""


def read_csr(pem: str) -> x509.CertificateSigningRequest:
    """The CSR in `pem`; InvalidCsr unless it parses and is signed by its own key."""
    try:
        csr = x509.load_pem_x509_csr(pem.encode())
        valid = csr.is_signature_valid
    except (ValueError, UnsupportedAlgorithm, InvalidSignature) as exc:
        raise InvalidCsr(f"not a PEM PKCS#10 request: {exc}") from exc
    if not valid:
        raise InvalidCsr("the CSR's signature does not verify")
    return csr


def common_name(csr: x509.CertificateSigningRequest) -> str | None:
    names = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else None


@dataclass(frozen=True)
class ChargePointCa:
    """The CA that signs the charge points' certificates."""

    certificate: x509.Certificate
    key: SigningKey
    chain: str  # PEM certificates sent after the charger's: the CA's own unless self-signed

    @classmethod
    def load(cls, cert_file: Path, key_file: Path | None = None) -> ChargePointCa:
        """From PEM files: the CA certificate (first, its own chain after it) and its key
        (None: in the certificate file). ValueError names the file that is unusable."""
        cert_data = cert_file.read_bytes()
        key_data = key_file.read_bytes() if key_file is not None else cert_data
        return cls.from_pem(cert_data, key_data, str(cert_file), str(key_file or cert_file))

    @classmethod
    def from_pem(
        cls, cert_data: bytes, key_data: bytes, cert_name: str = "CA", key_name: str = "CA key"
    ) -> ChargePointCa:
        try:
            certificates = x509.load_pem_x509_certificates(cert_data)
        except ValueError as exc:
            raise ValueError(f"{cert_name}: no PEM certificate: {exc}") from exc
        try:
            key = serialization.load_pem_private_key(key_data, password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise ValueError(f"{key_name}: no unencrypted PEM key: {exc}") from exc
        if not isinstance(key, SigningKey):
            raise ValueError(f"{key_name}: a {type(key).__name__} cannot sign certificates")
        if _spki(key.public_key()) != _spki(certificates[0].public_key()):
            raise ValueError(f"{key_name}: not the key of {cert_name}")
        issuers = [c for c in certificates if c.issuer != c.subject]  # roots stay out
        chain = "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in issuers)
        return cls(certificates[0], key, chain)

    def sign(self, csr: x509.CertificateSigningRequest, now: datetime | None = None) -> str:
        """A TLS client certificate for the CSR's subject and key; the PEM chain to send."""
        now = now or datetime.now(UTC)
        not_after = min(now + VALIDITY, self.certificate.not_valid_after_utc)
        subject_key = csr.public_key()
        builder = (
            x509.CertificateBuilder()
            .subject_name(csr.subject)
            .issuer_name(self.certificate.subject)
            .public_key(subject_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - CLOCK_SKEW)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=isinstance(subject_key, rsa.RSAPublicKey),
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(subject_key), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False,
            )
        )
        pure = isinstance(self.key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey)
        leaf = builder.sign(self.key, None if pure else hashes.SHA256())
        return leaf.public_bytes(serialization.Encoding.PEM).decode() + self.chain


def _spki(public_key: CertificatePublicKeyTypes) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
