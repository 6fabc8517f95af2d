"""The one way to make a charge point: the CLI, fleets, the scenarios and Locust all use it.
A new OCPP version adds its behaviour to VERSIONS."""

from __future__ import annotations

import ssl

from .behaviour import Services
from .clock import SYSTEM_CLOCK, SYSTEM_RANDOM, Clock, Random
from .connection import TargetLookup
from .errors import SimulatorError
from .spec import ChargePointSpec
from .station import BehaviourFactory, ExchangeHook, Station
from .v16 import Behaviour16
from .v201 import Behaviour201

__all__ = ["VERSIONS", "create_charge_point"]


def _v16(station: Services) -> Behaviour16:
    return Behaviour16(station)


def _v201(station: Services) -> Behaviour201:
    return Behaviour201(station)


# OCPP version -> its behaviour
VERSIONS: dict[str, BehaviourFactory] = {"1.6": _v16, "2.0.1": _v201}


def create_charge_point(
    spec: ChargePointSpec,
    url: str,
    *,
    ssl_context: ssl.SSLContext | None = None,
    clock: Clock = SYSTEM_CLOCK,
    rng: Random = SYSTEM_RANDOM,
    on_exchange: ExchangeHook | None = None,
    profile_targets: TargetLookup | None = None,
) -> Station:
    """The charge point for `spec.ocpp_version` ("1.6" or "2.0.1") that connects to `url`
    (a template with `{id}`, or the identity is appended). `profile_targets` tells where it
    connects with another security profile, when the CSMS raises it."""
    behaviour = VERSIONS.get(spec.ocpp_version)
    if behaviour is None:
        known = ", ".join(VERSIONS)
        raise SimulatorError(f"OCPP {spec.ocpp_version} is not simulated (only {known})")
    return Station(
        spec,
        url,
        behaviour,
        ssl_context=ssl_context,
        clock=clock,
        rng=rng,
        on_exchange=on_exchange,
        profile_targets=profile_targets,
    )
