"""Answers to every CSMS-initiated OCPP 1.6 operation (core, firmware, local list, reservation,
smart charging, remote trigger, and the security whitepaper extensions).

Each handler answers quickly; the work that follows (a transaction, a reboot, a firmware
sequence) runs in a task of the charge point, started once the answer is on the wire.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ocppj import RpcError

from ..errors import NotConnected
from ..incoming import Outcome
from ._driver import Driver
from ._transactions import log
from .connector import Connector, Status
from .profiles import TX

if TYPE_CHECKING:
    from ..certificates import Key

S = Status
Payload = dict[str, Any]


class Operations(Driver):
    """Handlers of the CSMS-initiated 1.6 operations."""

    # Class defaults, set on the instance only once a CSR is asked for: no cost to a fleet.
    csr_key: Key | None = None  # the key of the CSR awaiting its certificate
    certificate_key: Key | None = None  # the key of the installed ChargePointCertificate

    # Made on first use, like the handler table: most charge points of a fleet never hold one.
    @functools.cached_property
    def certificates(self) -> dict[str, str]:
        """Installed certificates: serial -> PEM."""
        return {}

    @functools.cached_property
    def cert_types(self) -> dict[str, str]:
        """Installed certificates: serial -> certificate type."""
        return {}

    async def _send_follow_up(self, action: str, payload: Payload) -> None:
        """A notification after an operation; lost (logged) when offline."""
        try:
            await self._call(action, payload)
        except (RpcError, NotConnected) as exc:
            log.info("%s: %s not delivered: %s", self.identity, action, exc)

    # -- core --------------------------------------------------------------------------------

    async def op_RemoteStartTransaction(self, p: Payload, outcome: Outcome) -> Payload:
        wanted = p.get("connectorId")
        profile = p.get("chargingProfile")
        if profile is not None and profile["chargingProfilePurpose"] != TX:
            return {"status": "Rejected"}
        c = self._free_connector(wanted, p["idTag"])
        if c is None:
            return {"status": "Rejected"}
        self.after_reply(lambda: self._remote_start(c, p["idTag"], profile, outcome.fail_at))
        return {"status": "Accepted"}

    def _free_connector(self, wanted: int | None, id_tag: str) -> Connector | None:
        candidates = (
            [self.connectors[wanted]]
            if wanted in self.connectors and wanted
            else ([c for c in self.connectors.values() if c.connector_id] if wanted is None else [])
        )
        for c in sorted(candidates, key=lambda c: not c.plugged):  # a waiting cable first
            reserved_for_other = c.reservation is not None and c.reservation.id_tag != id_tag
            if (
                c.transaction is None
                and c.operative
                and not c.faulted
                and c.status in (S.AVAILABLE, S.PREPARING, S.RESERVED, S.FINISHING)
                and not reserved_for_other
                and c.authorized_tag is None
            ):
                return c
        return None

    async def _remote_start(
        self, c: Connector, id_tag: str, profile: Payload | None, fail_at: str | None
    ) -> None:
        if fail_at == "Authorize" or (
            self.config.get_bool("AuthorizeRemoteTxRequests")
            and (await self._authorize(id_tag)).get("status") != "Accepted"
        ):
            return
        if fail_at == "StartTransaction" or self._free_connector(c.connector_id, id_tag) is not c:
            return  # taken, faulted or made Unavailable while the tag was being authorized
        c.authorized_tag = id_tag
        c.pending_profile = profile
        if c.plugged:
            await self._begin(c, id_tag)
        else:
            await self._settle(c)
            self._timer(f"timeout:{c.connector_id}", self._connection_timeout(c))

    async def op_RemoteStopTransaction(self, p: Payload, outcome: Outcome) -> Payload:
        for c in self.connectors.values():
            tx = c.transaction
            if tx is not None and tx.transaction_id == p["transactionId"]:
                self.after_reply(functools.partial(self._end_if, c, tx.transaction_id, "Remote"))
                return {"status": "Accepted"}
        return {"status": "Rejected"}

    async def _end_if(self, c: Connector, transaction_id: int | None, reason: str) -> None:
        if c.transaction is not None and c.transaction.transaction_id == transaction_id:
            await self._end(c, reason)

    async def op_Reset(self, p: Payload, outcome: Outcome) -> Payload:
        self.after_reply(lambda: self._restart(p["type"]))
        return {"status": "Accepted"}

    async def op_ChangeConfiguration(self, p: Payload, outcome: Outcome) -> Payload:
        key, value = p["key"], p["value"]
        if key == "SecurityProfile":
            return self._raise_profile(value)
        status = self.config.change(key, value)
        if status in ("Accepted", "RebootRequired") and key == "AuthorizationKey":
            self.password = value  # used from the next connection on
        return {"status": status}

    def _raise_profile(self, value: str) -> Payload:
        """Whitepaper A05: only to a higher profile, only with what it needs (a password for
        1 and 2, somewhere to connect with it); then drop the link and connect with it."""
        current = self.security().profile
        new = int(value) if value.isdigit() else -1
        target = self.target(new) if current < new <= 3 else None
        if not 0 <= new <= 3:
            why = f"{value!r} is not a security profile (0 to 3)"
        elif new <= current:
            why = f"security profile {new} is not above the one in use, {current} (A05)"
        elif target is None:
            why = f"no endpoint for security profile {new}: no CSMS URL (and TLS) known for it"
        elif new in (1, 2) and not self.password:
            why = f"security profile {new} needs a Basic Auth password, and there is none"
        else:
            self.after_reply(lambda: self.switch_profile(new, target))
            return {"status": "Accepted"}
        self.explain(f"SecurityProfile {value} Rejected: {why}")
        return {"status": "Rejected"}

    async def op_GetConfiguration(self, p: Payload, outcome: Outcome) -> Payload:
        keys = p.get("key") or []
        if len(keys) > self.config.get_int("GetConfigurationMaxKeys"):
            keys = keys[: self.config.get_int("GetConfigurationMaxKeys")]
        report = self.config.report(keys)
        for entry in report["configurationKey"]:
            if entry["key"] == "SecurityProfile":  # the profile it connects with, in effect
                entry["value"] = str(self.security().profile)
        return report

    async def op_ChangeAvailability(self, p: Payload, outcome: Outcome) -> Payload:
        """OCPP 1.6 section 5.2: Scheduled while a transaction is in progress (the change
        follows its end); otherwise Accepted and done at once. A connector in Preparing has
        no transaction: its pending session is dropped (see `_set_operative`)."""
        operative = p["type"] == "Operative"
        number = p["connectorId"]
        if number not in self.connectors:
            return {"status": "Rejected"}
        targets = list(self.connectors.values()) if number == 0 else [self.connectors[number]]
        scheduled = False
        for c in targets:
            if c.transaction is not None and c.operative != operative:
                c.scheduled_operative = operative
                scheduled = True
            else:
                self._set_operative(c, operative)
        self.after_reply(lambda: self._settle_all(targets))
        return {"status": "Scheduled" if scheduled else "Accepted"}

    async def _settle_all(self, targets: list[Connector]) -> None:
        for c in targets:
            await self._settle(c)

    async def op_UnlockConnector(self, p: Payload, outcome: Outcome) -> Payload:
        number = p["connectorId"]
        if number not in self.connectors or number == 0:
            return {"status": "NotSupported"}
        if outcome.fail_at is not None:
            return {"status": "UnlockFailed"}
        c = self.connectors[number]
        if c.transaction is not None:
            tx_id = c.transaction.transaction_id
            self.after_reply(lambda: self._end_if(c, tx_id, "UnlockCommand"))
        return {"status": "Unlocked"}

    async def op_ClearCache(self, p: Payload, outcome: Outcome) -> Payload:
        return {"status": self.auth.clear_cache()}

    async def op_DataTransfer(self, p: Payload, outcome: Outcome) -> Payload:
        return {"status": "UnknownVendorId"}

    async def op_TriggerMessage(self, p: Payload, outcome: Outcome) -> Payload:
        return self._trigger(p["requestedMessage"], p.get("connectorId"), extended=False)

    def _trigger(self, message: str, number: int | None, extended: bool) -> Payload:
        if number is not None and number not in self.connectors:
            return {"status": "Rejected"}
        work: dict[str, Callable[[], Awaitable[None]]] = {
            "BootNotification": lambda: self._send_follow_up(
                "BootNotification", self.boot_payload()
            ),
            "Heartbeat": lambda: self._send_follow_up("Heartbeat", {}),
            "StatusNotification": lambda: self._report_some(number),
            "MeterValues": lambda: self._triggered_meter_values(number),
            "DiagnosticsStatusNotification": lambda: self._send_follow_up(
                "DiagnosticsStatusNotification", {"status": "Idle"}
            ),
            "FirmwareStatusNotification": lambda: self._send_follow_up(
                "FirmwareStatusNotification", {"status": "Idle"}
            ),
        }
        if extended:
            work.pop("DiagnosticsStatusNotification")
            work["LogStatusNotification"] = lambda: self._send_follow_up(
                "LogStatusNotification", {"status": "Idle"}
            )
            # whitepaper: an extended trigger of FirmwareStatusNotification gets the signed one
            work["FirmwareStatusNotification"] = lambda: self._send_follow_up(
                "SignedFirmwareStatusNotification", {"status": "Idle"}
            )
            work["SignChargePointCertificate"] = self._request_certificate
        job = work.get(message)
        if job is None:
            return {"status": "NotImplemented"}

        async def run() -> None:
            await job()

        self.after_reply(run)
        return {"status": "Accepted"}

    async def _request_certificate(self) -> None:
        """A new key pair, kept here; its CSR goes to the CSMS (whitepaper A02.FR.02-03)."""
        from .. import certificates  # loaded only by the charge points asked for a CSR

        self.csr_key = certificates.new_key()
        csr = certificates.csr_pem(self.csr_key, self.identity, self.config.get("CpoName"))
        await self._send_follow_up("SignCertificate", {"csr": csr})

    async def _report_some(self, number: int | None) -> None:
        for c in self.connectors.values():
            if number is None or c.connector_id == number:
                await self._report(c)

    async def _triggered_meter_values(self, number: int | None) -> None:
        for c in self.connectors.values():
            if c.connector_id == 0 or (number not in (None, 0) and c.connector_id != number):
                continue
            payload: Payload = {
                "connectorId": c.connector_id,
                "meterValue": [
                    {
                        "timestamp": self.timestamp(),
                        "sampledValue": c.meter.sample(
                            self.config.get_list("MeterValuesSampledData"), "Trigger"
                        ),
                    }
                ],
            }
            if c.transaction is not None and c.transaction.transaction_id is not None:
                payload["transactionId"] = c.transaction.transaction_id
            await self._send_follow_up("MeterValues", payload)
