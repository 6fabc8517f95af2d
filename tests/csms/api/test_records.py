"""Transactions with meter values and energy, and the message log, over HTTP."""

from __future__ import annotations

import httpx

from csms import CsmsApp
from tests.conftest import eventually

from .charger import TestCharger


async def test_transactions_with_energy_and_meter_values(
    api_app: CsmsApp, client: httpx.AsyncClient, charger: TestCharger
) -> None:
    first = await charger.start(1, "TAG-A")  # meter 1000 -> MeterValues 2500 Wh
    listed = (await client.get("/api/transactions", params={"status": "Active"})).json()
    [active] = listed["items"]
    assert (active["transactionId"], active["chargerId"], active["idTag"]) == (
        first,
        "CP-1",
        "TAG-A",
    )
    assert active["energyDelivered"] == 1500.0 and active["lastMeterValue"] == 2500.0
    assert (active["ocppVersion"], active["stationTransactionId"]) == ("1.6", None)

    await charger.stop(first)  # meterStop 2500
    second = await charger.start(2, "TAG-B")
    detail = (await client.get(f"/api/transactions/{first}")).json()
    assert detail["status"] == "Completed"
    assert (detail["meterStart"], detail["meterStop"], detail["energyDelivered"]) == (
        1000,
        2500,
        1500.0,
    )
    assert [(m["value"], m["unit"], m["source"]) for m in detail["meterValues"]] == [
        ("2500", "Wh", "MeterValues")
    ]

    everything = (await client.get("/api/transactions")).json()["items"]
    assert [t["transactionId"] for t in everything] == [second, first]  # newest first
    by_status = (await client.get("/api/transactions", params={"status": "Completed"})).json()
    assert [t["transactionId"] for t in by_status["items"]] == [first]
    paged = (await client.get("/api/transactions", params={"limit": 1, "offset": 1})).json()
    assert [t["transactionId"] for t in paged["items"]] == [first]
    other = (await client.get("/api/transactions", params={"chargerId": "CP-2"})).json()
    assert other["items"] == []
    window = {"since": "2026-11-24T09:00:00Z", "until": "2026-11-24T11:00:00Z"}
    assert len((await client.get("/api/transactions", params=window)).json()["items"]) == 2
    later = {"since": "2026-11-24T11:00:00Z"}
    assert (await client.get("/api/transactions", params=later)).json()["items"] == []
    offset = {"since": "2026-11-24T10:30:00+01:00"}  # 09:30 UTC
    assert len((await client.get("/api/transactions", params=offset)).json()["items"]) == 2
    garbage = await client.get("/api/transactions", params={"since": "yesterday"})
    assert garbage.status_code == 422
    missing = await client.get("/api/transactions/99999")
    assert missing.status_code == 404 and missing.json()["error"] == "UnknownTransaction"


async def test_energy_in_kwh_readings(
    api_app: CsmsApp, client: httpx.AsyncClient, charger: TestCharger
) -> None:
    transaction_id = await charger.start(1, "TAG-K")
    await charger.call(
        "MeterValues",
        {
            "connectorId": 1,
            "transactionId": transaction_id,
            "meterValue": [
                {
                    "timestamp": "2026-11-24T10:10:00Z",
                    "sampledValue": [
                        {"value": "4.25", "unit": "kWh"},
                        {"value": "16", "measurand": "Current.Import", "unit": "A"},
                    ],
                }
            ],
        },
    )
    detail = (await client.get(f"/api/transactions/{transaction_id}")).json()
    assert detail["lastMeterValue"] == 4250.0
    assert detail["energyDelivered"] == 3250.0
    assert len(detail["meterValues"]) == 3


async def test_a_transactions_own_messages(
    api_app: CsmsApp, client: httpx.AsyncClient, charger: TestCharger
) -> None:
    """StartTransaction (linked once its answer numbers it), MeterValues, StopTransaction:
    each with its answer, and none of the other transaction's or the charger's others."""
    first = await charger.start(1, "TAG-A")
    await charger.stop(first)
    second = await charger.start(2, "TAG-B")
    await api_app.services.log.flush()

    async def actions(number: int, **params: object) -> list[tuple[str, str]]:
        found = await client.get(f"/api/transactions/{number}/messages", params=params)
        assert found.status_code == 200, found.text
        assert {m["transactionId"] for m in found.json()["items"]} <= {number}
        return [(m["direction"], m["action"]) for m in found.json()["items"]]

    both_ways = [("in", "StartTransaction"), ("out", "StartTransaction"),
                 ("in", "MeterValues"), ("out", "MeterValues")]  # fmt: skip
    assert await actions(first) == [*both_ways, ("in", "StopTransaction"),
                                    ("out", "StopTransaction")]  # fmt: skip
    assert await actions(second) == both_ways
    assert await actions(first, order="desc", limit=1) == [("out", "StopTransaction")]
    assert await actions(first, offset=2, limit=2) == both_ways[2:]
    missing = await client.get("/api/transactions/99999/messages")
    assert missing.status_code == 404 and missing.json()["error"] == "UnknownTransaction"


async def test_message_log_paged_and_filtered(
    api_app: CsmsApp, client: httpx.AsyncClient, charger: TestCharger
) -> None:
    await client.post("/api/chargers/CP-1/ocpp/Reset", json={"type": "Soft"})

    async def logged() -> bool:
        found = await client.get("/api/chargers/CP-1/messages", params={"action": "Reset"})
        return len(found.json()["items"]) == 2

    await eventually(logged)
    resets = (await client.get("/api/chargers/CP-1/messages", params={"action": "Reset"})).json()
    call, result = resets["items"]
    assert (call["direction"], call["messageType"], call["frame"][2]) == ("out", 2, "Reset")
    assert call["frame"][3] == {"type": "Soft"}
    assert (result["direction"], result["messageType"], result["frame"][2]) == (
        "in",
        3,
        {"status": "Accepted"},
    )
    incoming = await client.get("/api/chargers/CP-1/messages", params={"direction": "in"})
    assert {m["direction"] for m in incoming.json()["items"]} == {"in"}
    first_two = (await client.get("/api/chargers/CP-1/messages", params={"limit": 2})).json()
    assert [m["action"] for m in first_two["items"]] == ["BootNotification", "BootNotification"]
    newest = (
        await client.get("/api/chargers/CP-1/messages", params={"limit": 1, "order": "desc"})
    ).json()
    assert newest["items"][0]["action"] == "Reset"
    assert (await client.get("/api/chargers/NOPE/messages")).status_code == 404
    assert (
        await client.get("/api/chargers/CP-1/messages", params={"direction": "up"})
    ).status_code == 422
