"""Malformed frames get the CALLERROR OCPP-J prescribes, never an echo, and the line lives on."""

from __future__ import annotations

import json

import pytest

from csms import CsmsApp

from .client import RawClient


@pytest.mark.parametrize(
    ("raw", "message_id", "code"),
    [
        ("this is not json <script>", "-1", "FormationViolation"),
        ('{"not": "an array"}', "-1", "FormationViolation"),
        ("[]", "-1", "FormationViolation"),
        ('["2", "m1", "Heartbeat", {}]', "m1", "FormationViolation"),
        ('[9, "m2", "Heartbeat", {}]', "m2", "ProtocolError"),
        ('[2, "m3", "Heartbeat"]', "m3", "FormationViolation"),
        ('[2, "m4", "Heartbeat", {}, 5]', "m4", "FormationViolation"),
        ('[2, "m5", "Heartbeat", []]', "m5", "FormationViolation"),
        ('[2, "m6", 17, {}]', "m6", "FormationViolation"),
        ('[2, 42, "Heartbeat", {}]', "-1", "FormationViolation"),
        (json.dumps([2, "x" * 37, "Heartbeat", {}]), "-1", "FormationViolation"),
    ],
)
async def test_malformed_text_frames(
    csms_app: CsmsApp, booted_client: RawClient, raw: str, message_id: str, code: str
) -> None:
    await booted_client.send(raw)
    frame = await booted_client.recv()
    assert frame[0] == 4 and frame[1] == message_id and frame[2] == code
    assert raw not in json.dumps(frame)  # never an echo of the raw input
    assert "currentTime" in await booted_client.result("Heartbeat", {})
    log = await csms_app.services.log.query("CP-1", direction="in")
    assert raw in [row["payload"] for row in log]  # the bad frame is logged as received


async def test_binary_frame_gets_formation_violation(booted_client: RawClient) -> None:
    await booted_client.send(json.dumps([2, "b1", "Heartbeat", {}]).encode())
    frame = await booted_client.recv()
    assert frame[0] == 4 and frame[2] == "FormationViolation"
    assert "currentTime" in await booted_client.result("Heartbeat", {})


async def test_unmatched_callresult_and_callerror_are_ignored(booted_client: RawClient) -> None:
    await booted_client.send(json.dumps([3, "never-sent", {}]))
    await booted_client.send(json.dumps([4, "never-sent-2", "GenericError", "", {}]))
    assert "currentTime" in await booted_client.result("Heartbeat", {})


async def test_second_call_before_first_answered_gets_both_answers_in_order(
    booted_client: RawClient,
) -> None:
    await booted_client.send(json.dumps([2, "c1", "Heartbeat", {}]))
    await booted_client.send(json.dumps([2, "c2", "Heartbeat", {}]))
    first, second = await booted_client.recv(), await booted_client.recv()
    assert (first[0], first[1], second[0], second[1]) == (3, "c1", 3, "c2")
