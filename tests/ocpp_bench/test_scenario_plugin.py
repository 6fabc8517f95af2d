"""The pytest plugin end to end: scenario files run as tests against the embedded CSMS."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

PASSING = """\
scenarios:
  - id: BOOT_AND_HEARTBEAT
    title: boot, then a heartbeat
    tags: [smoke]
    steps:
      - boot: {expect: {status: Accepted}}
      - send: {action: Heartbeat, payload: {}, expect: {currentTime: !type datetime}}
"""

WRONG_VALUE = """\
scenarios:
  - id: EXPECTS_REJECTED
    title: expects the wrong verdict
    state: booted
    steps:
      - send:
          action: Authorize
          payload: {idTag: "${tag}"}
          expect: {idTagInfo: {status: Rejected}}
"""

BROKEN = """\
scenarios:
  - id: BROKEN
    steps:
      - fly_to_the_moon: {}
"""


def test_files_run_as_tests_with_readable_failures(pytester: pytest.Pytester) -> None:
    folder = pytester.mkdir("scenarios")
    (folder / "ok.yaml").write_text(PASSING)
    (folder / "wrong.yaml").write_text(WRONG_VALUE)
    (folder / "broken.yaml").write_text(BROKEN)
    report = pytester.path / "summary.html"
    result = pytester.runpytest_subprocess(
        str(folder), "-p", "no:cacheprovider", f"--scenario-report={report}", "-v"
    )
    result.assert_outcomes(passed=1, failed=2)
    out = result.stdout.str()
    assert "BOOT_AND_HEARTBEAT PASSED" in out
    assert "broken.yaml:4: unknown step 'fly_to_the_moon'" in out
    # the failing step: where, its YAML, the diff, and the frames around it
    assert "wrong.yaml:6: step 1 (send) failed" in out
    assert "expect: {idTagInfo: {status: Rejected}}" in out
    assert "$.idTagInfo.status: expected 'Rejected', got 'Accepted'" in out
    assert "recent frames of cp:" in out and "Authorize" in out
    assert "OCPP 1.6 catalogue coverage" in out
    html = report.read_text()
    assert "EXPECTS_REJECTED" in html and "TC_001_CSMS" in html and "not covered" in html


def test_keyword_and_marker_selection(pytester: pytest.Pytester) -> None:
    folder = pytester.mkdir("scenarios")
    (folder / "ok.yaml").write_text(PASSING)
    (folder / "wrong.yaml").write_text(WRONG_VALUE)
    result = pytester.runpytest_subprocess(str(folder), "-p", "no:cacheprovider", "-m", "smoke")
    result.assert_outcomes(passed=1)
    result = pytester.runpytest_subprocess(str(folder), "-p", "no:cacheprovider", "-k", "REJECTED")
    result.assert_outcomes(failed=1)


INVALID_FROM_CSMS = """\
scenarios:
  - id: CSMS_SENDS_GARBAGE
    state: booted
    steps:
      - wait: 0.5
  - id: CSMS_SENDS_GARBAGE_THEN_A_STEP_FAILS
    state: booted
    steps:
      - expect_call: {action: Reset, timeout: 0.5}
"""


def test_a_frame_from_the_csms_that_breaks_the_schema_fails_the_scenario(
    pytester: pytest.Pytester,
) -> None:
    """Against a third-party CSMS (here a tiny one) with the manual driver."""
    import asyncio
    import json
    import threading

    from websockets.asyncio.server import ServerConnection, serve

    async def handler(ws: ServerConnection) -> None:
        async for raw in ws:
            message = json.loads(raw)
            if message[0] != 2:
                continue
            if message[2] == "BootNotification":
                answer = {
                    "status": "Accepted",
                    "currentTime": "2026-11-24T10:00:00Z",
                    "interval": 60,
                }
            else:
                answer = {}
            await ws.send(json.dumps([3, message[1], answer]))
            if message[2] == "StatusNotification" and message[3]["connectorId"] == 1:
                await ws.send(json.dumps([2, "bad-1", "Reset", {"type": "Warm"}]))

    ready = threading.Event()
    port: list[int] = []
    stop: list[asyncio.Event] = []

    async def main() -> None:
        stop.append(asyncio.Event())
        async with serve(handler, "127.0.0.1", 0, subprotocols=["ocpp1.6"]) as server:  # type: ignore[list-item]
            port.append(server.sockets[0].getsockname()[1])
            ready.set()
            await asyncio.wait_for(stop[0].wait(), 120)

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(main(),))
    thread.start()
    assert ready.wait(10)
    try:
        folder = pytester.mkdir("scenarios")
        (folder / "garbage.yaml").write_text(INVALID_FROM_CSMS)
        result = pytester.runpytest_subprocess(
            str(folder),
            "-p",
            "no:cacheprovider",
            "--csms-url",
            f"ws://127.0.0.1:{port[0]}/ocpp",
            "--csms-driver",
            "manual",
        )
        result.assert_outcomes(failed=2)
        out = result.stdout.str()
        assert "the CSMS broke the protocol (each frame below fails the case)" in out
        assert "no Reset from the CSMS within 0.5 s" in out
        assert "the CSMS also broke the protocol" in out
        assert "(breaks the OCPP 1.6 schema)" in out
        assert "PropertyConstraintViolation: Reset: payload.type must be one of" in out
    finally:
        loop.call_soon_threadsafe(stop[0].set)
        thread.join(10)
        loop.close()
