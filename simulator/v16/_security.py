"""The OCPP 1.6 security whitepaper operations: extended triggers, certificates, logs and
signed firmware. The charge point's own certificate is checked against the key of its CSR;
other certificates are kept as given."""

from __future__ import annotations

import hashlib
from typing import Any

from ..incoming import Outcome
from ._features import Features
from ._transactions import log

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


class SecurityOperations(Features):
    """Handlers of the security whitepaper operations."""

    async def op_ExtendedTriggerMessage(self, p: Payload, outcome: Outcome) -> Payload:
        return self._trigger(p["requestedMessage"], p.get("connectorId"), extended=True)

    async def op_CertificateSigned(self, p: Payload, outcome: Outcome) -> Payload:
        chain = p["certificateChain"]
        if outcome.fail_at is not None:
            return {"status": "Rejected"}
        limit = self.config.get_int("CertificateSignedMaxChainSize")
        if len(chain) > limit:
            problem: str | None = f"chain of {len(chain)} characters, more than {limit}"
        else:
            from .. import certificates  # loaded only by the charge points asked for a CSR

            problem = certificates.chain_problem(chain, self.csr_key, self.now())
        if problem is not None:  # discarded, and reported as a security event (A02.FR.07)
            log.info("%s: CertificateSigned rejected: %s", self.identity, problem)
            event = {
                "type": "InvalidChargePointCertificate",
                "timestamp": self.timestamp(),
                "techInfo": problem[:255],
            }
            self.after_reply(lambda: self._send_follow_up("SecurityEventNotification", event))
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
        if len(self.certificates) >= self.config.get_int("CertificateStoreMaxLength"):
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
        self.after_reply(
            lambda: self._notify_sequence(
                "LogStatusNotification",
                ["Uploading", "UploadFailure" if failed else "Uploaded"],
                None,
                request_id=request_id,
            )
        )
        return {"status": "Accepted", "filename": f"{p['logType']}-{self.identity}.log"}

    async def op_SignedUpdateFirmware(self, p: Payload, outcome: Outcome) -> Payload:
        firmware = p["firmware"]
        if "BEGIN CERTIFICATE" not in firmware["signingCertificate"]:
            return {"status": "InvalidCertificate"}
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
        self.after_reply(
            lambda: self._notify_sequence(
                "SignedFirmwareStatusNotification",
                steps,
                firmware["retrieveDateTime"],
                new_firmware=None if fail else f"{self.firmware_version}+1",
                request_id=p["requestId"],
            )
        )
        return {"status": "Accepted"}
