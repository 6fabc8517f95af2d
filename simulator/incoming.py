"""CSMS-initiated CALLs as tests see them: waiting for one, holding it, answering it, and the
configurable outcome of each operation."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ocppj import OcppError
from ocppj.errors import ERROR_CLASSES, GenericError, NotSupportedAction

from .errors import ExpectationFailed

Matcher = Callable[[dict[str, Any]], bool]


def error_for(code: str, description: str = "", details: dict[str, Any] | None = None) -> OcppError:
    """The OcppError to raise for a CALLERROR with wire code `code`."""
    cls = ERROR_CLASSES.get(code, GenericError)
    error = cls(description, details)
    error.code = code
    return error


@dataclass(frozen=True, slots=True)
class Outcome:
    """How the charge point answers one operation.

    - default: the realistic behaviour (``Outcome()``)
    - ``status``: answer with this status (e.g. "Rejected") and skip the follow-up work
    - ``reply``: answer exactly this payload, no follow-up
    - ``error``: answer with a CALLERROR of this wire code (``Outcome.not_supported()``)
    - ``fail_at``: accept, then fail the follow-up at this stage (e.g. "Downloading",
      "SignatureVerified", "InstallVerification", "Installing", "Uploading", "Authorize",
      "StartTransaction"); "Revocation": a firmware signing certificate is revoked
    - ``times``: how many calls it applies to (None: until replaced)
    """

    status: str | None = None
    reply: dict[str, Any] | None = None
    error: str | None = None
    description: str = ""
    fail_at: str | None = None
    times: int | None = None

    @classmethod
    def reject(cls, status: str = "Rejected", times: int | None = None) -> Outcome:
        return cls(status=status, times=times)

    @classmethod
    def not_supported(cls, times: int | None = None) -> Outcome:
        return cls(error=NotSupportedAction.code, times=times)

    @classmethod
    def fail(cls, stage: str, times: int | None = None) -> Outcome:
        return cls(fail_at=stage, times=times)


class Outcomes:
    """Per-action outcomes; unlisted actions behave by default."""

    def __init__(self) -> None:
        self._by_action: dict[str, list[Outcome]] = {}

    def set(self, action: str, outcome: Outcome | None) -> None:
        if outcome is None:
            self._by_action.pop(action, None)
        else:
            self._by_action.setdefault(action, []).append(outcome)

    def take(self, action: str) -> Outcome:
        queue = self._by_action.get(action)
        if not queue:
            return Outcome()
        outcome = queue[0]
        if outcome.times is not None:
            left = outcome.times - 1
            if left <= 0:
                queue.pop(0)
            else:
                queue[0] = Outcome(**{**_fields(outcome), "times": left})
        return outcome


def _fields(outcome: Outcome) -> dict[str, Any]:
    return {name: getattr(outcome, name) for name in Outcome.__slots__}


@dataclass(slots=True)
class IncomingCall:
    """A CALL received from the CSMS. When held, the test answers it with `answer()`."""

    action: str
    payload: dict[str, Any]
    received_at: datetime
    held: bool = False
    response: dict[str, Any] | None = None
    error: OcppError | None = None
    reason: str | None = None  # why the charge point answered as it did, when it refused
    _answer: asyncio.Future[dict[str, Any] | OcppError | None] | None = field(
        default=None, repr=False
    )

    async def answer(
        self, reply: dict[str, Any] | None = None, error: dict[str, Any] | OcppError | None = None
    ) -> None:
        """Answer a held call: `reply` payload, `error` (an OcppError or {"code", "description"}),
        or neither for the charge point's default behaviour."""
        if self._answer is None or self._answer.done():
            raise RuntimeError(f"{self.action} is not held or was already answered")
        if error is not None:
            value: dict[str, Any] | OcppError | None = (
                error
                if isinstance(error, OcppError)
                else error_for(error["code"], error.get("description", ""), error.get("details"))
            )
        else:
            value = reply
        self._answer.set_result(value)


@dataclass(slots=True)
class Waiter:
    action: str | None
    match: Matcher | None
    hold: bool
    future: asyncio.Future[IncomingCall]

    def wants(self, action: str, payload: dict[str, Any]) -> bool:
        return (self.action is None or self.action == action) and (
            self.match is None or bool(self.match(payload))
        )

    async def wait(self, timeout: float) -> IncomingCall:
        try:
            return await asyncio.wait_for(asyncio.shield(self.future), timeout)
        except TimeoutError:
            self.future.cancel()
            raise ExpectationFailed(
                f"no {self.action or 'CALL'} from the CSMS within {timeout:g} s"
            ) from None


class Inbox:
    """Calls from the CSMS not yet consumed by a test, and the waiters for future ones."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self.unclaimed: list[IncomingCall] = []
        self.waiters: list[Waiter] = []

    def expect(self, action: str | None, match: Matcher | None, hold: bool) -> Waiter:
        future: asyncio.Future[IncomingCall] = asyncio.get_running_loop().create_future()
        waiter = Waiter(action, match, hold, future)
        self.waiters.append(waiter)
        return waiter

    def claim_past(self, action: str | None, match: Matcher | None) -> IncomingCall | None:
        for call in self.unclaimed:
            if (action is None or call.action == action) and (match is None or match(call.payload)):
                self.unclaimed.remove(call)
                return call
        return None

    def holder(self, action: str, payload: dict[str, Any]) -> Waiter | None:
        for waiter in self.waiters:
            if waiter.hold and not waiter.future.done() and waiter.wants(action, payload):
                self.waiters.remove(waiter)
                return waiter
        return None

    def deliver(self, call: IncomingCall) -> None:
        self.waiters = [w for w in self.waiters if not w.future.done()]
        for waiter in self.waiters:
            if not waiter.hold and waiter.wants(call.action, call.payload):
                self.waiters.remove(waiter)
                waiter.future.set_result(call)
                return
        if self.size:
            self.unclaimed.append(call)
            if len(self.unclaimed) > self.size:
                del self.unclaimed[0]
