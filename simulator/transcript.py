"""Every frame a charge point sent and received, with timestamps, and waiting on them."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ocppj import Call, CallError, CallResult, Frame

from .clock import wait_any
from .errors import ExpectationFailed


@dataclass(frozen=True, slots=True)
class Entry:
    """One frame: `direction` is "out" (charge point to CSMS) or "in"; or a change of the
    link (`direction` "link", no frame): the connection opened or closed, and by whom; or
    why the charge point answers a CSMS CALL as it does (`direction` "note", no frame)."""

    at: datetime
    direction: str
    text: str
    frame: Frame | None
    action: str | None

    @property
    def kind(self) -> str:
        if self.direction == "link":
            return "LINK"
        if self.direction == "note":
            return "NOTE"
        if isinstance(self.frame, Call):
            return "CALL"
        if isinstance(self.frame, CallResult):
            return "CALLRESULT"
        if isinstance(self.frame, CallError):
            return "CALLERROR"
        return "RAW"

    @property
    def payload(self) -> dict[str, Any] | None:
        if isinstance(self.frame, Call | CallResult):
            return self.frame.payload
        return None

    def line(self) -> str:
        arrow = {"out": "CP->CSMS", "in": "CSMS->CP"}.get(self.direction, "--------")
        clock = self.at.strftime("%H:%M:%S.%f")[:-3]
        if self.frame is None and self.direction == "link":
            return f"{clock} {arrow} {self.kind:<10} {self.text}"
        return f"{clock} {arrow} {self.kind:<10} {self.action or '?'} {self.text}"


class Transcript:
    """A bounded record of frames (`size` 0 keeps nothing: for large fleets)."""

    def __init__(self, size: int = 2000) -> None:
        self.enabled = size > 0
        self.entries: deque[Entry] | tuple[()] = deque(maxlen=size) if size else ()
        self._changed: asyncio.Event | None = None  # made only while someone waits

    def add(self, entry: Entry) -> None:
        if isinstance(self.entries, tuple):
            return
        self.entries.append(entry)
        if self._changed is not None:
            self._changed.set()
            self._changed = None

    def __iter__(self) -> Iterator[Entry]:
        return iter(list(self.entries))

    def __len__(self) -> int:
        return len(self.entries)

    def lines(self, last: int | None = None) -> list[str]:
        entries = list(self.entries)
        return [e.line() for e in (entries[-last:] if last else entries)]

    def calls(self, direction: str = "out", action: str | None = None) -> list[Entry]:
        """CALL entries sent (`out`) or received (`in`), optionally of one action."""
        return [
            e
            for e in self.entries
            if e.direction == direction
            and e.kind == "CALL"
            and (action is None or e.action == action)
        ]

    def sent_payloads(self, action: str) -> list[dict[str, Any]]:
        return [e.payload or {} for e in self.calls("out", action)]

    async def wait_for(
        self,
        predicate: Callable[[Entry], bool],
        timeout: float,
        *,
        start: int = 0,
        what: str = "a matching frame",
    ) -> Entry:
        """The first entry from index `start` on matching `predicate`; ExpectationFailed if none
        arrives within `timeout` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        index = start
        while True:
            entries = list(self.entries)
            for entry in entries[index:]:
                if predicate(entry):
                    return entry
            index = len(entries)
            if self._changed is None:
                self._changed = asyncio.Event()
            changed = self._changed
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise ExpectationFailed(
                    f"no {what} within {timeout:g} s; last frames:\n" + "\n".join(self.lines(12))
                )
            await wait_any(changed, timeout=remaining)

    async def wait_sent(
        self,
        action: str,
        timeout: float,
        *,
        start: int = 0,
        match: Callable[[dict[str, Any]], bool] | None = None,
    ) -> Entry:
        """The first CALL of `action` sent by the charge point (from entry `start` on)."""
        return await self.wait_for(
            lambda e: (
                e.direction == "out"
                and e.kind == "CALL"
                and e.action == action
                and (match is None or match(e.payload or {}))
            ),
            timeout,
            start=start,
            what=f"{action} sent",
        )

    def answer_to(self, call: Entry) -> Entry | None:
        """The CALLRESULT/CALLERROR that answered `call`, if it arrived."""
        if not isinstance(call.frame, Call):
            return None
        for entry in self.entries:
            if (
                entry.direction != call.direction
                and isinstance(entry.frame, CallResult | CallError)
                and entry.frame.message_id == call.frame.message_id
            ):
                return entry
        return None
