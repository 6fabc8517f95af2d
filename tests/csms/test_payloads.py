"""Bad payloads in well-formed frames: every kind of schema violation, absurd numbers, odd
timestamps. The CSMS answers the CALLERROR the spec prescribes (or accepts what the schema
allows), stays up, and stores nothing it did not acknowledge."""

from __future__ import annotations

import json
from typing import Any

import pytest

from csms import CsmsApp
from ocppj import frames
from ocppj.errors import FrameError

from .client import RawClient

NOW = "2026-11-24T10:00:00Z"
START = {"connectorId": 1, "idTag": "T", "meterStart": 0, "timestamp": NOW}


@pytest.mark.parametrize(
    ("action", "payload", "code"),
    [
        # type
        ("StartTransaction", {**START, "connectorId": "1"}, "TypeConstraintViolation"),
        ("StartTransaction", {**START, "meterStart": 1.5}, "TypeConstraintViolation"),
        ("StartTransaction", {**START, "idTag": None}, "TypeConstraintViolation"),
        ("Heartbeat", {"x": 1}, "FormationViolation"),  # additionalProperties
        # required
        ("StartTransaction", {"connectorId": 1, "idTag": "T"}, "OccurenceConstraintViolation"),
        ("MeterValues", {"connectorId": 1}, "OccurenceConstraintViolation"),
        ("MeterValues", {"connectorId": 1, "meterValue": []}, "OccurenceConstraintViolation"),
        # enum
        (
            "StatusNotification",
            {"connectorId": 1, "errorCode": "Melted", "status": "Available"},
            "PropertyConstraintViolation",
        ),
        # string length
        ("StartTransaction", {**START, "idTag": "x" * 21}, "PropertyConstraintViolation"),
        (
            "BootNotification",
            {"chargePointVendor": "v" * 21, "chargePointModel": "m"},
            "PropertyConstraintViolation",
        ),
        # format
        ("StartTransaction", {**START, "timestamp": "yesterday"}, "PropertyConstraintViolation"),
        # additionalProperties
        ("StartTransaction", {**START, "extra": True}, "FormationViolation"),
    ],
)
async def test_each_kind_of_schema_violation(
    csms_app: CsmsApp, booted_client: RawClient, action: str, payload: dict[str, Any], code: str
) -> None:
    frame = await booted_client.call(action, payload)
    assert frame[0] == 4 and frame[2] == code, frame
    assert "currentTime" in await booted_client.result("Heartbeat", {})
    assert await csms_app.services.transactions.transactions.find() == []


async def test_duplicate_keys_in_a_call_payload_are_refused(
    csms_app: CsmsApp, booted_client: RawClient
) -> None:
    """orjson would keep the last value silently; a charger must not get a transaction for a
    payload two readers could read differently."""
    raw = (
        '[2, "dup1", "StartTransaction", {"connectorId": 1, "idTag": "A", "idTag": "B",'
        f' "meterStart": 0, "timestamp": "{NOW}"}}]'
    )
    await booted_client.send(raw)
    frame = await booted_client.recv()
    assert frame[:3] == [4, "dup1", "FormationViolation"] and "idTag" in frame[3]
    assert await csms_app.services.transactions.transactions.find() == []
    # nested duplicates too, and the same key in sibling objects is fine
    nested = '[2, "dup2", "MeterValues", {"connectorId": 1, "meterValue": [{"timestamp": "%s",'
    nested += ' "sampledValue": [{"value": "1", "value": "2"}]}]}]'
    await booted_client.send(nested % NOW)
    assert (await booted_client.recv())[:3] == [4, "dup2", "FormationViolation"]
    siblings = {"connectorId": 1, "meterValue": [
        {"timestamp": NOW, "sampledValue": [{"value": "1"}, {"value": "2"}]}
    ]}  # fmt: skip
    assert await booted_client.result("MeterValues", siblings) == {}
    # a key text that merely contains '":' inside a string value is no duplicate
    data = {"vendorId": "v", "data": '{"a": 1, "a": 2}'}
    assert (await booted_client.result("DataTransfer", data))["status"]


@pytest.mark.parametrize("connector_id", [1634030126, 2**31, 2**63 - 1])
async def test_absurd_connector_id_does_not_break_the_charger(
    csms_app: CsmsApp, booted_client: RawClient, connector_id: int
) -> None:
    status = {"connectorId": connector_id, "errorCode": "NoError", "status": "Available"}
    frame = await booted_client.call("StatusNotification", status)
    assert frame[0] in (3, 4)
    result = await booted_client.result("StartTransaction", {**START, "connectorId": connector_id})
    row = await csms_app.services.transactions.transactions.get(result["transactionId"])
    assert row is not None and row["connector_id"] == connector_id
    assert "currentTime" in await booted_client.result("Heartbeat", {})


@pytest.mark.parametrize("transaction_id", [2**63 - 1, -1, 0])
async def test_absurd_transaction_ids_are_answered_and_recorded(
    csms_app: CsmsApp, booted_client: RawClient, transaction_id: int
) -> None:
    stop = {"transactionId": transaction_id, "meterStop": 10, "timestamp": NOW}
    assert await booted_client.result("StopTransaction", stop) == {}
    meter = {
        "connectorId": 1,
        "transactionId": transaction_id,
        "meterValue": [{"timestamp": NOW, "sampledValue": [{"value": "5"}]}],
    }
    assert await booted_client.result("MeterValues", meter) == {}
    events = await csms_app.services.chargers.store.events("CP-1", "Anomaly")
    assert [e["detail"] for e in events] == [
        "stop for an unknown transaction",
        "meter values for an unknown transaction",
    ]
    assert await csms_app.services.transactions.transactions.find() == []


