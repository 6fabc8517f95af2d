"""Transactions across chargers: one tag in one transaction at a time, decided atomically."""

from __future__ import annotations

import asyncio
from collections import Counter
from contextlib import AsyncExitStack

from csms import CsmsApp

from .client import RawClient

NOW = "2026-11-24T10:00:00Z"
CHARGERS = 20


async def booted_clients(app: CsmsApp, stack: AsyncExitStack, count: int) -> list[RawClient]:
    clients = []
    for n in range(count):
        await app.services.chargers.register(f"CP-{n}")
        client = await stack.enter_async_context(await RawClient.open(f"{app.ocpp_url}/CP-{n}"))
        assert (await client.boot())["status"] == "Accepted"
        clients.append(client)
    return clients


def start(id_tag: str, connector: int = 1, meter_start: int = 0) -> dict[str, object]:
    return {"connectorId": connector, "idTag": id_tag, "meterStart": meter_start, "timestamp": NOW}


async def test_simultaneous_starts_with_one_tag_accept_exactly_one(csms_app: CsmsApp) -> None:
    await csms_app.services.tags.upsert("SHARED")
    async with AsyncExitStack() as stack:
        clients = await booted_clients(csms_app, stack, CHARGERS)
        answers = await asyncio.gather(
            *(client.result("StartTransaction", start("SHARED")) for client in clients)
        )
    verdicts = Counter(answer["idTagInfo"]["status"] for answer in answers)
    assert verdicts == {"Accepted": 1, "ConcurrentTx": CHARGERS - 1}
    assert len({answer["transactionId"] for answer in answers}) == CHARGERS
    accepted = next(a for a in answers if a["idTagInfo"]["status"] == "Accepted")
    stored = await csms_app.services.transactions.transactions.find(status="Active")
    assert [row["id"] for row in stored if row["auth_status"] == "Accepted"] == [
        accepted["transactionId"]
    ]


async def test_a_tag_is_free_again_once_its_accepted_transaction_stops(
    csms_app: CsmsApp,
) -> None:
    """Transactions answered ConcurrentTx and still open at their chargers do not hold the tag."""
    await csms_app.services.tags.upsert("TAG")
    async with AsyncExitStack() as stack:
        first, second, third = await booted_clients(csms_app, stack, 3)
        owner = await first.result("StartTransaction", start("TAG"))
        refused = await second.result("StartTransaction", start("TAG"))
        assert refused["idTagInfo"]["status"] == "ConcurrentTx"
        stop = {"transactionId": owner["transactionId"], "meterStop": 10, "timestamp": NOW}
        await first.result("StopTransaction", {**stop, "idTag": "TAG"})
        later = await third.result("StartTransaction", start("TAG"))
        assert later["idTagInfo"]["status"] == "Accepted"
