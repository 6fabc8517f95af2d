"""Protocol misuse by a charger: each is answered as the spec says, recorded, and leaves the
stored data consistent; a second charger connected meanwhile sees nothing of it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from csms import CsmsApp

from .client import RawClient

NOW = "2026-11-24T10:00:00Z"


def meter(tid: int | None, *samples: tuple[str, str], connector: int = 1) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "connectorId": connector,
        "meterValue": [{"timestamp": ts, "sampledValue": [{"value": v}]} for ts, v in samples],
    }
    if tid is not None:
        payload["transactionId"] = tid
    return payload


@pytest.fixture
async def bystander(csms_app: CsmsApp) -> AsyncIterator[RawClient]:
    """CP-2, booted, with a transaction running: it must be unaffected by CP-1's misuse."""
    await csms_app.services.chargers.register("CP-2")
    other = await RawClient.open(f"{csms_app.ocpp_url}/CP-2")
    assert (await other.boot())["status"] == "Accepted"
    await other.result(
        "StartTransaction", {"connectorId": 1, "idTag": "B", "meterStart": 0, "timestamp": NOW}
    )
    yield other
    assert "currentTime" in await other.result("Heartbeat", {})
    assert await csms_app.services.chargers.store.events("CP-2", "Anomaly") == []
    [row] = await csms_app.services.transactions.transactions.find(charger_id="CP-2")
    assert row["status"] == "Active"
    await other.close()


async def start(client: RawClient, meter_start: int = 0) -> int:
    result = await client.result(
        "StartTransaction",
        {"connectorId": 1, "idTag": "T", "meterStart": meter_start, "timestamp": NOW},
    )
    tid: int = result["transactionId"]
    return tid


async def anomalies(app: CsmsApp, charger: str = "CP-1") -> list[str]:
    return [e["detail"] for e in await app.services.chargers.store.events(charger, "Anomaly")]


async def test_stop_transaction_twice(
    csms_app: CsmsApp, booted_client: RawClient, bystander: RawClient
) -> None:
    tid = await start(booted_client)
    stop = {"transactionId": tid, "meterStop": 100, "timestamp": "2026-11-24T11:00:00Z"}
    assert await booted_client.result("StopTransaction", stop) == {}
    late = {**stop, "meterStop": 999, "timestamp": "2026-11-24T12:00:00Z", "reason": "Other"}
    assert await booted_client.result("StopTransaction", late) == {}
    row = await csms_app.services.transactions.transactions.get(tid)
    assert row is not None  # the first stop stands
    assert (row["meter_stop"], row["stop_timestamp"], row["stop_reason"]) == (
        100,
        "2026-11-24T11:00:00Z",
        "Local",
    )
    assert await anomalies(csms_app) == ["stop for a transaction already stopped"]


async def test_stop_of_another_chargers_transaction(
    csms_app: CsmsApp, booted_client: RawClient, bystander: RawClient
) -> None:
    [theirs] = await csms_app.services.transactions.transactions.find(charger_id="CP-2")
    stop = {"transactionId": theirs["id"], "meterStop": 5, "timestamp": NOW}
    assert await booted_client.result("StopTransaction", stop) == {}
    assert await anomalies(csms_app) == ["stop for a transaction of charger CP-2"]
    # the bystander's fixture teardown checks its transaction is still Active


async def test_meter_values_for_a_closed_transaction(
    csms_app: CsmsApp, booted_client: RawClient, bystander: RawClient
) -> None:
    tid = await start(booted_client)
    stop = {"transactionId": tid, "meterStop": 100, "timestamp": NOW}
    await booted_client.result("StopTransaction", stop)
    late = meter(tid, ("2026-11-24T10:05:00Z", "50"))
    assert await booted_client.result("MeterValues", late) == {}
    assert await anomalies(csms_app) == ["meter values for a closed transaction"]
    values = await csms_app.services.transactions.transactions.meter_values(tid)
    assert [v["value"] for v in values] == ["50"]  # kept, and flagged
    row = await csms_app.services.transactions.transactions.get(tid)
    assert row is not None and row["status"] == "Completed" and row["meter_stop"] == 100


