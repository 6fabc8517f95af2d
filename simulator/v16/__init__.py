"""OCPP 1.6J specifics of the simulated charge point: its behaviour (`Behaviour16`) over
its state (configuration keys, connector state machine, authorization, charging profiles)."""

from .behaviour import Behaviour16

__all__ = ["Behaviour16"]
