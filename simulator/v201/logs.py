"""Log uploads of a 2.0.1 station (OCPP 2.0.1 N01): GetLog (DiagnosticsLog or SecurityLog)
answered with the file's name, then the upload told in LogStatusNotifications with the
request's id: Uploading, then Uploaded or what went wrong. A request while an upload runs
cancels it (AcceptedCanceled, told for the old request) and starts its own.

The upload: to an http URL on the loopback (127.0.0.1, localhost, ::1) the log is really PUT
(2xx: Uploaded; 401/403: PermissionDenied; otherwise, or no answer: UploadFailure, after the
request's retries); anywhere else it is pretended, taking `PRETEND_S` (scaled by
`spec.time_scale`). A location whose scheme is not a file transfer one is
NotSupportedOperation, one without a host BadMessage. What goes wrong may be scripted with
`Outcome.fail_at` (see `STAGES`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ..incoming import Outcome
from .state import State201

__all__ = ["ENDS", "STAGES", "LogOperations"]

log = logging.getLogger("simulator")
Payload = dict[str, Any]

# Outcome.fail_at -> the status the upload ends with
STAGES = {
    "Uploading": "UploadFailure",
    "UploadFailure": "UploadFailure",
    "BadMessage": "BadMessage",
    "PermissionDenied": "PermissionDenied",
    "NotSupportedOperation": "NotSupportedOperation",
}
ENDS = frozenset({"Uploaded", "AcceptedCanceled", *STAGES.values()})
SCHEMES = frozenset({"ftp", "ftps", "sftp", "http", "https"})
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
PRETEND_S = 1.0  # how long a pretended upload takes
MAX_RETRIES = 10  # of a request's retries, the most it makes
_TIMER = "log"
_HTTP_TIMEOUT_S = 10.0


@dataclass(slots=True, eq=False)
class Upload:
    """One GetLog request being carried out."""

    request_id: int
    log_type: str
    location: str
    filename: str
    retries: int
    retry_s: float
    fail_at: str | None
    oldest: str | None = None
    latest: str | None = None
    status: str = "Accepted"  # the last one reported


class LogOperations:
    """Handler of GetLog, and the upload it starts."""

    __slots__ = ("current", "state", "station")

    def __init__(self, state: State201) -> None:
        self.state = state
        self.station = state.station
        self.current: Upload | None = None

    def report(self) -> Payload:
        """The LogStatusNotification a TriggerMessage asks for: Uploading with the request's
        id while an upload runs, else Idle."""
        upload = self.current
        if upload is None or upload.status in ENDS:
            return {"status": "Idle"}
        return {"status": upload.status, "requestId": upload.request_id}

    async def op_GetLog(self, p: Payload, outcome: Outcome) -> Payload:
        if outcome.status is not None:  # scripted (e.g. Rejected): a running upload goes on
            return {"status": outcome.status}
        station = self.station
        kind = p["logType"]
        stamp = f"{station.now():%Y%m%dT%H%M%SZ}"
        upload = Upload(
            p["requestId"],
            kind,
            p["log"]["remoteLocation"],
            f"{kind}-{self.state.identity}-{stamp}.log"[:255],
            min(max(0, p.get("retries", 0)), MAX_RETRIES),
            max(0, p.get("retryInterval", 0)) * station.spec.time_scale,
            outcome.fail_at,
            p["log"].get("oldestTimestamp"),
            p["log"].get("latestTimestamp"),
        )
        previous = self.current
        running = previous is not None and previous.status not in ENDS
        self.current = upload

        async def begin() -> None:
            timers = self.state.timers
            if running and previous is not None:
                timers.cancel(_TIMER)  # the old upload stops before its end is told
                previous.status = "AcceptedCanceled"
                await self._notify(previous)
            timers.start(_TIMER, self._run(upload))

        station.after_reply(begin)
        return {
            "status": "AcceptedCanceled" if running else "Accepted",
            "filename": upload.filename,
        }

    # -- the upload --------------------------------------------------------------------------

    async def _run(self, upload: Upload) -> None:
        try:
            parts = urlsplit(upload.location)
            scheme, host = parts.scheme.lower(), parts.hostname
            parts.port  # noqa: B018 - raises for a port out of range
        except ValueError:  # a port out of range, an IPv6 host without its closing bracket
            scheme, host = "", None
        if scheme and scheme not in SCHEMES:
            await self._tell(upload, "NotSupportedOperation")
            return
        if not scheme or not host:
            await self._tell(upload, "BadMessage")
            return
        await self._tell(upload, "Uploading")
        await self._tell(upload, await self._upload(upload, scheme, host))

    async def _upload(self, upload: Upload, scheme: str, host: str) -> str:
        """The upload with its retries (a scripted failure fails each): how it ended."""
        sleep = self.station.clock.sleep
        scripted = STAGES.get(upload.fail_at or "")
        if scripted is not None:
            for _ in range(upload.retries):
                await sleep(upload.retry_s)
            return scripted
        end = await self._attempt(upload, scheme, host)
        for _ in range(upload.retries):
            if end != "UploadFailure":
                break
            await sleep(upload.retry_s)
            end = await self._attempt(upload, scheme, host)
        return end

    async def _attempt(self, upload: Upload, scheme: str, host: str) -> str:
        """One try: the status it ends with."""
        if scheme == "http" and host in LOOPBACK:
            return await _put(upload.location, self._content(upload))
        await self.station.clock.sleep(PRETEND_S * self.station.spec.time_scale)
        return "Uploaded"

    def _content(self, upload: Upload) -> bytes:
        """The log this station writes: what it is and how its connectors are."""
        state = self.state
        lines = [
            f"{upload.log_type} of {state.identity}, firmware {state.firmware_version}",
            f"generated {self.station.timestamp()}, request {upload.request_id}",
            f"from {upload.oldest or '-'} to {upload.latest or '-'}",
        ]
        lines += [f"connector {c.number} (EVSE {c.evse.evse_id}): {c.status}"
                  for c in state.connectors.values()]  # fmt: skip
        return ("\n".join(lines) + "\n").encode()

    async def _tell(self, upload: Upload, status: str) -> None:
        upload.status = status
        await self._notify(upload)
        step_s = self.station.spec.operation_step_s
        if step_s and status not in ENDS:
            await self.station.clock.sleep(step_s)

    async def _notify(self, upload: Upload) -> None:
        payload = {"status": upload.status, "requestId": upload.request_id}
        await self.station.notify("LogStatusNotification", payload)


async def _put(url: str, body: bytes) -> str:
    """PUT the log to `url` (on the loopback): the status the upload ends with."""
    import httpx  # loaded only by stations that upload for real

    try:
        async with httpx.AsyncClient(timeout=_HTTP_TIMEOUT_S) as client:
            answer = await client.put(url, content=body, headers={"Content-Type": "text/plain"})
    except httpx.InvalidURL as exc:  # e.g. a port out of range
        log.info("log upload to %s: %s", url, exc)
        return "BadMessage"
    except (httpx.HTTPError, OSError) as exc:
        log.info("log upload to %s failed: %s", url, exc)
        return "UploadFailure"
    if answer.is_success:
        return "Uploaded"
    return "PermissionDenied" if answer.status_code in (401, 403) else "UploadFailure"
