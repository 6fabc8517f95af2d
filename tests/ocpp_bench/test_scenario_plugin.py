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
    # a suite of its own, no catalogue case: no catalogue table listing 77 cases not covered
    assert "OCPP 1.6 catalogue coverage" not in out
    html = report.read_text()
    assert "EXPECTS_REJECTED" in html and "TC_001_CSMS" not in html
    assert "No case of an OCPP catalogue in this run" in html


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


MIXED = """\
scenarios:
  - id: FIRST_GOOD
    steps:
      - boot: {expect: {status: Accepted}}
  - id: UNKNOWN_ACTION
    steps:
      - send: {action: Heartbeet, payload: {}}
  - id: BAD_PAYLOAD_AT_RUN_TIME
    state: booted
    steps:
      - set: {count: 7}
      - send: {action: Authorize, payload: {idTag: "${count}"}}
  - id: WRONG_ANSWER
    state: booted
    steps:
      - send: {action: Heartbeat, payload: {}, expect: {currentTime: "never"}}
  - id: LAST_GOOD
    state: booted
    steps:
      - send: {action: Heartbeat, payload: {}}
"""


def test_common_mistakes_are_one_clear_line_and_hide_nothing(pytester: pytest.Pytester) -> None:
    import json
    import sys

    folder = pytester.mkdir("scenarios")
    (folder / "mixed.yaml").write_text(MIXED)
    reports = pytester.path / "reports"
    for _ in range(2):  # twice: the second run's Allure results replace the first's
        result = pytester.run(
            sys.executable, "-m", "ocpp_bench.cli", "run", str(folder),
            "--report-dir", str(reports), timeout=120,
        )  # fmt: skip
    out = result.stdout.str()
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*3 failed, 2 passed*"])  # the bad file hides no scenario
    assert "mixed.yaml:7: send: 'Heartbeet' is not an OCPP 1.6 action; did you mean Heartbeat?" in (
        out
    )
    assert "the Authorize payload breaks the OCPP 1.6 schema" in out
    assert "Traceback" not in out and "_pytest" not in out
    assert len(out.splitlines()) < 150, out
    statuses = {}
    for path in (reports / "allure").glob("*-result.json"):
        result_json = json.loads(path.read_text())
        statuses[result_json["name"]] = result_json["status"]
    assert statuses == {
        "FIRST_GOOD": "passed",
        "UNKNOWN_ACTION": "broken",
        "BAD_PAYLOAD_AT_RUN_TIME": "broken",
        "WRONG_ANSWER": "failed",
        "LAST_GOOD": "passed",
    }
    html = (reports / "summary.html").read_text()
    assert "broken" in html and "<details>" in html


NOT_SENT = """\
scenarios:
  - id: NO_START_WITHOUT_A_TAG
    state: booted
    steps:
      - plug_in: {connector: 1}
      - expect_not_sent: {action: StartTransaction, within: 0.5}
  - id: METER_VALUES_DO_FLOW
    state: charging
    charge_points: {cp: {config: {MeterValueSampleInterval: 1}}}
    steps:
      - expect_not_sent: {action: MeterValues, request: {connectorId: 1}, within: 2.5}
"""


def test_expect_not_sent_fails_only_when_the_charge_point_sends_it(
    pytester: pytest.Pytester,
) -> None:
    folder = pytester.mkdir("scenarios")
    (folder / "not_sent.yaml").write_text(NOT_SENT)
    result = pytester.runpytest_subprocess(str(folder), "-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=1, failed=1)
    out = result.stdout.str()
    assert "NO_START_WITHOUT_A_TAG PASSED" in out
    assert "the charge point sent MeterValues within 2.5 s" in out


def test_the_pytest_entry_point_imports_nothing_heavy() -> None:
    """Every pytest run where ocpp-bench is installed imports the plugin: it must not pull in
    the engine (schemas, the simulator, the CSMS, faker, asyncio) before scenarios are found."""
    import subprocess
    import sys

    heavy = ["faker", "fastjsonschema", "simulator", "csms", "asyncio", "yaml", "trustme"]
    probe = (
        f"import sys, ocpp_bench.scenario.plugin; print([m for m in {heavy!r} if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()
    assert out == "[]"
