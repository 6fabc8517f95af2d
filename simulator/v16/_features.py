"""Answers to the optional 1.6 feature profiles: firmware management, local authorization list,
reservation and smart charging."""

from __future__ import annotations

import functools
from typing import Any

from ocppj.timestamps import parse

from ..incoming import Outcome
from ._operations import Operations
from .connector import Connector, Reservation

Payload = dict[str, Any]


class Features(Operations):
    """Handlers of the FirmwareManagement, LocalAuthListManagement, Reservation and
    SmartCharging profiles."""

    # -- firmware management -----------------------------------------------------------------

    async def op_GetDiagnostics(self, p: Payload, outcome: Outcome) -> Payload:
        name = f"diagnostics-{self.identity}-{self.now():%Y%m%d%H%M%S}.log"
        fail = outcome.fail_at is not None
        self.after_reply(
            lambda: self._notify_sequence(
                "DiagnosticsStatusNotification",
                ["Uploading", "UploadFailed" if fail else "Uploaded"],
                None,
            )
        )
        return {"fileName": name}

    async def op_UpdateFirmware(self, p: Payload, outcome: Outcome) -> Payload:
        steps = ["Downloading", "Downloaded", "Installing", "Installed"]
        fail = outcome.fail_at
        if fail in ("Downloading", "Downloaded"):
            steps = ["Downloading", "DownloadFailed"]
        elif fail in ("Installing", "Installed"):
            steps = ["Downloading", "Downloaded", "Installing", "InstallationFailed"]
        self.after_reply(
            lambda: self._notify_sequence(
                "FirmwareStatusNotification",
                steps,
                p["retrieveDate"],
                new_firmware=None if fail else f"{self.firmware_version}+1",
            )
        )
        return {}

    async def _notify_sequence(
        self,
        action: str,
        steps: list[str],
        at: str | None,
        new_firmware: str | None = None,
        request_id: int | None = None,
    ) -> None:
        if at is not None:
            wait = (parse(at) - self.now()).total_seconds()
            if wait > 0:
                await self.clock.sleep(wait)
        step_s = self.spec.operation_step_s
        for step in steps:
            if step == "Installed" and new_firmware is not None:
                await self._install(new_firmware)
            payload: Payload = {"status": step}
            if request_id is not None:
                payload["requestId"] = request_id
            await self._send_follow_up(action, payload)
            if step_s:
                await self.clock.sleep(step_s)

    async def _install(self, firmware: str) -> None:
        """Activate new firmware: wait for running transactions to end, reboot, boot again
        (the BootNotification shows the new version), then report Installed."""
        while any(c.transaction is not None for c in self.connectors.values()):
            await self.clock.sleep(max(0.05, self.spec.time_scale))
        self.firmware_version = firmware
        if self.spec.reboot_to_install:
            await self._restart("Soft")
            await self.ready.wait()

    # -- local authorization list ------------------------------------------------------------

    async def op_SendLocalList(self, p: Payload, outcome: Outcome) -> Payload:
        status = self.auth.send_local_list(
            p["listVersion"], p["updateType"], p.get("localAuthorizationList") or []
        )
        return {"status": status}

    async def op_GetLocalListVersion(self, p: Payload, outcome: Outcome) -> Payload:
        return {"listVersion": self.auth.get_version()}

    # -- reservation -------------------------------------------------------------------------

    async def op_ReserveNow(self, p: Payload, outcome: Outcome) -> Payload:
        number = p["connectorId"]
        if number not in self.connectors:
            return {"status": "Rejected"}
        if number == 0 and not self.config.get_bool("ReserveConnectorZeroSupported"):
            return {"status": "Rejected"}
        c = self.connectors[number]
        existing = c.reservation
        if c.faulted:
            return {"status": "Faulted"}
        if not c.operative:
            return {"status": "Unavailable"}
        if existing is not None and existing.reservation_id != p["reservationId"]:
            return {"status": "Occupied"}
        if c.transaction is not None or c.plugged or c.authorized_tag is not None:
            return {"status": "Occupied"}
        reservation = Reservation(
            p["reservationId"],
            number,
            p["idTag"],
            parse(p["expiryDate"]),
            p.get("parentIdTag"),
        )
        c.reservation = reservation
        self._timer(f"reservation:{number}", self._expire(c, reservation))
        self.after_reply(lambda: self._settle(c))
        return {"status": "Accepted"}

    async def _expire(self, c: Connector, reservation: Reservation) -> None:
        wait = (reservation.expiry - self.now()).total_seconds()
        if wait > 0:
            await self.clock.sleep(wait)
        if c.reservation is reservation:
            c.reservation = None
            await self._settle(c)

    async def op_CancelReservation(self, p: Payload, outcome: Outcome) -> Payload:
        for c in self.connectors.values():
            if c.reservation is not None and c.reservation.reservation_id == p["reservationId"]:
                c.reservation = None
                self._cancel(f"reservation:{c.connector_id}")
                self.after_reply(functools.partial(self._settle, c))
                return {"status": "Accepted"}
        return {"status": "Rejected"}

    # -- smart charging ----------------------------------------------------------------------

    async def op_SetChargingProfile(self, p: Payload, outcome: Outcome) -> Payload:
        number = p["connectorId"]
        if number not in self.connectors:
            return {"status": "Rejected"}
        if "SmartCharging" not in self.config.get_list("SupportedFeatureProfiles"):
            return {"status": "NotSupported"}
        tx = self.connectors[number].transaction
        status = self.profiles.install(
            number, p["csChargingProfiles"], tx.transaction_id if tx else None
        )
        if status == "Accepted":
            self._apply_limits()
        return {"status": status}

    async def op_ClearChargingProfile(self, p: Payload, outcome: Outcome) -> Payload:
        status = self.profiles.clear(
            p.get("id"),
            p.get("connectorId"),
            p.get("chargingProfilePurpose"),
            p.get("stackLevel"),
        )
        self._apply_limits()
        return {"status": status}

    async def op_GetCompositeSchedule(self, p: Payload, outcome: Outcome) -> Payload:
        number = p["connectorId"]
        if number not in self.connectors:
            return {"status": "Rejected"}
        c = self.connectors[number]
        now = self.now()
        schedule = self.profiles.composite(
            number,
            now,
            p["duration"],
            p.get("chargingRateUnit", "W"),
            c.transaction.started_at if c.transaction else None,
            c.meter.voltage,
            c.meter.phases,
        )
        answer: Payload = {"status": "Accepted", "connectorId": number}
        if schedule is not None:
            answer["scheduleStart"] = schedule["startSchedule"]
            answer["chargingSchedule"] = schedule
        return answer
