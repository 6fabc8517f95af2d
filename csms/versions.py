"""The OCPP versions the CSMS speaks: one adapter each, by WebSocket subprotocol."""

from __future__ import annotations

from . import ocpp16, ocpp201
from .adapter import Adapter

# newest first: a charger offering several subprotocols gets the newest it offers
ADAPTERS: dict[str, Adapter] = {
    adapter.dialect.subprotocol: adapter for adapter in (ocpp201.ADAPTER, ocpp16.ADAPTER)
}
# The version the HTTP API describes, and that of a charger not connected (its actions are the
# ones an operation for it is checked against).
DEFAULT: Adapter = ocpp16.ADAPTER
