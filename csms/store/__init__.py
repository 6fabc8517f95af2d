"""Persistence: all SQL of the CSMS lives in this package."""

from .chargers import ChargerStore
from .db import Database, Row, utcnow
from .log import MessageLog
from .tags import TagStore
from .transactions import TransactionStore, meter_rows

__all__ = [
    "ChargerStore",
    "Database",
    "MessageLog",
    "Row",
    "TagStore",
    "TransactionStore",
    "meter_rows",
    "utcnow",
]
