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
