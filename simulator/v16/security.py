"""Answers to the OCPP 1.6 security whitepaper operations: extended triggers, certificates,
logs and signed firmware. The charge point's own certificate is checked against the key of
its CSR; other certificates are kept as given. The keys and certificates live here, made
only when the CSMS asks: a fleet that is never asked holds none."""

from __future__ import annotations

import functools
import hashlib
import logging
from typing import TYPE_CHECKING, Any

from ..incoming import Outcome
from .features import FeatureOperations
from .operations import CoreOperations
from .state import State16

if TYPE_CHECKING:
    from ..certificates import Key

__all__ = ["SecurityOperations", "hash_data"]

log = logging.getLogger("simulator")
Payload = dict[str, Any]


def hash_data(pem: str) -> Payload:
    """CertificateHashData for a PEM text (hashes of the text: good enough for a simulator)."""
    digest = hashlib.sha256(pem.encode()).hexdigest()
    return {
        "hashAlgorithm": "SHA256",
        "issuerNameHash": digest[:64],
        "issuerKeyHash": digest[::-1][:64],
        "serialNumber": digest[:16],
    }


class SecurityOperations:
    """Handlers (`op_<Action>`) of the security whitepaper operations."""

    # Class defaults, set on the instance only once a CSR is asked for: no cost to a fleet.
    csr_key: Key | None = None  # the key of the CSR awaiting its certificate
    certificate_key: Key | None = None  # the key of the installed ChargePointCertificate

    def __init__(self, state: State16, core: CoreOperations, features: FeatureOperations) -> None:
        self.state = state
        self.station = state.station
        self.core = core
        self.features = features

    # Made on first use: most charge points of a fleet never hold one.
    @functools.cached_property
    def certificates(self) -> dict[str, str]:
        """Installed certificates: serial -> PEM."""
        return {}

    @functools.cached_property
    def cert_types(self) -> dict[str, str]:
        """Installed certificates: serial -> certificate type."""
        return {}

    async def op_ExtendedTriggerMessage(self, p: Payload, outcome: Outcome) -> Payload:
        return self.core.trigger(
            p["requestedMessage"], p.get("connectorId"), sign=self._request_certificate
        )

    async def _request_certificate(self) -> None:
        """A new key pair, kept here; its CSR goes to the CSMS (whitepaper A02.FR.02-03)."""
        from .. import certificates  # loaded only by the charge points asked for a CSR

        self.csr_key = certificates.new_key()
        csr = certificates.csr_pem(
            self.csr_key, self.state.identity, self.state.config.get("CpoName")
        )
        await self.station.notify("SignCertificate", {"csr": csr})

    async def op_CertificateSigned(self, p: Payload, outcome: Outcome) -> Payload:
        chain = p["certificateChain"]
        if outcome.fail_at is not None:
            return {"status": "Rejected"}
        limit = self.state.config.get_int("CertificateSignedMaxChainSize")
        if len(chain) > limit:
            problem: str | None = f"chain of {len(chain)} characters, more than {limit}"
        else:
            from .. import certificates  # loaded only by the charge points asked for a CSR

            problem = certificates.chain_problem(chain, self.csr_key, self.station.now())
        if problem is not None:  # discarded, and reported as a security event (A02.FR.07)
            log.info("%s: CertificateSigned rejected: %s", self.state.identity, problem)
            event = {
                "type": "InvalidChargePointCertificate",
                "timestamp": self.station.timestamp(),
                "techInfo": problem[:255],
            }
            self.station.after_reply(
                lambda: self.station.notify("SecurityEventNotification", event)
            )
            return {"status": "Rejected"}
        serial = hash_data(chain)["serialNumber"]
        self.certificates[serial] = chain
        self.cert_types[serial] = "ChargePointCertificate"
        self.certificate_key, self.csr_key = self.csr_key, None
        return {"status": "Accepted"}

    async def op_InstallCertificate(self, p: Payload, outcome: Outcome) -> Payload:
        pem = p["certificate"]
        if "BEGIN CERTIFICATE" not in pem:
            return {"status": "Rejected"}
        if len(self.certificates) >= self.state.config.get_int("CertificateStoreMaxLength"):
            return {"status": "Failed"}
        serial = hash_data(pem)["serialNumber"]
        self.certificates[serial] = pem
        self.cert_types[serial] = p["certificateType"]
        return {"status": "Accepted"}

    async def op_DeleteCertificate(self, p: Payload, outcome: Outcome) -> Payload:
        serial = p["certificateHashData"]["serialNumber"]
        if serial not in self.certificates:
            return {"status": "NotFound"}
        del self.certificates[serial]
        self.cert_types.pop(serial, None)
        return {"status": "Accepted"}

    async def op_GetInstalledCertificateIds(self, p: Payload, outcome: Outcome) -> Payload:
        wanted = p["certificateType"]
        found = [
            hash_data(pem)
            for serial, pem in self.certificates.items()
            if self.cert_types.get(serial) == wanted
        ]
        if not found:
            return {"status": "NotFound"}
        return {"status": "Accepted", "certificateHashData": found}

    async def op_GetLog(self, p: Payload, outcome: Outcome) -> Payload:
        request_id = p["requestId"]
        failed = outcome.fail_at is not None
        self.station.after_reply(
            lambda: self.features.notify_sequence(
                "LogStatusNotification",
                ["Uploading", "UploadFailure" if failed else "Uploaded"],
                None,
                request_id=request_id,
            )
        )
        return {"status": "Accepted", "filename": f"{p['logType']}-{self.state.identity}.log"}

    async def op_SignedUpdateFirmware(self, p: Payload, outcome: Outcome) -> Payload:
        firmware = p["firmware"]
        if "BEGIN CERTIFICATE" not in firmware["signingCertificate"]:
            return {"status": "InvalidCertificate"}
        if outcome.fail_at == "Revocation":
            return {"status": "RevokedCertificate"}
        steps = ["Downloading", "Downloaded", "SignatureVerified", "Installing", "Installed"]
        fail = outcome.fail_at
        if fail == "Downloading":
            steps = ["Downloading", "DownloadFailed"]
        elif fail == "SignatureVerified":
            steps = ["Downloading", "Downloaded", "InvalidSignature"]
        elif fail == "Installing":
            steps = [
                "Downloading",
                "Downloaded",
                "SignatureVerified",
                "Installing",
                "InstallationFailed",
            ]
        self.station.after_reply(
            lambda: self.features.notify_sequence(
                "SignedFirmwareStatusNotification",
                steps,
                firmware["retrieveDateTime"],
                new_firmware=None if fail else f"{self.state.firmware_version}+1",
                request_id=p["requestId"],
            )
        )
        return {"status": "Accepted"}
