"""The 2.0.1 shapes of the load generator: what a 2.0.1 station sends in a session.

A TransactionEvent stage has each connection start one transaction and send Updated events
with 10 sampled values (Sample.Periodic, as SampledDataCtrlr.TxUpdatedMeasurands would), each
a new instant and a higher register; a session is Authorize, TransactionEvent Started, 3 x
Updated with meter values, Ended.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from csms.store.fill import SAMPLED as SAMPLED_16
from ocppj.timestamps import iso

SUBPROTOCOL = "ocpp2.0.1"
PREFIX = "2.0.1 "  # of the kinds' names
KINDS = ("2.0.1 Heartbeat", "2.0.1 TransactionEvent", "2.0.1 Session mix")
SESSION = 6  # messages of a session: Authorize, Started, 3 x Updated, Ended

BOOT = {"chargingStation": {"vendorName": "bench", "model": "load"}, "reason": "PowerUp"}
TOKEN = {"idToken": "BENCH", "type": "ISO14443"}
EVSE = {"id": 1, "connectorId": 1}
BASE = datetime.now(UTC)
STEP = timedelta(milliseconds=1)
_instants = itertools.count()
# 1.6's 10 sampled values, with the frequency for the temperature (no 2.0.1 measurand)
SAMPLED = tuple(
    ("Frequency", "Hz", None, "Outlet", 50.0) if shape[0] == "Temperature" else shape
    for shape in SAMPLED_16
)


class Caller(Protocol):
    async def call(self, action: str, payload: dict[str, Any]) -> Any: ...


@dataclass
class Transaction:
    """One transaction of a station: its id, its next seqNo and its meter register."""

    transaction_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    seq_no: int = 0
    register: float = 0.0

    def event(self, event_type: str, trigger: str, **extra: Any) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "eventType": event_type,
            "timestamp": iso(datetime.now(UTC)),
            "triggerReason": trigger,
            "seqNo": self.seq_no,
            "transactionInfo": {"transactionId": self.transaction_id},
            **extra,
        }
        self.seq_no += 1
        return payload

    def meter_value(self) -> dict[str, Any]:
        self.register += 31
        samples = []
        for k, (measurand, unit, phase, location, typical) in enumerate(SAMPLED):
            value = self.register if k == 0 else round(typical * (0.95 + k / 100), 1)
            sample = {"value": value, "context": "Sample.Periodic", "measurand": measurand,
                      "location": location, "unitOfMeasure": {"unit": unit}}  # fmt: skip
            if phase:
                sample["phase"] = phase
            samples.append(sample)
        moment = iso(BASE + next(_instants) * STEP)
        return {"timestamp": moment, "sampledValue": samples}

    async def start(self, client: Caller) -> None:
        await client.call("TransactionEvent", self.event(
            "Started", "Authorized", idToken=TOKEN, evse=EVSE, meterValue=[self.meter_value()],
        ))  # fmt: skip

    async def update(self, client: Caller) -> None:
        await client.call(
            "TransactionEvent",
            self.event("Updated", "MeterValuePeriodic", meterValue=[self.meter_value()]),
        )

    async def end(self, client: Caller) -> None:
        ended = self.event("Ended", "StopAuthorized", meterValue=[self.meter_value()])
        ended["transactionInfo"]["stoppedReason"] = "Local"
        await client.call("TransactionEvent", ended)


Work = Callable[[Caller, Transaction], Awaitable[int]]


async def setup(client: Caller, in_transaction: bool) -> Transaction:
    await client.call("BootNotification", BOOT)
    transaction = Transaction()
    if in_transaction:
        await transaction.start(client)
    return transaction


def work_for(kind: str) -> tuple[Work, bool]:
    """(unit of work, whether the connection starts a transaction at setup) for a kind."""

    async def heartbeat(client: Caller, transaction: Transaction) -> int:
        await client.call("Heartbeat", {})
        return 1

    async def update(client: Caller, transaction: Transaction) -> int:
        await transaction.update(client)
        return 1

    async def session(client: Caller, transaction: Transaction) -> int:
        await client.call("Authorize", {"idToken": TOKEN})
        one = Transaction()
        await one.start(client)
        for _ in range(3):
            await one.update(client)
        await one.end(client)
        return SESSION

    table: dict[str, tuple[Work, bool]] = {
        "2.0.1 Heartbeat": (heartbeat, False),
        "2.0.1 TransactionEvent": (update, True),
        "2.0.1 Session mix": (session, False),
    }
    return table[kind]
