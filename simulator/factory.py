"""The one way to make a charge point: the CLI, fleets, the scenarios and Locust all use it."""

from __future__ import annotations

import ssl

from .clock import SYSTEM_CLOCK, SYSTEM_RANDOM, Clock, Random
from .connection import TargetLookup
from .errors import SimulatorError
from .spec import ChargePointSpec
from .v16._endpoint import ExchangeHook
from .v16.chargepoint import ChargePoint16

__all__ = ["create_charge_point"]


def create_charge_point(
    spec: ChargePointSpec,
    url: str,
    *,
    ssl_context: ssl.SSLContext | None = None,
    clock: Clock = SYSTEM_CLOCK,
    rng: Random = SYSTEM_RANDOM,
    on_exchange: ExchangeHook | None = None,
    profile_targets: TargetLookup | None = None,
) -> ChargePoint16:
    """The charge point for `spec.ocpp_version` (only "1.6" so far). `profile_targets` tells
    where it connects with another security profile, when the CSMS raises it."""
    if spec.ocpp_version != "1.6":
        raise SimulatorError(f"OCPP {spec.ocpp_version} is not simulated yet (only 1.6)")
    return ChargePoint16(
        spec,
        url,
        ssl_context=ssl_context,
        clock=clock,
        rng=rng,
        on_exchange=on_exchange,
        profile_targets=profile_targets,
    )
