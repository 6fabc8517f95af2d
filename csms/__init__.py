"""ocpp-bench CSMS: an OCPP 1.6J Central System with SQLite persistence."""

from .app import CsmsApp
from .config import CsmsConfig
from .operations import ChargerNotConnected

__all__ = ["ChargerNotConnected", "CsmsApp", "CsmsConfig"]
