"""Firmware updates of a 2.0.1 station (OCPP 2.0.1 L01 secure, L02 unsigned): UpdateFirmware
checked (the signing certificate must parse as X.509, be valid now and, when a
ManufacturerRootCertificate is installed, be issued by one), then the firmware downloaded,
its signature verified, installed and activated by a reboot (reason FirmwareUpdate), each
step told in a FirmwareStatusNotification with the request's id. A new request cancels one
still running (AcceptedCanceled). This station neither downloads nor installs while a
transaction runs: it waits (DownloadScheduled), and unless
ChargingStation.AllowNewSessionsPendingFirmwareUpdate is true its idle EVSEs turn Unavailable
meanwhile. What goes wrong is scripted with `Outcome.fail_at` (see `STAGES`)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ocppj.timestamps import parse

from ..incoming import Outcome
from .security import SecurityOperations
from .state import State201
from .statuses import Statuses
from .topology import Evse

__all__ = ["STAGES", "FirmwareOperations"]

Payload = dict[str, Any]

# Outcome.fail_at -> what goes wrong
STAGES = {
    "Revocation": "the signing certificate is revoked: RevokedCertificate",
    "Downloading": "the download fails (after the request's retries): DownloadFailed",
    "SignatureVerified": "the signature does not verify: InvalidSignature",
    "InstallVerification": "the downloaded firmware does not verify: InstallVerificationFailed",
    "Installing": "the installation fails: InstallationFailed",
}
ENDS = frozenset(
    {"Installed", "DownloadFailed", "InvalidSignature", "InstallVerificationFailed",
     "InstallationFailed"}
)  # fmt: skip
_TIMER = "firmware"
_RECHECK_S = 1.0  # how often a wait for idle EVSEs looks again (besides being woken)


@dataclass(slots=True, eq=False)
class Update:
    """One UpdateFirmware request being carried out."""

    request_id: int
    firmware: Payload
    retries: int
    retry_s: float
    fail_at: str | None
    status: str = "Accepted"  # the last one reported


class FirmwareOperations:
    """Handler of UpdateFirmware, and the update it starts."""

    __slots__ = ("_idle", "current", "reboot", "security", "state", "station", "statuses")

    def __init__(
        self,
        state: State201,
        statuses: Statuses,
        security: SecurityOperations,
        reboot: Callable[[], Awaitable[None]],
    ) -> None:
        self.state = state
        self.station = state.station
        self.statuses = statuses
        self.security = security
        self.reboot = reboot  # with boot reason FirmwareUpdate
        self.current: Update | None = None
        self._idle: asyncio.Event | None = None  # set when the last transaction ends

    def report(self) -> Payload:
        """The FirmwareStatusNotification a TriggerMessage asks for: where the update is, or
        Idle (without requestId) when none is under way."""
        update = self.current
        if update is None or update.status in ENDS:
            return {"status": "Idle"}
        return {"status": update.status, "requestId": update.request_id}

    async def on_idle(self, evse: Evse) -> None:
        """A transaction ended: a wait for idle EVSEs looks again."""
        if self._idle is not None and not self._busy():
            self._idle.set()

    # -- the operation -----------------------------------------------------------------------

    async def op_UpdateFirmware(self, p: Payload, outcome: Outcome) -> Payload:
        if outcome.status is not None:  # scripted (e.g. Rejected: unable to cancel, L01.FR.27)
            return {"status": outcome.status}  # and a running update goes on
        firmware = p["firmware"]
        refusal = self._certificate(firmware, outcome)
        if refusal is not None:
            status, why = refusal
            self.station.explain(f"UpdateFirmware {status}: {why}")
            self.station.after_reply(
                lambda: self.security.event("InvalidFirmwareSigningCertificate", why)
            )
            return {"status": status}
        running = self.current is not None and self.current.status not in ENDS
        update = Update(
            p["requestId"],
            firmware,
            max(0, p.get("retries", 0)),
            max(0, p.get("retryInterval", 0)) * self.station.spec.time_scale,
            outcome.fail_at,
        )
        self.current = update
        held = self._release()  # what an update cancelled here made Unavailable

        async def begin() -> None:
            if held:
                await self.statuses.settle_all()
            self.state.timers.start(_TIMER, self._run(update))  # replaces a running one

        self.station.after_reply(begin)
        return {"status": "AcceptedCanceled" if running else "Accepted"}

    def _certificate(self, firmware: Payload, outcome: Outcome) -> tuple[str, str] | None:
        """(status, why) when the signing certificate is refused; None: go on."""
        pem = firmware.get("signingCertificate")
        if pem is None:
            return None  # an unsigned update (L02)
        from .. import certificates  # loaded only by stations asked to update

        roots = [pem for kind, pem, _ in self.security.installed.values() if kind == _ROOT]
        problem = certificates.signing_problem(pem, self.station.now(), roots)
        if problem is not None:
            return "InvalidCertificate", problem
        if outcome.fail_at == "Revocation":
            return "RevokedCertificate", "the signing certificate is revoked (scripted)"
        return None

    # -- the update --------------------------------------------------------------------------

    async def _run(self, update: Update) -> None:
        firmware = update.firmware
        await self._until(update, firmware["retrieveDateTime"], "DownloadScheduled")
        await self._wait_idle(update, "DownloadScheduled")
        await self._tell(update, "Downloading")
        if update.fail_at == "Downloading":
            for _ in range(update.retries):  # each retry fails too
                await self.station.clock.sleep(update.retry_s)
            await self._end(update, "DownloadFailed")
            return
        await self._tell(update, "Downloaded")
        if "signingCertificate" in firmware or "signature" in firmware:
            if update.fail_at == "SignatureVerified" or not _base64(firmware.get("signature")):
                await self._end(update, "InvalidSignature")
                await self.security.event("InvalidFirmwareSignature", firmware["location"])
                return
            await self._tell(update, "SignatureVerified")
        await self._until(update, firmware.get("installDateTime"), "InstallScheduled")
        await self._wait_idle(update, "InstallScheduled")
        if update.fail_at == "InstallVerification":
            await self._end(update, "InstallVerificationFailed")
            return
        await self._tell(update, "Installing")
        if update.fail_at == "Installing":
            await self._end(update, "InstallationFailed")
            return
        self.state.firmware_version = next_version(self.state.firmware_version)
        await self._tell(update, "InstallRebooting")  # L01.FR.15
        self._release()  # the EVSEs come back with the new firmware
        await self.reboot()
        await self.station.ready.wait()
        await self._tell(update, "Installed")
        await self.security.event("FirmwareUpdated", f"version {self.state.firmware_version}")

    async def _tell(self, update: Update, status: str) -> None:
        update.status = status
        await self.station.notify(
            "FirmwareStatusNotification", {"status": status, "requestId": update.request_id}
        )
        step_s = self.station.spec.operation_step_s
        if step_s:
            await self.station.clock.sleep(step_s)

    async def _end(self, update: Update, status: str) -> None:
        """A failed update: told, and the EVSEs back in service with the old firmware."""
        await self._tell(update, status)
        if self._release():
            await self.statuses.settle_all()

    async def _until(self, update: Update, at: str | None, scheduled: str) -> None:
        """Wait until `at`, told as `scheduled` when it is still to come."""
        if at is None:
            return
        wait = (parse(at) - self.station.now()).total_seconds()
        if wait > 0:
            await self._tell(update, scheduled)
            await self.station.clock.sleep(wait)

    async def _wait_idle(self, update: Update, scheduled: str) -> None:
        """Wait until no transaction runs (told as `scheduled`); unless new sessions are
        allowed meanwhile, the EVSEs not in use are Unavailable until the update ends."""
        if not self._busy():
            return
        if update.status != scheduled:
            await self._tell(update, scheduled)
        allowed = "ChargingStation.AllowNewSessionsPendingFirmwareUpdate"
        if not self.state.model.get_bool(allowed):
            for evse in self.state.evses.values():
                evse.firmware_hold = True
            await self.statuses.settle_all()
        while self._busy():
            idle = self._idle = asyncio.Event()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(idle.wait(), _RECHECK_S)
        self._idle = None

    def _busy(self) -> bool:
        return any(evse.transaction is not None for evse in self.state.evses.values())

    def _release(self) -> bool:
        """Every EVSE out of the update's hold; whether any was held."""
        held = False
        for evse in self.state.evses.values():
            held, evse.firmware_hold = held or evse.firmware_hold, False
        return held


_ROOT = "ManufacturerRootCertificate"


def _base64(text: str | None) -> bool:
    if not text:
        return False
    try:
        base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def next_version(version: str) -> str:
    """The version the new firmware reports: the last number one up ("1.0.0" -> "1.0.1")."""
    head, _, last = version.rpartition(".")
    if last.isdigit():
        return f"{head}.{int(last) + 1}" if head else str(int(last) + 1)
    return f"{version}.1"
