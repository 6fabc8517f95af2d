"""The simulator's own errors. RPC failures keep their `ocppj` classes."""

from __future__ import annotations


class SimulatorError(Exception):
    """Base of the errors raised by the simulator's model and API."""


class InvalidTransition(SimulatorError):
    """The connector state machine refuses this status change; nothing was sent."""

    def __init__(self, connector_id: int, current: str, target: str, why: str = "") -> None:
        self.connector_id = connector_id
        self.current = current
        self.target = target
        text = f"connector {connector_id}: {current} -> {target} is not a valid OCPP 1.6 transition"
        super().__init__(f"{text} ({why})" if why else text)


class InvalidAction(SimulatorError):
    """A driver action that makes no sense in the charge point's present state."""


class NotConnected(SimulatorError, ConnectionError):
    """A message was to be sent while the charge point has no accepted connection."""


class ExpectationFailed(SimulatorError, AssertionError):
    """Nothing matching arrived in time (raised by the `expect_*` and `wait_*` helpers)."""
