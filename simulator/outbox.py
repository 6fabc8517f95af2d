"""The offline queue of transaction messages (StartTransaction, StopTransaction, transaction
MeterValues, TransactionEvent): delivered in order while the charge point is online, retried,
kept across a lost link. Which messages go in it, and how often they are retried, is the
version's. A test may hold the queue (nothing leaves it, online or not) and release it, all or
only the messages it picks: so the CSMS meets a station with messages still queued."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from ocppj import CallErrorReceived, CallTimeout, ConnectionLost, InvalidResponse

from .errors import NotConnected

__all__ = ["Outbox", "Pick", "Queued"]

log = logging.getLogger("simulator")
Send = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]
# picks queued messages by their action and payload
Pick = Callable[[str, dict[str, Any]], bool]


@dataclass(slots=True, eq=False)
class Queued:
    """A transaction message waiting for delivery; the payload is built when it is sent, so
    a transactionId given later by the CSMS is used."""

    action: str
    build: Callable[[], dict[str, Any] | None]
    on_result: Callable[[dict[str, Any] | None], None] | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)


class Outbox:
    """The queue, drained by one task of the connection while `online()`; a message whose
    CALL fails is tried `attempts()` times, `retry_s()` x attempt seconds apart."""

    __slots__ = (
        "_attempts",
        "_group",
        "_held",
        "_items",
        "_name",
        "_online",
        "_pick",
        "_retry_s",
        "_send",
        "_sender",
        "_sleep",
    )

    def __init__(
        self,
        name: str,
        send: Send,
        online: Callable[[], bool],
        attempts: Callable[[], int],
        retry_s: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
    ) -> None:
        self._name = name  # for the log
        self._send = send
        self._online = online
        self._attempts = attempts
        self._retry_s = retry_s
        self._sleep = sleep
        self._items: list[Queued] = []  # a list: smaller than a deque when empty
        self._group: asyncio.TaskGroup | None = None
        self._sender: asyncio.Task[None] | None = None
        self._held = False
        self._pick: Pick | None = None  # while held: the messages that may still leave

    @property
    def queued(self) -> list[str]:
        """Actions of the messages waiting for delivery, in order."""
        return [item.action for item in self._items]

    @property
    def held(self) -> bool:
        return self._held

    def hold(self) -> None:
        """Deliver nothing more (a message being sent still is) until `release()`."""
        self._held, self._pick = True, None

    def release(self, pick: Pick | None = None) -> None:
        """Deliver again, everything in order; with `pick`, only the messages it picks (in
        their order), the others staying held."""
        if pick is None:
            self._held, self._pick = False, None
        else:
            self._pick = pick
        self.kick()

    def put(self, item: Queued) -> None:
        self._items.append(item)
        self.kick()

    def attach(self, group: asyncio.TaskGroup) -> None:
        """The connection's task group, where the queue is drained while it lives."""
        self._group = group

    def detach(self) -> None:
        """The connection is going: stop draining (what is left stays queued)."""
        self._group = None
        if self._sender is not None:
            self._sender.cancel()
            self._sender = None

    def kick(self) -> None:
        """Start draining, if online and not draining already."""
        if not self._items or self._group is None or not self._online():
            return
        if self._sender is None or self._sender.done():
            self._sender = self._group.create_task(self._drain(), name="tx queue")

    def _next(self) -> tuple[Queued, dict[str, Any] | None] | None:
        """The message to deliver next and its payload; None while held (and none picked)."""
        if not self._held:
            item = self._items[0]
            return item, item.build()
        pick = self._pick
        if pick is None:
            return None
        for item in self._items:
            payload = item.build()
            if payload is not None and pick(item.action, payload):
                return item, payload
        return None

    async def _drain(self) -> None:
        while self._items and self._online():
            chosen = self._next()
            if chosen is None:
                return
            item, payload = chosen
            if payload is None:  # e.g. its transaction never got an id: nothing to say
                self._items.remove(item)
                self._finish(item, None)
                continue
            attempts = max(1, self._attempts())
            result: dict[str, Any] | None = None
            for attempt in range(1, attempts + 1):
                try:
                    result = await self._send(item.action, payload)
                    break
                except (ConnectionLost, NotConnected):
                    return  # stays queued; delivered after the reconnect
                except (CallErrorReceived, CallTimeout, InvalidResponse) as exc:
                    log.warning(
                        "%s: %s attempt %d failed: %s", self._name, item.action, attempt, exc
                    )
                    if attempt < attempts:
                        await self._sleep(self._retry_s() * attempt)
            self._items.remove(item)
            self._finish(item, result)

    @staticmethod
    def _finish(item: Queued, result: dict[str, Any] | None) -> None:
        if item.on_result is not None:
            item.on_result(result)
        item.done.set()
