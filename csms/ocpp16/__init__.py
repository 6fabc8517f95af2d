"""OCPP 1.6J specifics of the CSMS."""

from ocppj import V16 as DIALECT

from .handlers import handlers

__all__ = ["DIALECT", "handlers"]