@pytest.mark.parametrize("number", [2**64, 2**64 + 1, -(2**64), 10**30])
async def test_integers_beyond_64_bits_are_refused_without_echo(
    csms_app: CsmsApp, booted_client: RawClient, number: int
) -> None:
    raw = json.dumps([2, "big", "StartTransaction", {**START, "meterStart": number}])
    await booted_client.send(raw)
    frame = await booted_client.recv()
    # orjson reads integers past 64 bits as floats: the schema's "integer" refuses them
    assert frame[:3] == [4, "big", "TypeConstraintViolation"], frame
    assert str(number) not in json.dumps(frame)
    assert await csms_app.services.transactions.transactions.find() == []
    assert "currentTime" in await booted_client.result("Heartbeat", {})


@pytest.mark.parametrize("meter", [2**63, 2**64 - 1])
async def test_meter_values_too_big_to_store_cost_one_answer(
    csms_app: CsmsApp, booted_client: RawClient, meter: int
) -> None:
    started = await booted_client.result("StartTransaction", START)
    stop = {"transactionId": started["transactionId"], "meterStop": meter, "timestamp": NOW}
    frame = await booted_client.call("StopTransaction", stop)
    assert frame[0] == 4 and frame[2] == "InternalError"
    row = await csms_app.services.transactions.transactions.get(started["transactionId"])
    assert row is not None and row["status"] == "Active"  # not half-stopped
    assert "currentTime" in await booted_client.result("Heartbeat", {})


async def test_negative_meter_values_are_stored_as_sent(
    csms_app: CsmsApp, booted_client: RawClient
) -> None:
    """The schema allows any integer; the CSMS keeps what the charger said, unaltered."""
    started = await booted_client.result("StartTransaction", {**START, "meterStart": -500})
    tid = started["transactionId"]
    meter = {
        "connectorId": 1,
        "transactionId": tid,
        "meterValue": [{"timestamp": NOW, "sampledValue": [{"value": "-42.5"}]}],
    }
    assert await booted_client.result("MeterValues", meter) == {}
    stop = {"transactionId": tid, "meterStop": -100, "timestamp": NOW}
    assert await booted_client.result("StopTransaction", stop) == {}
    store = csms_app.services.transactions.transactions
    row = await store.get(tid)
    assert row is not None and (row["meter_start"], row["meter_stop"]) == (-500, -100)
    assert [r["value"] for r in await store.meter_values(tid)] == ["-42.5"]


async def test_meter_stop_below_meter_start_is_stored_and_answered(
    csms_app: CsmsApp, booted_client: RawClient
) -> None:
    started = await booted_client.result("StartTransaction", {**START, "meterStart": 1000})
    tid = started["transactionId"]
    stop = {"transactionId": tid, "meterStop": 10, "timestamp": NOW}
    assert await booted_client.result("StopTransaction", stop) == {}
    row = await csms_app.services.transactions.transactions.get(tid)
    assert row is not None and row["status"] != "Active" and row["meter_stop"] == 10
    events = await csms_app.services.chargers.store.events("CP-1", "Anomaly")
    assert [e["detail"] for e in events] == ["meterStop below meterStart"]


@pytest.mark.parametrize(
    "timestamp",
    ["1970-01-01T00:00:00Z", "1970-01-01T00:00:00.000+00:00", "9999-12-31T23:59:59Z"],
)
async def test_timestamps_far_in_the_past_or_future_are_kept(
    csms_app: CsmsApp, booted_client: RawClient, timestamp: str
) -> None:
    started = await booted_client.result("StartTransaction", {**START, "timestamp": timestamp})
    tid = started["transactionId"]
    stop = {"transactionId": tid, "meterStop": 5, "timestamp": timestamp}
    assert await booted_client.result("StopTransaction", stop) == {}
    row = await csms_app.services.transactions.transactions.get(tid)
    assert row is not None and row["start_timestamp"] == timestamp
    assert row["stop_timestamp"] == timestamp


@pytest.mark.parametrize(
    ("text", "duplicate"),
    [
        ('[2, "a", "DataTransfer", {"vendorId": "v", "vendorId" : "w"}]', True),
        ('[2, "a", "DataTransfer", {"vendorId": "v", "data": "{\\"x\\": 1, \\"x\\": 2}"}]', False),
        ('[2, "a", "DataTransfer", {"vendorId": "\\":\\":", "data": ":"}]', False),
        ('[2, "a", "MeterValues", {"meterValue": [{"t": 1}, {"t": 1, "t": 2}]}]', True),
        ('[2, "a", "Heartbeat", {}]', False),
    ],
)
def test_duplicate_key_check_with_and_without_the_slow_path(text: str, duplicate: bool) -> None:
    if duplicate:
        with pytest.raises(FrameError) as refused:
            frames.decode(text)
        assert refused.value.code == "FormationViolation" and refused.value.message_id == "a"
    else:
        assert isinstance(frames.decode(text), frames.Call)
