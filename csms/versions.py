"""The OCPP versions the CSMS speaks: one adapter each, by WebSocket subprotocol."""

from __future__ import annotations

from . import ocpp16
from .adapter import Adapter

ADAPTERS: dict[str, Adapter] = {ocpp16.ADAPTER.dialect.subprotocol: ocpp16.ADAPTER}
# The version the HTTP API describes, and that of a charger not connected (its actions are the
# ones an operation for it is checked against).
DEFAULT: Adapter = ocpp16.ADAPTER
