"""A simulated OCPP charge point as a Python library, 1.6J or 2.0.1 behind the same API.

spec = ChargePointSpec("CP-1", connectors=2, password="secret")
async with create_charge_point(spec, "ws://127.0.0.1:9000/ocpp") as cp:
    await cp.plug_in(1)
    await cp.present_tag(1, "TAG-1")
    ...
    await cp.stop_charging(1)

ChargePointSpec("CS-1", ocpp_version="2.0.1", evses=[EvseSpec(connectors=2)]) is a 2.0.1
station with one EVSE of two connectors.
"""

from __future__ import annotations

from .clock import Clock, Random, StationClock, SystemClock
from .connection import (
    Backoff,
    Handshake,
    Limits,
    Security,
    Target,
    TargetLookup,
    endpoint,
    tls_context,
)
from .endpoints import Endpoints, NoEndpoint
from .errors import (
    ExpectationFailed,
    InvalidAction,
    InvalidTransition,
    NotConnected,
    SimulatorError,
)
from .factory import create_charge_point
from .faults import Faults
from .fleet import Fleet, FleetOptions, FleetStats
from .incoming import IncomingCall, Outcome, Waiter
from .meter import EV, Meter
from .spec import ChargePointSpec, EvseSpec
from .station import ExchangeHook, Station
from .transcript import Entry, Transcript
from .v16.connector import Connector, Reservation, Status, Transaction

ChargePoint = Station  # the public name of the station

__all__ = [
    "EV",
    "Backoff",
    "ChargePoint",
    "ChargePointSpec",
    "Clock",
    "Connector",
    "Endpoints",
    "Entry",
    "EvseSpec",
    "ExchangeHook",
    "ExpectationFailed",
    "Faults",
    "Fleet",
    "FleetOptions",
    "FleetStats",
    "Handshake",
    "IncomingCall",
    "InvalidAction",
    "InvalidTransition",
    "Limits",
    "Meter",
    "NoEndpoint",
    "NotConnected",
    "Outcome",
    "Random",
    "Reservation",
    "Security",
    "SimulatorError",
    "Station",
    "StationClock",
    "Status",
    "SystemClock",
    "Target",
    "TargetLookup",
    "Transaction",
    "Transcript",
    "Waiter",
    "create_charge_point",
    "endpoint",
    "tls_context",
]
