"""Connected chargers: one `Connection` per live WebSocket, and the registry of them."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from websockets.asyncio.server import ServerConnection

from ocppj import Call, CallError, CallResult, FollowUp, Frame, RpcSession
from ocppj.timestamps import now

from .adapter import Adapter, StationTransactions
from .services import Services
from .store import Row
from .store.log import LogRow

# observer(charger id, direction, decoded frame or None, action or None), e.g. metrics
FrameObserver = Callable[[str, str, Frame | None, str | None], None]


class Connection:
    """A charger's live connection: its RPC session, boot state and last sign of life. What
    the frames mean is the business of `adapter`, the version the charger speaks."""

    def __init__(
        self,
        charger_id: str,
        websocket: ServerConnection,
        services: Services,
        adapter: Adapter,
        *,
        boot_accepted: bool = False,
    ) -> None:
        self.charger_id = charger_id
        self.websocket = websocket
        self.adapter = adapter
        self.log = services.log
        self.boot_accepted = boot_accepted
        self.connected_at = now()
        self.last_seen = time.monotonic()
        self.observers: list[FrameObserver] = []  # the registry's, once added to it
        # a 2.0.1 station's own transaction ids -> the CSMS's numbers, as its handlers learn
        # them (the latest few: what the message log links its frames with)
        self.transactions = StationTransactions()
        # (direction, message id) of each CALL awaiting its answer -> (log row, transaction
        # id, the CALL)
        self._open_calls: dict[tuple[str, str], tuple[LogRow, int | None, Call]] = {}
        self.session = RpcSession(
            websocket,
            adapter.dialect,
            adapter.handlers(services, self),
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

    async def serve(self) -> None:
        """Run the RPC session until the charger goes, and the follow-up work of its handlers
        (which ends with it: their CALLs then fail with ConnectionLost)."""
        await self.session.run()

    def after_reply(self, work: FollowUp) -> None:
        """Run `work` once the answer to the CALL being handled is on the wire: a CALL that
        follows from it, say. Dropped if the handler fails (see `RpcSession.after_reply`)."""
        self.session.after_reply(work)

    def _guard(self, action: str) -> None:
        self.adapter.guard(self, action)

    def _observe(self, direction: str, text: str, frame: Frame | None, action: str | None) -> None:
        if direction == "in":
            self.last_seen = time.monotonic()
        for observer in self.observers:
            observer(self.charger_id, direction, frame, action)
        transaction_id = None
        error_code = None
        if isinstance(frame, Call | CallResult):
            transaction_id = self.adapter.transaction_id(frame, self.transactions)
        if isinstance(frame, CallError):
            error_code = frame.code
        row = self.log.append(
            self.charger_id,
            direction,
            frame.type_id if frame else None,
            action,
            frame.message_id if frame else None,
            self.adapter.redact(frame, text),
            now(),
            error_code,
            transaction_id,
        )
        if isinstance(frame, Call):
            self._open_calls[(direction, frame.message_id)] = (row, transaction_id, frame)
            return
        if frame is None:
            return
        asked = "out" if direction == "in" else "in"
        call_row, call_transaction, call = self._open_calls.pop(
            (asked, frame.message_id), (None, None, None)
        )
        if call_row is None or call is None:
            return
        if call_transaction is None:
            call_transaction = transaction_id  # a StartTransaction answer names it
            if call_transaction is None and self.transactions:  # as its handling taught it
                call_transaction = self.adapter.transaction_id(call, self.transactions)
            if call_transaction is not None:
                self.log.link_transaction(call_row, call_transaction)
        if transaction_id is None and call_transaction is not None:
            # an answer belongs to its CALL's transaction
            self.log.link_transaction(row, call_transaction)


class ConnectionRegistry:
    """Identity -> live connection. A newer connection replaces an older one."""

    def __init__(self) -> None:
        self._by_id: dict[str, Connection] = {}
        self.observers: list[FrameObserver] = []  # told of every frame of every connection
        self.closed = 0  # connections removed or replaced so far

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
        connection.observers = self.observers
        self._by_id[connection.charger_id] = connection
        self.closed += previous is not None
        return previous

    async def recheck(self, charger_id: str, row: Row | None) -> None:
        """Close the charger's connection here if its registry entry `row` no longer admits
        it: removed, disabled, or registered for another OCPP version."""
        live = self._by_id.get(charger_id)
        if live is None:
            return
        if row is None:
            reason = "Charger removed"
        elif not row["enabled"]:
            reason = "Charger disabled"
        elif row["ocpp_version"] not in (None, live.adapter.dialect.version):
            reason = f"Registered for OCPP {row['ocpp_version']}"
        else:
            return
        await live.close(1000, reason)

    def remove(self, connection: Connection) -> bool:
        """Forget `connection` if it is still the current one for its charger."""
        if self._by_id.get(connection.charger_id) is connection:
            del self._by_id[connection.charger_id]
            self.closed += 1
            return True
        return False
