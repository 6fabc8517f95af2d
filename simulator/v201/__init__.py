"""OCPP 2.0.1 specifics of the simulated charging station: its behaviour (`Behaviour201`)
over its state (device model, EVSEs and connectors, authorization, certificates)."""

from .behaviour import Behaviour201

__all__ = ["Behaviour201"]
