"""Security of a 2.0.1 station (OCPP 2.0.1 A02-A04, M03-M05): the CSR of its own
certificate (SignCertificate, once a TriggerMessage asks), CertificateSigned checked against
the key of that CSR, installed certificates with their hash data (InstallCertificate,
DeleteCertificate, GetInstalledCertificateIds) and SecurityEventNotification. Keys and
certificates are made only when asked: a fleet that never is holds none."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ocppj import RpcError

from ..errors import NotConnected
from ..incoming import Outcome
from .state import State201

if TYPE_CHECKING:
    from ..certificates import Key

__all__ = ["SecurityOperations"]

log = logging.getLogger("simulator")
Payload = dict[str, Any]
_USE = {"V2GCertificate": "V2GCertificateChain"}  # as GetInstalledCertificateIds names it


class SecurityOperations:
    """Handlers (`op_<Action>`) of certificates and security events."""

    def __init__(self, state: State201) -> None:
        self.state = state
        self.station = state.station

    # Made on first use: most stations of a fleet never hold one.
    @functools.cached_property
    def keys(self) -> dict[str, Key]:
        """The key of the CSR awaiting its certificate, per certificate type."""
        return {}

    @functools.cached_property
    def installed(self) -> dict[str, tuple[str, str, Payload]]:
        """serialNumber -> (certificate type, PEM, its hash data)."""
        return {}

    async def event(self, kind: str, tech_info: str | None = None) -> None:
        """A SecurityEventNotification (A04)."""
        payload: Payload = {"type": kind, "timestamp": self.station.timestamp()}
        if tech_info:
            payload["techInfo"] = tech_info[:255]
        await self.station.notify("SecurityEventNotification", payload)

    def sign(self, certificate_type: str) -> Callable[[], Awaitable[None]]:
        """The work of a triggered SignCertificate for `certificate_type`."""

        async def send() -> None:
            await self.request_certificate(certificate_type)

        return send

    async def request_certificate(self, certificate_type: str) -> None:
        """A new key pair, kept here; its CSR goes to the CSMS (A02.FR.02)."""
        from .. import certificates  # loaded only by the stations asked for a CSR

        key = certificates.new_key()
        organization = self.state.model.get("SecurityCtrlr.OrganizationName")
        csr = certificates.csr_pem(key, self.state.identity, organization)
        self.keys[certificate_type] = key
        try:
            answer = await self.station.call(
                "SignCertificate", {"csr": csr, "certificateType": certificate_type}
            )
        except (RpcError, NotConnected) as exc:
            log.info("%s: SignCertificate not delivered: %s", self.state.identity, exc)
            return
        if answer.get("status") != "Accepted":
            self.keys.pop(certificate_type, None)

    async def op_CertificateSigned(self, p: Payload, outcome: Outcome) -> Payload:
        from .. import certificates

        kind = p.get("certificateType", "ChargingStationCertificate")
        chain = p["certificateChain"]
        limit = self.state.model.get_int("SecurityCtrlr.MaxCertificateChainSize")
        problem: str | None
        if outcome.fail_at is not None:
            problem = f"told to fail at {outcome.fail_at}"
        elif len(chain) > limit:
            problem = f"chain of {len(chain)} characters, more than {limit}"
        else:
            problem = certificates.chain_problem(chain, self.keys.get(kind), self.station.now())
        if problem is not None:  # discarded, and told as a security event (A02.FR.07)
            self.station.explain(f"CertificateSigned Rejected: {problem}")
            self.station.after_reply(
                lambda: self.event("InvalidChargingStationCertificate", problem)
            )
            return {"status": "Rejected"}
        del self.keys[kind]
        self._install(kind, chain)
        return {"status": "Accepted"}

    def _install(self, kind: str, pem: str) -> Payload:
        from .. import certificates

        data = certificates.hash_data(pem)
        self.installed[data["serialNumber"]] = (kind, pem, data)
        self.state.auth.certificate_count = len(self.installed)
        return data

    async def op_InstallCertificate(self, p: Payload, outcome: Outcome) -> Payload:
        if outcome.fail_at is not None:
            return {"status": "Failed"}
        try:
            self._install(p["certificateType"], p["certificate"])
        except ValueError as exc:
            self.station.explain(f"InstallCertificate Rejected: not a certificate ({exc})")
            return {"status": "Rejected"}
        return {"status": "Accepted"}

    async def op_DeleteCertificate(self, p: Payload, outcome: Outcome) -> Payload:
        wanted = p["certificateHashData"]
        fields = ("hashAlgorithm", "issuerNameHash", "issuerKeyHash", "serialNumber")
        for serial, (kind, _, data) in list(self.installed.items()):
            if all(str(data[f]).lower() == str(wanted[f]).lower() for f in fields):
                if kind == "ChargingStationCertificate":  # M04.FR.06: not its own
                    return {"status": "Failed"}
                del self.installed[serial]
                self.state.auth.certificate_count = len(self.installed)
                return {"status": "Accepted"}
        return {"status": "NotFound"}

    async def op_GetInstalledCertificateIds(self, p: Payload, outcome: Outcome) -> Payload:
        wanted = p.get("certificateType")
        chains = [
            {"certificateType": _USE.get(kind, kind), "certificateHashData": data}
            for kind, _, data in self.installed.values()
            if kind != "ChargingStationCertificate"
            and (not wanted or _USE.get(kind, kind) in wanted)
        ]
        if not chains:
            return {"status": "NotFound"}
        return {"status": "Accepted", "certificateHashDataChain": chains}
