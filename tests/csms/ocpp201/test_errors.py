"""Frames that break the 2.0.1 schemas get 2.0.1's error spellings, and the connection lives
on; an action 2.0.1 does not define is NotImplemented."""

from __future__ import annotations

import json

import pytest

from .station import Station


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"reason": "PowerUp"}, "OccurrenceConstraintViolation"),  # chargingStation missing
        ({"reason": "Bored", "chargingStation": {"model": "M", "vendorName": "V"}},
         "PropertyConstraintViolation"),
        ({"reason": "PowerUp", "chargingStation": {"model": 7, "vendorName": "V"}},
         "TypeConstraintViolation"),
    ],
)  # fmt: skip
async def test_schema_violations_are_answered_in_2_0_1_spelling(
    station: Station, payload: dict[str, object], code: str
) -> None:
    frame = await station.error("BootNotification", payload)
    assert frame[2] == code, frame
    assert (await station.boot())["status"] == "Accepted"  # the connection lives on


async def test_a_frame_that_is_no_json_array_is_a_format_violation(booted: Station) -> None:
    await booted.send('[2, "m1", "Heartbeat", {]')
    frame = await booted.recv()
    assert frame[0] == 4 and frame[2] in ("FormatViolation", "RpcFrameworkError"), frame
    assert "currentTime" in await booted.result("Heartbeat", {})


async def test_an_action_2_0_1_does_not_define_is_not_implemented(booted: Station) -> None:
    frame = await booted.error("StartTransaction", {"connectorId": 1})
    assert frame[2] == "NotImplemented"
    await booted.send(json.dumps([2, "m2", "Heartbeat", {}]))
    assert (await booted.recv())[0] == 3
