"""The charge point's own certificate: a key pair made on request, its PKCS#10 CSR, and the check
of the chain the CSMS sends back (security whitepaper A02: the private key never leaves).

Imported only when a charge point is asked for a CSR, so fleets that never are do not load
`cryptography`.
"""

from __future__ import annotations

from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import NameOID

Key = ec.EllipticCurvePrivateKey


def new_key() -> Key:
    """A fresh P-256 key: quick to make, accepted by every TLS stack."""
    return ec.generate_private_key(ec.SECP256R1())


def csr_pem(key: Key, identity: str, organization: str = "") -> str:
    """A PEM CSR for `key`: CN = the charge point identity, O = the CpoName key when set."""
    names = [x509.NameAttribute(NameOID.COMMON_NAME, identity)]
    if organization:
        names.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    request = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(names))
    return request.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()


def chain_problem(chain: str, key: Key | None, now: datetime) -> str | None:
    """Why `chain` cannot be this charge point's certificate (None: it can): it must be PEM
    X.509, its first certificate must hold our pending key's public half and be valid now.
    Whether it chains to the CPO's root is not checked: the simulator holds no such root."""
    if key is None:
        return "no certificate signing request is pending"
    try:
        certificates = x509.load_pem_x509_certificates(chain.encode())
    except ValueError as exc:
        return f"not a PEM X.509 certificate chain: {exc}"
    leaf = certificates[0]
    if _spki(leaf.public_key()) != _spki(key.public_key()):
        return "the certificate is not for the key of our CSR"
    if not leaf.not_valid_before_utc <= now <= leaf.not_valid_after_utc:
        return (
            f"the certificate is valid from {leaf.not_valid_before_utc:%Y-%m-%dT%H:%M:%SZ} "
            f"to {leaf.not_valid_after_utc:%Y-%m-%dT%H:%M:%SZ}, not now"
        )
    return None


def _spki(public_key: CertificatePublicKeyTypes) -> bytes:
    """The DER SubjectPublicKeyInfo of a public key, to compare keys of any type."""
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
