"""Connected chargers: one `Connection` per live WebSocket, and the registry of them."""

from __future__ import annotations

import time
from typing import Any

from websockets.asyncio.server import ServerConnection

from ocpp_bench.rpc import Call, CallError, CallResult, Dialect, Frame, RpcSession
from ocpp_bench.rpc.errors import SecurityError

from . import ocpp16
from .services import Services
from .store import utcnow

REDACTED = "***"


def redact(frame: Frame | None, text: str) -> str:
    """Hide secrets (the AuthorizationKey password) from the message log."""
    if (
        isinstance(frame, Call)
        and frame.action == "ChangeConfiguration"
        and frame.payload.get("key") == "AuthorizationKey"
    ):
        return text.replace(str(frame.payload.get("value")), REDACTED)
    return text


class Connection:
    """A charger's live connection: its RPC session, boot state and last sign of life."""

    def __init__(
        self,
        charger_id: str,
        websocket: ServerConnection,
        services: Services,
        dialect: Dialect = ocpp16.DIALECT,
        *,
        boot_accepted: bool = False,
    ) -> None:
        self.charger_id = charger_id
        self.websocket = websocket
        self.log = services.log
        self.boot_accepted = boot_accepted
        self.connected_at = utcnow()
        self.last_seen = time.monotonic()
        self._open_starts: dict[str, Any] = {}  # StartTransaction message id -> log row
        self.session = RpcSession(
            websocket,
            dialect,
            ocpp16.handlers(services, self),
            observer=self._observe,
            guard=self._guard,
            call_timeout=services.config.call_timeout,
        )

    @property
    def subprotocol(self) -> str | None:
        return self.websocket.subprotocol

    async def call(
        self, action: str, payload: dict[str, Any], timeout: float | None = None
    ) -> dict[str, Any]:
        return await self.session.call(action, payload, timeout)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self.websocket.close(code, reason)

    def _guard(self, action: str) -> None:
        if not self.boot_accepted and action != "BootNotification":
            raise SecurityError(f"{action} refused: BootNotification not accepted yet")

    def _observe(self, direction: str, text: str, frame: Frame | None, action: str | None) -> None:
        if direction == "in":
            self.last_seen = time.monotonic()
        transaction_id = None
        error_code = None
        if isinstance(frame, Call | CallResult):
            value = frame.payload.get("transactionId")
            transaction_id = value if type(value) is int else None
        if isinstance(frame, CallError):
            error_code = frame.code
        row = self.log.append(
            self.charger_id,
            direction,
            frame.type_id if frame else None,
            action,
            frame.message_id if frame else None,
            redact(frame, text),
            utcnow(),
            error_code,
            transaction_id,
        )
        if action != "StartTransaction" or frame is None:
            return
        if isinstance(frame, Call) and direction == "in":
            self._open_starts[frame.message_id] = row
        elif direction == "out":
            call_row = self._open_starts.pop(frame.message_id, None)
            if call_row is not None and transaction_id is not None:
                self.log.link_transaction(call_row, transaction_id)


class ConnectionRegistry:
    """Identity -> live connection. A newer connection replaces an older one."""

    def __init__(self) -> None:
        self._by_id: dict[str, Connection] = {}

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, charger_id: str) -> Connection | None:
        return self._by_id.get(charger_id)

    def ids(self) -> list[str]:
        return list(self._by_id)

    def connections(self) -> list[Connection]:
        return list(self._by_id.values())

    def add(self, connection: Connection) -> Connection | None:
        """Register `connection`; returns the one it replaces, if any."""
        previous = self._by_id.get(connection.charger_id)
        self._by_id[connection.charger_id] = connection
        return previous

    def remove(self, connection: Connection) -> bool:
        """Forget `connection` if it is still the current one for its charger."""
        if self._by_id.get(connection.charger_id) is connection:
            del self._by_id[connection.charger_id]
            return True
        return False
