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


async def test_a_second_start_on_a_connector_closes_the_transaction_left_active_there(
    csms_app: CsmsApp,
) -> None:
    """A charger that lost a transaction (rebooted, say) and starts anew on the connector:
    the first is closed with reason Other and an anomaly, never left Active forever."""
    await csms_app.services.tags.upsert("TAG")
    await csms_app.services.tags.upsert("OTHER")
    store = csms_app.services.transactions.transactions
    async with AsyncExitStack() as stack:
        (client,) = await booted_clients(csms_app, stack, 1)
        lost = await client.result("StartTransaction", start("TAG", meter_start=100))
        beside = await client.result("StartTransaction", start("OTHER", connector=2))
        later = "2026-11-24T10:30:00Z"
        again = await client.result(
            "StartTransaction", {**start("TAG", meter_start=900), "timestamp": later}
        )
    assert again["idTagInfo"]["status"] == "Accepted"  # the lost one no longer holds the tag
    closed = await store.get(lost["transactionId"])
    assert closed is not None
    assert (closed["status"], closed["stop_reason"], closed["stop_timestamp"]) == (
        "Completed",
        "Other",
        later,
    )
    assert closed["meter_stop"] is None  # the charger never said
    for untouched in (beside, again):
        row = await store.get(untouched["transactionId"])
        assert row is not None and row["status"] == "Active"
    events = await csms_app.services.chargers.store.events("CP-0", "Anomaly")
    assert [e["detail"] for e in events] == [
        f"StartTransaction on connector 1 while transaction {lost['transactionId']} was active"
        f" there: {lost['transactionId']} closed (stop reason Other)"
    ]
