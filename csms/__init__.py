"""ocpp-bench CSMS: an OCPP 1.6J Central System with SQLite persistence."""

from .app import ChargerNotConnected, CsmsApp
from .config import CsmsConfig

__all__ = ["ChargerNotConnected", "CsmsApp", "CsmsConfig"]
