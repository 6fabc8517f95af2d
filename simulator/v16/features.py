"""Answers to the optional OCPP 1.6 feature profiles: firmware management, local
authorization list, reservation and smart charging."""

from __future__ import annotations

import functools
from typing import Any

from ocppj.timestamps import parse

from ..incoming import Outcome
from .connector import Connector, Reservation
from .state import State16
from .transactions import Transactions16

__all__ = ["FeatureOperations"]

Payload = dict[str, Any]


class FeatureOperations:
    """Handlers (`op_<Action>`) of the FirmwareManagement, LocalAuthListManagement,
    Reservation and SmartCharging profiles."""

    def __init__(self, state: State16, tx: Transactions16) -> None:
        self.state = state
        self.station = state.station
        self.tx = tx

    # -- firmware management -----------------------------------------------------------------

    async def op_GetDiagnostics(self, p: Payload, outcome: Outcome) -> Payload:
        name = f"diagnostics-{self.state.identity}-{self.station.now():%Y%m%d%H%M%S}.log"
        fail = outcome.fail_at is not None
        self.station.after_reply(
            lambda: self.notify_sequence(
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
        self.station.after_reply(
            lambda: self.notify_sequence(
                "FirmwareStatusNotification",
                steps,
                p["retrieveDate"],
                new_firmware=None if fail else f"{self.state.firmware_version}+1",
            )
        )
        return {}

    async def notify_sequence(
        self,
        action: str,
        steps: list[str],
        at: str | None,
        new_firmware: str | None = None,
        request_id: int | None = None,
    ) -> None:
        """From `at` on, one notification of `action` per step (installing the new firmware
        before the Installed one)."""
        station = self.station
        if at is not None:
            wait = (parse(at) - station.now()).total_seconds()
            if wait > 0:
                await station.clock.sleep(wait)
        step_s = station.spec.operation_step_s
        for step in steps:
            if step == "Installed" and new_firmware is not None:
                await self._install(new_firmware)
            payload: Payload = {"status": step}
            if request_id is not None:
                payload["requestId"] = request_id
            await station.notify(action, payload)
            if step_s:
                await station.clock.sleep(step_s)

    async def _install(self, firmware: str) -> None:
        """Activate new firmware: wait for running transactions to end, reboot, boot again
        (the BootNotification shows the new version), then report Installed."""
        state, station = self.state, self.station
        while any(c.transaction is not None for c in state.connectors.values()):
            await station.clock.sleep(max(0.05, station.spec.time_scale))
        state.firmware_version = firmware
        if station.spec.reboot_to_install:
            await self.tx.restart("Soft")
            await station.ready.wait()

    # -- local authorization list ------------------------------------------------------------

    async def op_SendLocalList(self, p: Payload, outcome: Outcome) -> Payload:
        status = self.state.auth.send_local_list(
            p["listVersion"], p["updateType"], p.get("localAuthorizationList") or []
        )
        return {"status": status}

    async def op_GetLocalListVersion(self, p: Payload, outcome: Outcome) -> Payload:
        return {"listVersion": self.state.auth.get_version()}

    # -- reservation -------------------------------------------------------------------------

    async def op_ReserveNow(self, p: Payload, outcome: Outcome) -> Payload:
        state = self.state
        number = p["connectorId"]
        if number not in state.connectors:
            return {"status": "Rejected"}
        if number == 0 and not state.config.get_bool("ReserveConnectorZeroSupported"):
            return {"status": "Rejected"}
        c = state.connectors[number]
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
        state.timers.start(f"reservation:{number}", self._expire(c, reservation))
        self.station.after_reply(lambda: self.tx.settle(c))
        return {"status": "Accepted"}

    async def _expire(self, c: Connector, reservation: Reservation) -> None:
        wait = (reservation.expiry - self.station.now()).total_seconds()
        if wait > 0:
            await self.station.clock.sleep(wait)
        if c.reservation is reservation:
            c.reservation = None
            await self.tx.settle(c)

    async def op_CancelReservation(self, p: Payload, outcome: Outcome) -> Payload:
        for c in self.state.connectors.values():
            if c.reservation is not None and c.reservation.reservation_id == p["reservationId"]:
                c.reservation = None
                self.state.timers.cancel(f"reservation:{c.connector_id}")
                self.station.after_reply(functools.partial(self.tx.settle, c))
                return {"status": "Accepted"}
        return {"status": "Rejected"}

    # -- smart charging ----------------------------------------------------------------------

    async def op_SetChargingProfile(self, p: Payload, outcome: Outcome) -> Payload:
        state = self.state
        number = p["connectorId"]
        if number not in state.connectors:
            return {"status": "Rejected"}
        if "SmartCharging" not in state.config.get_list("SupportedFeatureProfiles"):
            return {"status": "NotSupported"}
        tx = state.connectors[number].transaction
        status = state.profiles.install(
            number, p["csChargingProfiles"], tx.transaction_id if tx else None
        )
        if status == "Accepted":
            self.tx.apply_limits()
        return {"status": status}

    async def op_ClearChargingProfile(self, p: Payload, outcome: Outcome) -> Payload:
        status = self.state.profiles.clear(
            p.get("id"),
            p.get("connectorId"),
            p.get("chargingProfilePurpose"),
            p.get("stackLevel"),
        )
        self.tx.apply_limits()
        return {"status": status}

    async def op_GetCompositeSchedule(self, p: Payload, outcome: Outcome) -> Payload:
        state = self.state
        number = p["connectorId"]
        if number not in state.connectors:
            return {"status": "Rejected"}
        c = state.connectors[number]
        now = self.station.now()
        schedule = state.profiles.composite(
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
