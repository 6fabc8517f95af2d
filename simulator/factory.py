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

__all__ = ["VERSIONS", "create_charge_point"]


def _v16(station: Services) -> Behaviour16:
    return Behaviour16(station)


VERSIONS: dict[str, BehaviourFactory] = {"1.6": _v16}  # OCPP version -> its behaviour


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
    """The charge point for `spec.ocpp_version` (only "1.6" so far) that connects to `url`
    (a template with `{id}`, or the identity is appended). `profile_targets` tells where it
    connects with another security profile, when the CSMS raises it."""
    behaviour = VERSIONS.get(spec.ocpp_version)
    if behaviour is None:
        raise SimulatorError(f"OCPP {spec.ocpp_version} is not simulated yet (only 1.6)")
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
