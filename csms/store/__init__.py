"""Persistence: all SQL of the CSMS lives in this package."""

from .chargers import ChargerStore
from .commands import ChargingProfileStore, ReservationStore
from .db import Database, Row, utcnow
from .log import MessageLog
from .tags import TagStore
from .transactions import TransactionStore

__all__ = [
    "ChargerStore",
    "ChargingProfileStore",
    "Database",
    "MessageLog",
    "ReservationStore",
    "Row",
    "TagStore",
    "TransactionStore",
    "utcnow",
]