async def test_out_of_order_and_duplicated_meter_values(
    csms_app: CsmsApp, booted_client: RawClient, bystander: RawClient
) -> None:
    tid = await start(booted_client)
    t1, t2, t3 = "2026-11-24T10:01:00Z", "2026-11-24T10:02:00Z", "2026-11-24T10:03:00Z"
    for payload in (
        meter(tid, (t3, "300")),
        meter(tid, (t1, "100")),
        meter(tid, (t1, "100")),  # a retransmission after a lost answer
        meter(tid, (t2, "200"), (t2, "200")),  # the same sample twice in one message
        meter(tid, (t3, "300")),
    ):
        assert await booted_client.result("MeterValues", payload) == {}
    values = await csms_app.services.transactions.transactions.meter_values(tid)
    assert [(v["timestamp"], v["value"]) for v in values] == [(t1, "100"), (t2, "200"), (t3, "300")]
    # a different value at the same instant is no duplicate: both are kept
    assert await booted_client.result("MeterValues", meter(tid, (t3, "301"))) == {}
    values = await csms_app.services.transactions.transactions.meter_values(tid)
    assert [v["value"] for v in values][-2:] == ["300", "301"]
    assert await anomalies(csms_app) == []


async def test_answers_to_calls_never_sent_are_logged_and_ignored(
    csms_app: CsmsApp, booted_client: RawClient, bystander: RawClient
) -> None:
    await booted_client.send(json.dumps([3, "never-sent", {"status": "Accepted"}]))
    await booted_client.send(json.dumps([4, "never-sent-2", "GenericError", "boom", {}]))
    assert "currentTime" in await booted_client.result("Heartbeat", {})
    log = await csms_app.services.log.query("CP-1", direction="in")
    received = {(r["message_type"], r["message_id"]) for r in log}
    assert {(3, "never-sent"), (4, "never-sent-2")} <= received
    sent = await csms_app.services.log.query("CP-1", direction="out")
    assert all(r["message_id"] not in ("never-sent", "never-sent-2") for r in sent)  # no answer


@pytest.mark.parametrize(
    ("action", "payload"),
    [
        ("Heartbeat", {}),
        ("StartTransaction", {"connectorId": 1, "idTag": "T", "meterStart": 0, "timestamp": NOW}),
        ("StopTransaction", {"transactionId": 1, "meterStop": 0, "timestamp": NOW}),
        ("MeterValues", meter(None, (NOW, "1"))),
        ("StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Available"}),
        ("Authorize", {"idTag": "T"}),
    ],
)
async def test_calls_before_boot_acceptance_are_refused_and_logged(
    csms_app: CsmsApp, client: RawClient, bystander: RawClient, action: str, payload: dict[str, Any]
) -> None:
    frame = await client.call(action, payload)
    assert frame[0] == 4 and frame[2] == "SecurityError", frame
    store = csms_app.services.transactions.transactions
    assert await store.find(charger_id="CP-1") == []
    assert await csms_app.services.chargers.store.connectors("CP-1") == []
    log = await csms_app.services.log.query("CP-1", direction="out")
    assert [r["error_code"] for r in log if r["message_id"] == frame[1]] == ["SecurityError"]
    # the connection is kept: the charger may still boot
    assert (await client.boot())["status"] == "Accepted"


async def test_calls_while_boot_is_pending_are_refused(csms_app: CsmsApp) -> None:
    await csms_app.services.chargers.register("CP-P", registration="Pending")
    async with await RawClient.open(f"{csms_app.ocpp_url}/CP-P") as pending:
        assert (await pending.boot())["status"] == "Pending"
        frame = await pending.call("Heartbeat", {})
        assert frame[0] == 4 and frame[2] == "SecurityError"
