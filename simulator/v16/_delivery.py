"""The offline queue of a 1.6 charge point: StartTransaction, StopTransaction and transaction
MeterValues are delivered in order, retried per TransactionMessageAttempts and
TransactionMessageRetryInterval, and kept across a lost connection."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ocppj import CallErrorReceived, CallTimeout, ConnectionLost, InvalidResponse

from ..clock import wait_any
from ..errors import NotConnected
from ._endpoint import Endpoint

log = logging.getLogger("simulator")


@dataclass(slots=True)
class Queued:
    """A transaction message waiting for delivery; the payload is built when it is sent, so
    a transactionId given later by the CSMS is used."""

    action: str
    build: Callable[[], dict[str, Any] | None]
    on_result: Callable[[dict[str, Any] | None], None] | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)


class Delivery(Endpoint):
    """The transaction-message queue, drained by one task while the boot is accepted."""

    @property
    def queued(self) -> list[str]:
        """Actions of the transaction messages waiting for delivery, in order."""
        return [item.action for item in self._queue]

    def enqueue(self, item: Queued) -> None:
        self._queue.append(item)
        self._kick_sender()

    async def deliver(self, item: Queued) -> None:
        """Queue a transaction message; when online, wait until it is delivered (or the link
        drops), so the messages that follow keep their order on the wire."""
        self.enqueue(item)
        session = self._session
        if session is not None and self.online:
            await wait_any(session.closed, item.done)

    def _kick_sender(self) -> None:
        if not self._queue or self._conn_group is None or not self.online:
            return
        if self._sender is None or self._sender.done():
            self._sender = self._conn_group.create_task(self._drain(), name="tx queue")

    async def _drain(self) -> None:
        """Deliver queued transaction messages in order, retrying per TransactionMessage*."""
        while self._queue and self.online:
            item = self._queue[0]
            payload = item.build()
            if payload is None:  # e.g. its transaction never got an id: nothing to say
                self._queue.pop(0)
                if item.on_result is not None:
                    item.on_result(None)
                item.done.set()
                continue
            attempts = max(1, self.config.get_int("TransactionMessageAttempts"))
            result: dict[str, Any] | None = None
            for attempt in range(1, attempts + 1):
                try:
                    result = await self._call(item.action, payload)
                    break
                except (ConnectionLost, NotConnected):
                    return  # stays at the head; delivered after the reconnect
                except (CallErrorReceived, CallTimeout, InvalidResponse) as exc:
                    log.warning(
                        "%s: %s attempt %d failed: %s", self.identity, item.action, attempt, exc
                    )
                    if attempt < attempts:
                        interval = self.seconds("TransactionMessageRetryInterval")
                        await self.clock.sleep(interval * attempt)
            self._queue.pop(0)
            if item.on_result is not None:
                item.on_result(result)
            item.done.set()
