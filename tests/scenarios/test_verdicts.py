"""Verdicts against a CSMS that is not ours: nothing passes that the CSMS did not do."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ocpp_bench.scenario.cli import default_paths
from ocpp_bench.scenario.loader import load_file
from tests.scenarios.boot_only import BootOnlyCsms

pytest_plugins = ["pytester"]

SUITE = Path(default_paths("1.6")[0])


def _cases_with_csms_steps() -> set[str]:
    return {
        scenario.id
        for path in SUITE.glob("*.yaml")
        if path.name != "defaults.yaml"
        for scenario in load_file(path)
        if any(step.kind == "csms" for step in scenario.steps)
    }


def _junit(path: Path) -> dict[str, tuple[str, str]]:
    """Each test case's verdict: passed, failed or skipped, with the message."""
    verdicts = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        outcome, message = "passed", ""
        for kind in ("failure", "error", "skipped"):
            element = case.find(kind)
            if element is not None:
                outcome, message = kind, element.get("message", "")
        verdicts[str(case.get("name"))] = (outcome, message)
    return verdicts


def test_a_boot_only_csms_passes_nothing_and_unattended_cases_are_not_run(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    reports = tmp_path / "reports"
    with BootOnlyCsms() as csms:
        result = pytester.run(
            sys.executable, "-m", "ocpp_bench.cli", "run", str(SUITE), "--csms-url", csms.url,
            "--csms-driver", "manual", "--report-dir", str(reports), timeout=300,
        )  # fmt: skip
    out = result.stdout.str()
    assert result.ret == 1, out[-4000:]
    verdicts = _junit(reports / "junit.xml")
    assert len(verdicts) == 77
    assert [name for name, (outcome, _) in verdicts.items() if outcome == "passed"] == []
    for name in _cases_with_csms_steps():
        outcome, message = verdicts[name]
        assert outcome == "skipped" and message.startswith("not run:"), (name, message)
    failed = {name for name, (outcome, _) in verdicts.items() if outcome == "failure"}
    assert "TC_001_CSMS" in failed  # StatusNotification answered NotImplemented
    # the reason and what would let the cases run, before the table; none counts as covered
    assert "the manual driver has no operator in a non-interactive run" in out
    result.stdout.re_match_lines([r"all 77\s+0\s+\d+\s+\d+\s+0\s+0$"])
    assert out.index("not run (") < out.index("OCPP 1.6 catalogue coverage")
    assert "answered with CALLERROR NotImplemented" in out
    html = (reports / "summary.html").read_text()
    assert "0 passed" in html and "not run" in html
    # the reports say what was tested
    suite = ET.parse(reports / "junit.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("name") == "ocpp-bench"
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["ocpp-bench.csms"] == csms.url
    assert properties["ocpp-bench.driver"] == "manual"
    assert properties["ocpp-bench.ocpp"] == "1.6"
    assert f"<td>{csms.url}</td>" in html


def test_without_an_api_the_default_driver_says_once_what_it_cannot_do(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    with BootOnlyCsms() as csms:
        result = pytester.run(
            sys.executable, "-m", "ocpp_bench.cli", "run", str(SUITE), "--csms-url", csms.url,
            "--report-dir", str(tmp_path / "reports"), "-k", "TC_019_2 or TC_001", timeout=120,
        )  # fmt: skip
    out = result.stdout.str()
    assert out.count("no --csms-api: chargers and tags are not registered") == 1, out
    verdicts = _junit(tmp_path / "reports" / "junit.xml")
    assert verdicts["TC_019_2_CSMS"][0] == "skipped"
    assert "give --csms-api" in verdicts["TC_019_2_CSMS"][1]
    assert verdicts["TC_001_CSMS"][0] == "failure"


def test_undeclared_features_are_not_applicable(pytester: pytest.Pytester, tmp_path: Path) -> None:
    with BootOnlyCsms() as csms:
        result = pytester.run(
            sys.executable, "-m", "ocpp_bench.cli", "run", str(SUITE), "--csms-url", csms.url,
            "--csms-features", "Core", "--report-dir", str(tmp_path / "reports"),
            "-k", "TC_046 or TC_001", timeout=120,
        )  # fmt: skip
    verdicts = _junit(tmp_path / "reports" / "junit.xml")
    outcome, message = verdicts["TC_046_CSMS"]
    assert outcome == "skipped" and message.startswith("not applicable:"), message
    assert "Reservation" in message
    result.stdout.re_match_lines([r"Reservation\s+0\s+0\s+0\s+1\s+9$"])


def test_a_refused_handshake_fails_the_case_naming_the_http_answer(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    with BootOnlyCsms(refuse=403) as csms:
        result = pytester.run(
            sys.executable, "-m", "ocpp_bench.cli", "run", str(SUITE), "--csms-url", csms.url,
            "-k", "TC_001", "--report-dir", str(tmp_path / "reports"), timeout=120,
        )  # fmt: skip
    out = result.stdout.str()
    assert "the CSMS did not let the charge point connect within 5 s: HTTP 403: Unknown" in out
    assert _junit(tmp_path / "reports" / "junit.xml")["TC_001_CSMS"][0] == "failure"


def test_an_unreachable_starting_state_is_not_run_in_one_line(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    """Our CSMS by URL with its API: a charging state it refuses to start (the tag is
    Blocked) leaves the case not run, with the cause."""
    from csms.process import CsmsProcess

    folder = pytester.mkdir("scenarios")
    (folder / "cause.yaml").write_text(
        "scenarios:\n"
        "  - id: UNREACHABLE\n"
        "    state: charging\n"
        "    setup: {id_tags: {blocked: Blocked}}\n"
        "    charge_points: {cp: {id_tag: '${blocked}'}}\n"
        "    steps: [wait: 0]\n"
    )
    with CsmsProcess(tmp_path / "csms.db", extra=["--api-token", "t"]) as csms:
        pytester.run(
            sys.executable, "-m", "ocpp_bench.cli", "run", str(folder), "--csms-url", csms.url,
            "--csms-api", csms.api, "--csms-api-token", "t",
            "--report-dir", str(tmp_path / "reports"), timeout=120,
        )  # fmt: skip
    outcome, message = _junit(tmp_path / "reports" / "junit.xml")["UNREACHABLE"]
    assert outcome == "skipped"
    assert message.startswith("not run: could not reach state charging: Authorize of the")
    assert message.endswith("answered Blocked") and "\n" not in message
