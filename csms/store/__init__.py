"""Persistence: all SQL of the CSMS lives in this package."""

from .chargers import ChargerStore
from .checks import DatabaseUnusable
from .commands import ChargingProfileStore, ReservationStore
from .db import Database, Row, iso, utcnow
from .log import MessageLog
from .tags import TagStore
from .transactions import CLOSED_BY_CSMS, Started, TransactionStore

__all__ = [
    "CLOSED_BY_CSMS",
    "ChargerStore",
    "ChargingProfileStore",
    "Database",
    "DatabaseUnusable",
    "MessageLog",
    "ReservationStore",
    "Row",
    "Started",
    "TagStore",
    "TransactionStore",
    "iso",
    "utcnow",
]
