"""Persistence: all SQL of the CSMS lives in this package."""

from .chargers import ChargerStore
from .checks import DatabaseUnusable
from .commands import ChargingProfileStore, ReservationStore
from .db import Database, Row, iso, utcnow
from .device_model import DeviceModelStore
from .engines import open_database
from .log import MessageLog
from .settings import SettingsStore
from .tags import TagStore
from .transaction_events import Recorded, TransactionEventStore
from .transactions import CLOSED_BY_CSMS, Started, TransactionStore

__all__ = [
    "CLOSED_BY_CSMS",
    "ChargerStore",
    "ChargingProfileStore",
    "Database",
    "DatabaseUnusable",
    "DeviceModelStore",
    "MessageLog",
    "Recorded",
    "ReservationStore",
    "Row",
    "SettingsStore",
    "Started",
    "TagStore",
    "TransactionEventStore",
    "TransactionStore",
    "iso",
    "open_database",
    "utcnow",
]
