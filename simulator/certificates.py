"""The charge point's own certificate: a key pair made on request, its PKCS#10 CSR, and the check
of the chain the CSMS sends back (security whitepaper A02: the private key never leaves); the
check of a firmware signing certificate (L01).

Imported only when a charge point is asked for a CSR or a firmware update, so fleets that never
are do not load `cryptography`.
"""

from __future__ import annotations

from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
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


def signing_problem(pem: str, now: datetime, roots: list[str]) -> str | None:
    """Why `pem` cannot be a firmware signing certificate (None: it can): it must be PEM
    X.509, valid now and, when there are `roots` (the installed ManufacturerRootCertificates),
    issued by one of them."""
    try:
        certificate = x509.load_pem_x509_certificate(pem.encode())
    except ValueError as exc:
        return f"not a PEM X.509 certificate: {exc}"
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        return (
            f"valid from {certificate.not_valid_before_utc:%Y-%m-%dT%H:%M:%SZ} "
            f"to {certificate.not_valid_after_utc:%Y-%m-%dT%H:%M:%SZ}, not now"
        )
    if roots and not any(_issued_by(certificate, root) for root in roots):
        return "not issued by an installed ManufacturerRootCertificate"
    return None


def _issued_by(certificate: x509.Certificate, root_pem: str) -> bool:
    try:
        root = x509.load_pem_x509_certificate(root_pem.encode())
        certificate.verify_directly_issued_by(root)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _spki(public_key: CertificatePublicKeyTypes) -> bytes:
    """The DER SubjectPublicKeyInfo of a public key, to compare keys of any type."""
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def hash_data(pem: str) -> dict[str, str]:
    """CertificateHashData of the first certificate in `pem` (as in an OCSP CertID): SHA-256
    of its issuer's DER name and of its issuer's public key (the next certificate's in a
    chain; its own when alone, as a root is), its serial number in hex. ValueError when
    `pem` holds no certificate."""
    chain = x509.load_pem_x509_certificates(pem.encode())
    certificate = chain[0]
    issuer = chain[1] if len(chain) > 1 else certificate
    name_hash = hashes.Hash(hashes.SHA256())
    name_hash.update(certificate.issuer.public_bytes())
    key_hash = hashes.Hash(hashes.SHA256())
    key_hash.update(_key_bits(issuer.public_key()))
    return {
        "hashAlgorithm": "SHA256",
        "issuerNameHash": name_hash.finalize().hex(),
        "issuerKeyHash": key_hash.finalize().hex(),
        "serialNumber": format(certificate.serial_number, "x"),
    }


def _key_bits(public_key: CertificatePublicKeyTypes) -> bytes:
    """The subjectPublicKey BIT STRING's content: what an OCSP issuerKeyHash hashes."""
    der = _spki(public_key)
    # SubjectPublicKeyInfo ::= SEQUENCE { algorithm SEQUENCE, subjectPublicKey BIT STRING }
    offset = _skip_header(der, 0)  # into the outer SEQUENCE
    offset = _skip_element(der, offset)  # past the algorithm
    start = _skip_header(der, offset)  # into the BIT STRING
    return der[start + 1 :]  # after its count of unused bits


def _skip_header(der: bytes, offset: int) -> int:
    length = der[offset + 1]
    return offset + 2 + (length & 0x7F if length & 0x80 else 0)


def _skip_element(der: bytes, offset: int) -> int:
    length = der[offset + 1]
    if length & 0x80:
        count = length & 0x7F
        size = int.from_bytes(der[offset + 2 : offset + 2 + count], "big")
        return offset + 2 + count + size
    return offset + 2 + length
