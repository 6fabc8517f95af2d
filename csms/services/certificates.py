"""Charge point certificates (security whitepaper A02, A03): check a charger's CSR, have the CA
sign it, and record both steps as charger events."""

from __future__ import annotations

import logging
from typing import Any

from cryptography import x509

from ..certificates import ChargePointCa, InvalidCsr, common_name, read_csr
from .chargers import ChargerService

log = logging.getLogger(__name__)


class CertificateService:
    def __init__(self, chargers: ChargerService, ca: ChargePointCa | None) -> None:
        self.chargers = chargers
        self.ca = ca

    async def request(self, charger_id: str, csr_pem: str) -> x509.CertificateSigningRequest | None:
        """The CSR of `charger_id` to sign, or None when it is refused: no CA is configured,
        the CSR does not parse or verify, or its common name is not the charger's identity
        (a charger may not ask for another's certificate)."""
        csr = None
        if self.ca is None:
            problem: str | None = "no CA for charge point certificates is configured"
        else:
            try:
                csr = read_csr(csr_pem)
            except InvalidCsr as exc:
                problem = str(exc)
            else:
                name = common_name(csr)
                problem = None if name == charger_id else f"CSR for {name!r}, not this charger"
        record: dict[str, Any] = {"csr": csr_pem}
        if problem is not None:
            log.info("%s: SignCertificate refused: %s", charger_id, problem)
            record["problem"] = problem
        status = "Rejected" if problem else "Accepted"
        await self.chargers.notification(charger_id, "SignCertificate", record, status)
        return None if problem else csr

    def sign(self, csr: x509.CertificateSigningRequest) -> str:
        """The PEM chain of the charger's new certificate."""
        assert self.ca is not None, "request() refuses CSRs when no CA is configured"
        return self.ca.sign(csr)

    async def sent(self, charger_id: str, status: str | None, exchange: dict[str, Any]) -> None:
        """Record that the signed certificate was sent, and the charger's verdict `status`
        (`exchange`: request and answer, kept with the event as `Operations` keeps them)."""
        await self.chargers.notification(charger_id, "CertificateSignedSent", exchange, status)
