"""Answers to the core CSMS-initiated OCPP 1.6 operations: remote start and stop, reset,
configuration, availability, unlock, cache, data transfer and remote trigger.

Each handler answers quickly; the work that follows (a transaction, a reboot, a profile
switch) runs once the answer is on the wire (`after_reply`)."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from ..incoming import Outcome
from .connector import Connector, Status
from .metering import sampled_values
from .profiles import TX
from .state import State16
from .transactions import Transactions16

__all__ = ["CoreOperations"]

S = Status
Payload = dict[str, Any]
Job = Callable[[], Awaitable[None]]


class CoreOperations:
    """Handlers (`op_<Action>`) of the Core and RemoteTrigger profiles."""

    def __init__(self, state: State16, tx: Transactions16) -> None:
        self.state = state
        self.station = state.station
        self.tx = tx

    async def op_RemoteStartTransaction(self, p: Payload, outcome: Outcome) -> Payload:
        wanted = p.get("connectorId")
        profile = p.get("chargingProfile")
        if profile is not None and profile["chargingProfilePurpose"] != TX:
            return {"status": "Rejected"}
        c = self._free_connector(wanted, p["idTag"])
        if c is None:
            return {"status": "Rejected"}
        self.station.after_reply(
            lambda: self._remote_start(c, p["idTag"], profile, outcome.fail_at)
        )
        return {"status": "Accepted"}

    def _free_connector(self, wanted: int | None, id_tag: str) -> Connector | None:
        connectors = self.state.connectors
        candidates = (
            [connectors[wanted]]
            if wanted in connectors and wanted
            else ([c for c in connectors.values() if c.connector_id] if wanted is None else [])
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
            self.state.config.get_bool("AuthorizeRemoteTxRequests")
            and (await self.tx.authorize(id_tag)).get("status") != "Accepted"
        ):
            return
        if fail_at == "StartTransaction" or self._free_connector(c.connector_id, id_tag) is not c:
            return  # taken, faulted or made Unavailable while the tag was being authorized
        c.authorized_tag = id_tag
        c.pending_profile = profile
        if c.plugged:
            await self.tx.begin(c, id_tag)
        else:
            await self.tx.settle(c)
            self.tx.wait_for_cable(c)

    async def op_RemoteStopTransaction(self, p: Payload, outcome: Outcome) -> Payload:
        for c in self.state.connectors.values():
            tx = c.transaction
            if tx is not None and tx.transaction_id == p["transactionId"]:
                self.station.after_reply(
                    functools.partial(self.tx.end_if, c, tx.transaction_id, "Remote")
                )
                return {"status": "Accepted"}
        return {"status": "Rejected"}

    async def op_Reset(self, p: Payload, outcome: Outcome) -> Payload:
        self.station.after_reply(lambda: self.tx.restart(p["type"]))
        return {"status": "Accepted"}

    async def op_ChangeConfiguration(self, p: Payload, outcome: Outcome) -> Payload:
        key, value = p["key"], p["value"]
        if key == "SecurityProfile":
            return self._raise_profile(value)
        status = self.state.config.change(key, value)
        if status in ("Accepted", "RebootRequired") and key == "AuthorizationKey":
            self.station.password = value  # used from the next connection on
        return {"status": status}

    def _raise_profile(self, value: str) -> Payload:
        """Whitepaper A05: only to a higher profile, only with what it needs (a password for
        1 and 2, somewhere to connect with it); then drop the link and connect with it."""
        station = self.station
        current = station.security().profile
        new = int(value) if value.isdigit() else -1
        target = station.target(new) if current < new <= 3 else None
        if not 0 <= new <= 3:
            why = f"{value!r} is not a security profile (0 to 3)"
        elif new <= current:
            why = f"security profile {new} is not above the one in use, {current} (A05)"
        elif target is None:
            why = f"no endpoint for security profile {new}: no CSMS URL (and TLS) known for it"
        elif new in (1, 2) and not station.password:
            why = f"security profile {new} needs a Basic Auth password, and there is none"
        else:
            config = self.state.config
            before = config.get("SecurityProfile")

            async def switch() -> None:
                config.set("SecurityProfile", new)
                await station.switch_profile(
                    new, target, undo=lambda: config.set("SecurityProfile", before)
                )

            station.after_reply(switch)
            return {"status": "Accepted"}
        station.explain(f"SecurityProfile {value} Rejected: {why}")
        return {"status": "Rejected"}

    async def op_GetConfiguration(self, p: Payload, outcome: Outcome) -> Payload:
        config = self.state.config
        keys = p.get("key") or []
        if len(keys) > config.get_int("GetConfigurationMaxKeys"):
            keys = keys[: config.get_int("GetConfigurationMaxKeys")]
        report = config.report(keys)
        for entry in report["configurationKey"]:
            if entry["key"] == "SecurityProfile":  # the profile it connects with, in effect
                entry["value"] = str(self.station.security().profile)
        return report

    async def op_ChangeAvailability(self, p: Payload, outcome: Outcome) -> Payload:
        """OCPP 1.6 section 5.2: Scheduled while a transaction is in progress (the change
        follows its end); otherwise Accepted and done at once. A connector in Preparing has
        no transaction: its pending session is dropped (see `set_operative`)."""
        connectors = self.state.connectors
        operative = p["type"] == "Operative"
        number = p["connectorId"]
        if number not in connectors:
            return {"status": "Rejected"}
        targets = list(connectors.values()) if number == 0 else [connectors[number]]
        scheduled = False
        for c in targets:
            if c.transaction is not None and c.operative != operative:
                c.scheduled_operative = operative
                scheduled = True
            else:
                self.tx.set_operative(c, operative)
        self.station.after_reply(lambda: self._settle_all(targets))
        return {"status": "Scheduled" if scheduled else "Accepted"}

    async def _settle_all(self, targets: list[Connector]) -> None:
        await self.tx.settle_all(targets)

    async def op_UnlockConnector(self, p: Payload, outcome: Outcome) -> Payload:
        connectors = self.state.connectors
        number = p["connectorId"]
        if number not in connectors or number == 0:
            return {"status": "NotSupported"}
        if outcome.fail_at is not None:
            return {"status": "UnlockFailed"}
        c = connectors[number]
        if c.transaction is not None:
            tx_id = c.transaction.transaction_id
            self.station.after_reply(lambda: self.tx.end_if(c, tx_id, "UnlockCommand"))
        return {"status": "Unlocked"}

    async def op_ClearCache(self, p: Payload, outcome: Outcome) -> Payload:
        return {"status": self.state.auth.clear_cache()}

    async def op_DataTransfer(self, p: Payload, outcome: Outcome) -> Payload:
        return {"status": "UnknownVendorId"}

    async def op_TriggerMessage(self, p: Payload, outcome: Outcome) -> Payload:
        return self.trigger(p["requestedMessage"], p.get("connectorId"))

    def trigger(self, message: str, number: int | None, sign: Job | None = None) -> Payload:
        """TriggerMessage, or with `sign` (the CSR's sending) ExtendedTriggerMessage."""
        if number is not None and number not in self.state.connectors:
            return {"status": "Rejected"}
        notify = self.station.notify
        work: dict[str, Job] = {
            "BootNotification": lambda: notify("BootNotification", boot_payload(self.state)),
            "Heartbeat": lambda: notify("Heartbeat", {}),
            "StatusNotification": lambda: self._report_some(number),
            "MeterValues": lambda: self._triggered_meter_values(number),
            "DiagnosticsStatusNotification": lambda: notify(
                "DiagnosticsStatusNotification", {"status": "Idle"}
            ),
            "FirmwareStatusNotification": lambda: notify(
                "FirmwareStatusNotification", {"status": "Idle"}
            ),
        }
        if sign is not None:
            work.pop("DiagnosticsStatusNotification")
            work["LogStatusNotification"] = lambda: notify(
                "LogStatusNotification", {"status": "Idle"}
            )
            # whitepaper: an extended trigger of FirmwareStatusNotification gets the signed one
            work["FirmwareStatusNotification"] = lambda: notify(
                "SignedFirmwareStatusNotification", {"status": "Idle"}
            )
            work["SignChargePointCertificate"] = sign
        job = work.get(message)
        if job is None:
            return {"status": "NotImplemented"}

        async def run() -> None:
            await job()

        self.station.after_reply(run)
        return {"status": "Accepted"}

    async def _report_some(self, number: int | None) -> None:
        for c in self.state.connectors.values():
            if number is None or c.connector_id == number:
                await self.tx.report(c)

    async def _triggered_meter_values(self, number: int | None) -> None:
        state = self.state
        for c in state.connectors.values():
            if c.connector_id == 0 or (number not in (None, 0) and c.connector_id != number):
                continue
            payload: Payload = {
                "connectorId": c.connector_id,
                "meterValue": [
                    {
                        "timestamp": self.station.timestamp(),
                        "sampledValue": sampled_values(
                            c.meter, state.config.get_list("MeterValuesSampledData"), "Trigger"
                        ),
                    }
                ],
            }
            if c.transaction is not None and c.transaction.transaction_id is not None:
                payload["transactionId"] = c.transaction.transaction_id
            await self.station.notify("MeterValues", payload)


def boot_payload(state: State16) -> Payload:
    """The BootNotification of a 1.6 charge point."""
    spec = state.station.spec
    payload: Payload = {
        "chargePointVendor": spec.vendor,
        "chargePointModel": spec.model,
        "firmwareVersion": state.firmware_version,
    }
    optional = {
        "chargePointSerialNumber": spec.serial_number,
        "chargeBoxSerialNumber": spec.charge_box_serial_number,
        "iccid": spec.iccid,
        "imsi": spec.imsi,
        "meterType": spec.meter_type,
        "meterSerialNumber": spec.meter_serial_number,
    }
    payload.update({k: v for k, v in optional.items() if v is not None})
    return payload
