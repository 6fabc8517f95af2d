"""Load profiles: what the person (or the power grid) does to each charge point, and when.

The OCPP behaviour itself (boot, heartbeats, statuses, authorization, transactions, meter
values, reconnects, answers to the CSMS) is the simulator's; a profile only drives it through
the public driver API (`plug_in`, `present_tag`, `stop_charging`, `unplug`, `power_loss`,
`go_offline`, `go_online`), between Locust's waits.
"""

from __future__ import annotations

import contextlib
import random
import time
from typing import ClassVar

import gevent

from ocppj import RpcError
from simulator import ChargePoint, SimulatorError

from .bridge import BridgeTimeout
from .options import LoadOptions
from .pool import Charger
from .reporting import SESSION, WS

__all__ = ["LOAD_PROFILES", "Profile"]

STEP_TIMEOUT_S = 60.0
STEP_ERRORS = (RpcError, SimulatorError, BridgeTimeout)


class Profile:
    """Base: connect at start, then `act` after each `wait`."""

    name: ClassVar[str] = ""

    def __init__(self, options: LoadOptions) -> None:
        self.options = options

    def start(self, charger: Charger) -> None:
        charger.start()

    def wait(self) -> float:
        return 1.0

    def act(self, charger: Charger) -> None:
        raise NotImplementedError


class Steady(Profile):
    """Heartbeats (the simulator's timer) and a cable plugged or pulled now and then, each a
    StatusNotification (Preparing / Available)."""

    name = "steady"

    def wait(self) -> float:
        return random.uniform(0.5, 1.5) * self.options.status_interval

    def act(self, charger: Charger) -> None:
        try:
            if charger.cp is not None and charger.cp.connector(1).plugged:
                charger.act(lambda cp: cp.unplug(1), STEP_TIMEOUT_S)
            else:
                charger.act(lambda cp: cp.plug_in(1), STEP_TIMEOUT_S)
        except STEP_ERRORS as exc:
            charger.reporter.report_now(SESSION, "status change", 0.0, _why(exc))


class Sessions(Profile):
    """Plug in, present the tag (Authorize, StartTransaction), charge for --session-duration
    (MeterValues every --meter-interval), stop (StopTransaction), unplug; pause; again."""

    name = "sessions"

    def wait(self) -> float:
        return self.options.session_pause

    def act(self, charger: Charger) -> None:
        try:
            self._session(charger)
        except STEP_ERRORS as exc:
            charger.reporter.report_now(SESSION, "charging session", 0.0, _why(exc))
            self._tidy(charger)

    def _session(self, charger: Charger) -> None:
        charger.act(lambda cp: cp.plug_in(1), STEP_TIMEOUT_S)
        info = charger.act(lambda cp: cp.present_tag(1, charger.id_tag), STEP_TIMEOUT_S)
        if info.get("status") != "Accepted":
            charger.reporter.report_now(
                SESSION, "charging session", 0.0, f"tag {info.get('status')}"
            )
            self._tidy(charger)
            return
        gevent.sleep(self.options.session_duration)
        if charger.cp is not None and charger.cp.transaction(1) is not None:
            charger.act(lambda cp: cp.stop_charging(1), STEP_TIMEOUT_S)
        charger.act(lambda cp: cp.unplug(1), STEP_TIMEOUT_S)

    def _tidy(self, charger: Charger) -> None:
        """Leave the connector free for the next session, whatever went wrong."""

        async def tidy(cp: ChargePoint) -> None:
            if cp.transaction(1) is not None:
                await cp.stop_charging(1)
            if cp.connector(1).plugged:
                await cp.unplug(1)

        with contextlib.suppress(*STEP_ERRORS):  # reported already; the next session retries
            charger.act(tidy, STEP_TIMEOUT_S)


class Storm(Profile):
    """Something happens to every charge point at the same wall-clock instants (multiples of
    --storm-interval), so all users of all workers storm together."""

    def wait(self) -> float:
        interval = self.options.storm_interval
        return interval - (time.time() % interval)

    def act(self, charger: Charger) -> None:
        began = time.monotonic()
        charger.reporter.expect_down = True
        try:
            self.storm(charger)
        except STEP_ERRORS as exc:
            charger.reporter.report_now(WS, self.row, _ms(began), _why(exc))
        else:
            charger.reporter.report_now(WS, self.row, _ms(began))
        # Not in a `finally`: a user killed mid-storm stays "expecting" until it is closed.
        charger.reporter.expect_down = False

    row: ClassVar[str] = ""

    def storm(self, charger: Charger) -> None:
        raise NotImplementedError


class BootStorm(Storm):
    """All chargers connect and boot at once when spawning is complete; then a power cut for
    all every --storm-interval (drop, reconnect, BootNotification, statuses)."""

    name = "boot-storm"
    row = "power cycle"

    def start(self, charger: Charger) -> None:
        charger.pool.all_spawned.wait()
        charger.start()

    def storm(self, charger: Charger) -> None:
        timeout = self.options.boot_timeout
        charger.act(lambda cp: cp.power_loss(timeout), timeout + 5)
        charger.act(lambda cp: _reapply(charger), 5)


class ReconnectStorm(Storm):
    """Every --storm-interval all connections drop (no closing handshake) and are
    re-established at once; the CSMS remembers the boot, so no BootNotification."""

    name = "reconnect-storm"
    row = "reconnect"

    def storm(self, charger: Charger) -> None:
        timeout = self.options.boot_timeout
        charger.act(lambda cp: cp.go_offline(), STEP_TIMEOUT_S)
        charger.act(lambda cp: cp.go_online(timeout), timeout + 5)


async def _reapply(charger: Charger) -> None:
    charger.after_boot()


def _why(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _ms(since: float) -> float:
    return (time.monotonic() - since) * 1000.0


LOAD_PROFILES: dict[str, type[Profile]] = {  # the one list of --profile's names
    profile.name: profile for profile in (Steady, Sessions, BootStorm, ReconnectStorm)
}
