"""The OCPP versions the CSMS speaks: one adapter each, by WebSocket subprotocol."""

from __future__ import annotations

from . import ocpp16
from .adapter import Adapter

ADAPTERS: dict[str, Adapter] = {ocpp16.ADAPTER.dialect.subprotocol: ocpp16.ADAPTER}
