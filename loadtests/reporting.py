"""OCPP exchanges as Locust requests: one row per action, a failure per error with its reason.

Rows (request type / name):

- `OCPP` / the action: a CALL the charge point sent; response time = round trip. Failures:
  `CALLERROR <code>`, `CallTimeout`, `ConnectionLost`, `InvalidResponse`, and for
  BootNotification `boot Rejected`. A `Pending` boot is its own row, `BootNotification (Pending)`.
- `OCPP-CSMS` / the action: a CALL the CSMS sent and the charge point answered; response time =
  the charge point's handling time; a failure when the answer was a CALLERROR.
- `WS` / `connect`: connection and boot until Accepted (`connect` failures carry the handshake
  error, e.g. `InvalidStatus: ... HTTP 401`); `WS` / `reconnect` and `power cycle`: a storm's
  drop until ready again; `WS` / `dropped`: a connection lost while nobody asked for it.
- `Session` / `charging session`, `status change`: failures only, a driver step that could not
  be done (`tag Invalid`, `NotConnected: ...`).
"""

from __future__ import annotations

import csv
from typing import Any

from simulator import ChargePoint

from .bridge import AsyncioBridge

__all__ = ["OcppFailure", "Reporter", "fire", "write_final_csv"]

OCPP = "OCPP"
OCPP_CSMS = "OCPP-CSMS"
WS = "WS"
SESSION = "Session"


class OcppFailure(Exception):
    """What Locust shows in its failures table: the reason, nothing else."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "failure"

    __repr__ = __str__  # Locust's failures table shows the repr


def fire(
    request: Any, kind: str, name: str, milliseconds: float, reason: str | None = None
) -> None:
    """Report one request to Locust (`request` is `environment.events.request`)."""
    request.fire(
        request_type=kind,
        name=name,
        response_time=milliseconds,
        response_length=0,
        exception=OcppFailure(reason) if reason is not None else None,
        context={},
    )


class Reporter:
    """One charge point's `on_exchange` hook, feeding Locust through the bridge.

    Called on the asyncio thread; each measurement becomes a callback queued to the gevent side,
    where `events.request` is fired (Locust's stats are not thread-safe).
    """

    __slots__ = ("_bridge", "_request", "cp", "expect_down", "was_connected")

    def __init__(self, bridge: AsyncioBridge, request: Any) -> None:
        self._bridge = bridge
        self._request = request
        self.cp: ChargePoint | None = None
        self.expect_down = False  # we are dropping the link on purpose (storms, stop)
        self.was_connected = False

    def __call__(self, action: str, side: str, seconds: float, error: str | None) -> None:
        ms = seconds * 1000.0
        if action == "connect":  # a failed connection attempt
            detail = self.cp.connect_errors[-1] if self.cp and self.cp.connect_errors else error
            self.report(WS, "connect", 0.0, f"connect failed: {detail}")
            return
        kind = OCPP if side == "cp" else OCPP_CSMS
        if error in LINK_ERRORS and self.expect_down:
            return  # a call cut short by our own drop (storm, stop): not the CSMS's failure
        if error is not None:
            reason = _reason(error, side)
            self.report(kind, action, ms, reason)
        elif action == "BootNotification" and side == "cp" and self.cp is not None:
            # The boot status is stored by the charge point right after this hook returns.
            self._bridge.loop.call_soon(self._boot_answered, ms)
        else:
            self.report(kind, action, ms)

    def _boot_answered(self, ms: float) -> None:
        status = self.cp.registration if self.cp is not None else None
        if status == "Rejected":
            self.report(OCPP, "BootNotification", ms, "boot Rejected")
        elif status == "Pending":
            self.report(OCPP, "BootNotification (Pending)", ms)
        else:
            self.report(OCPP, "BootNotification", ms)

    def report(self, kind: str, name: str, ms: float, reason: str | None = None) -> None:
        """Queue one row for Locust (from the asyncio thread)."""
        request = self._request
        self._bridge.to_gevent(lambda: fire(request, kind, name, ms, reason))

    def report_now(self, kind: str, name: str, ms: float, reason: str | None = None) -> None:
        """Report one row from the gevent side."""
        fire(self._request, kind, name, ms, reason)

    def sweep(self) -> None:
        """Note a connection lost without our asking (called periodically on the loop)."""
        cp = self.cp
        if cp is None:
            return
        connected = cp.connected
        if self.was_connected and not connected and not self.expect_down:
            self.report(WS, "dropped", 0.0, "connection dropped")
        self.was_connected = connected


LINK_ERRORS = frozenset({"ConnectionLost", "NotConnected"})
RPC_ERRORS = frozenset({"CallTimeout", "ConnectionLost", "InvalidResponse", "NotConnected"})


def _reason(error: str, side: str) -> str:
    if error in RPC_ERRORS:
        return error
    return f"answered CALLERROR {error}" if side == "csms" else f"CALLERROR {error}"


def write_final_csv(environment: Any) -> bool:
    """Write `--csv`'s stats, failures and exceptions files once more, from the final stats.

    Locust rewrites them every second from a greenlet and never at the end, so they missed
    what happened in the last second of a run (and while the users stopped), and disagreed
    with the console summary and the HTML report. Called when Locust quits, after the
    summary is printed; a worker writes none (its master does). False when not asked for.
    """
    from locust.runners import WorkerRunner
    from locust.stats import PERCENTILES_TO_REPORT, StatsCSV

    prefix = getattr(environment.parsed_options, "csv_prefix", None)
    if not prefix or isinstance(environment.runner, WorkerRunner):
        return False
    writer = StatsCSV(environment, PERCENTILES_TO_REPORT)
    for suffix, write in (
        ("_stats.csv", writer.requests_csv),
        ("_failures.csv", writer.failures_csv),
        ("_exceptions.csv", writer.exceptions_csv),
    ):
        with open(f"{prefix}{suffix}", "w", newline="") as file:
            write(csv.writer(file))
    return True
