"""Faulty charger behaviours, switched on per charge point to test how a CSMS copes.

The faults sit in the transport, below the RPC session: the charge point's logic and its schema
checks run as usual, then each frame is altered on its way to the wire. Nothing else changes, so
every fault works with every profile, scenario and front end.

- duplicate: a share of the CALLs is sent twice, with the same message id (a retransmission).
- wrong_ids: a share of the answers to CSMS calls carries an id the CSMS never used.
- clock_drift_s: seconds added to every `timestamp` in the CALLs (negative: behind).
- schema_violations: a share of the CALLs loses a required field, or gains an unknown one
  when the action has none required.
- storm: this many extra Heartbeats (ids "storm-N") sent right after each CALL.

Shares are probabilities from 0 to 1, drawn from a generator seeded per charge point when
`seed` is set, so a run can be repeated. `FaultyTransport.injected` (a charge point's
`faults_injected`, the fleet summary) counts what was done. The transcript shows the frames
as the charge point meant them, before the faults; the CSMS's message log shows the wire.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter
from dataclasses import dataclass, fields
from datetime import timedelta
from typing import Any, Protocol

import orjson

from ocppj import Dialect, timestamps
from ocppj.errors import OcppError

__all__ = ["Faults", "FaultyTransport"]

_NAMES = {
    "duplicate": "duplicate",
    "wrong-ids": "wrong_ids",
    "clock-drift": "clock_drift_s",
    "schema": "schema_violations",
    "storm": "storm",
    "seed": "seed",
}


class Transport(Protocol):
    async def recv(self) -> str | bytes: ...

    async def send(self, message: str) -> None: ...


@dataclass(frozen=True, slots=True)
class Faults:
    """What a faulty charge point does wrong; all off by default."""

    duplicate: float = 0.0
    wrong_ids: float = 0.0
    clock_drift_s: float = 0.0
    schema_violations: float = 0.0
    storm: int = 0
    seed: int | None = None

    def __post_init__(self) -> None:
        for name in ("duplicate", "wrong_ids", "schema_violations"):
            share = getattr(self, name)
            if not 0.0 <= share <= 1.0:
                raise ValueError(f"faults: {name} is a share from 0 to 1, not {share}")
        if self.storm < 0:
            raise ValueError(f"faults: storm is a count of extra Heartbeats, not {self.storm}")

    @property
    def active(self) -> bool:
        return any(
            (self.duplicate, self.wrong_ids, self.clock_drift_s, self.schema_violations, self.storm)
        )

    @classmethod
    def parse(cls, text: str) -> Faults:
        """From 'duplicate,wrong-ids=0.5,clock-drift=300,schema=0.2,storm=5,seed=1'.
        A share named without a value means every frame (1.0)."""
        values: dict[str, Any] = {}
        for item in filter(None, (part.strip() for part in text.split(","))):
            name, sep, value = item.partition("=")
            field = _NAMES.get(name.strip())
            if field is None:
                raise ValueError(f"unknown fault {name!r}; known: {', '.join(_NAMES)}")
            if not sep:
                if field in ("clock_drift_s", "storm", "seed"):
                    raise ValueError(f"fault {name!r} needs a value, e.g. {name}=10")
                value = "1"
            kind = {f.name: f.type for f in fields(cls)}[field]
            try:
                values[field] = int(value) if kind in ("int", "int | None") else float(value)
            except ValueError as exc:
                raise ValueError(f"fault {name!r}: {value!r} is not a number") from exc
        return cls(**values)

    def rng(self, identity: str) -> random.Random:
        """The generator for one charge point: seeded by `seed` and its identity, if set."""
        return random.Random(None if self.seed is None else f"{self.seed}:{identity}")


def _shift(value: Any, drift: timedelta) -> Any:
    """Every `timestamp` in a payload moved by `drift` (unreadable ones left as they are)."""
    if isinstance(value, list):
        return [_shift(v, drift) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        if key == "timestamp" and isinstance(item, str):
            try:
                out[key] = timestamps.iso(timestamps.parse(item) + drift)
            except (ValueError, OverflowError):
                out[key] = item
        else:
            out[key] = _shift(item, drift)
    return out


class FaultyTransport:
    """A transport that alters what the charge point sends, as its `Faults` say."""

    def __init__(
        self,
        transport: Transport,
        faults: Faults,
        rng: random.Random,
        injected: Counter[str] | None = None,
        *,
        dialect: Dialect,
    ) -> None:
        self.transport = transport
        self.faults = faults
        self.rng = rng
        self.dialect = dialect  # whose schemas say what a CALL requires
        self.injected: Counter[str] = Counter() if injected is None else injected
        self._ids = itertools.count(1)

    async def recv(self) -> str | bytes:
        return await self.transport.recv()

    def _roll(self, share: float) -> bool:
        return share > 0 and self.rng.random() < share

    async def send(self, message: str) -> None:
        try:
            frame = orjson.loads(message)
        except orjson.JSONDecodeError:
            frame = None
        if not isinstance(frame, list) or len(frame) < 3 or frame[0] not in (2, 3, 4):
            await self.transport.send(message)  # raw text from a test: as it is
            return
        if frame[0] == 2:
            await self._send_call(frame)
        else:
            if self._roll(self.faults.wrong_ids):
                frame[1] = f"wrong-{next(self._ids)}"
                self.injected["wrong_id"] += 1
                message = orjson.dumps(frame).decode()
            await self.transport.send(message)

    async def _send_call(self, frame: list[Any]) -> None:
        action, payload = frame[2], frame[3]
        if self.faults.clock_drift_s and isinstance(payload, dict):
            payload = _shift(payload, timedelta(seconds=self.faults.clock_drift_s))
            self.injected["clock_drift"] += 1
        if self._roll(self.faults.schema_violations) and isinstance(payload, dict):
            payload = self._violate(action, payload)
            self.injected["schema_violation"] += 1
        text = orjson.dumps([2, frame[1], action, payload]).decode()
        await self.transport.send(text)
        if self._roll(self.faults.duplicate):
            await self.transport.send(text)
            self.injected["duplicate"] += 1
        for _ in range(self.faults.storm):
            await self.transport.send(f'[2,"storm-{next(self._ids)}","Heartbeat",{{}}]')
            self.injected["storm_heartbeat"] += 1

    def _violate(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        try:
            required = [
                k for k in self.dialect.schema(action, False).get("required", ()) if k in payload
            ]
        except OcppError:  # an action without a schema: add a field instead
            required = []
        if required:
            dropped = self.rng.choice(required)
            return {k: v for k, v in payload.items() if k != dropped}
        return {**payload, "faultInjected": True}
