"""Locust load test of a CSMS: each user is one simulated charge point, OCPP 1.6J or 2.0.1
(`--ocpp-version`, `--ocpp-mix`).

    locust -f loadtests/locustfile.py --csms-url ws://127.0.0.1:9220/ocpp --profile steady

The charge points are the `simulator` package's (the same code as `ocpp-bench sim`), run on one
asyncio thread per Locust process (`loadtests.bridge`); statistics rows are OCPP actions
(`loadtests.reporting`); profiles are in `loadtests.profiles`; options in `loadtests.options`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # loaded by path, as Locust does: make `loadtests` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from locust import User, events, task

from loadtests.bridge import AsyncioBridge
from loadtests.options import add_arguments
from loadtests.pool import Charger, ChargerPool
from loadtests.profiles import LOAD_PROFILES, Profile
from loadtests.reporting import write_final_csv
from ocppj.limits import raise_nofile

__all__ = ["ChargePointUser"]


@events.init_command_line_parser.add_listener
def _options(parser: Any) -> None:
    add_arguments(parser, list(LOAD_PROFILES))


_environment: list[Any] = []  # this process's, for the quit listener (it gets no environment)


@events.init.add_listener
def _init(environment: Any, **_: Any) -> None:
    raise_nofile()
    _environment[:] = [environment]


@events.spawning_complete.add_listener
def _spawned(user_count: int, **_: Any) -> None:
    pool = ChargerPool._instance
    if pool is not None:
        pool.all_spawned.set()


@events.test_stop.add_listener
def _test_stop(environment: Any, **_: Any) -> None:
    """Close what users left open (killed greenlets); the next test gets a fresh pool."""
    pool = ChargerPool._instance
    if pool is not None:
        pool.retire()


@events.quitting.add_listener
def _quitting(environment: Any, **_: Any) -> None:
    """Stop the asyncio thread before the interpreter goes down."""
    AsyncioBridge.shutdown()


@events.quit.add_listener
def _quit(**_: Any) -> None:
    """The CSV files from the final stats, as the summary and the HTML report show them."""
    if _environment:
        write_final_csv(_environment[0])


class ChargePointUser(User):
    """One simulated charge point; its profile (`--profile`) decides what happens when."""

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        pool = ChargerPool.get(environment)
        self.profile: Profile = LOAD_PROFILES[pool.options.profile](pool.options)
        self.charger = Charger(pool)

    def wait_time(self) -> float:
        return self.profile.wait()

    def on_start(self) -> None:
        self.profile.start(self.charger)

    def on_stop(self) -> None:
        self.charger.stop()

    @task
    def act(self) -> None:
        self.profile.act(self.charger)
