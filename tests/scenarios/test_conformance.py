"""The conformance suite, run as the README's main job does: every scenario must pass."""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ocpp_bench.scenario.cli import default_paths

pytest_plugins = ["pytester"]

SUITE = Path(default_paths()[0])


def catalogue_ids(section_filter: str | None = None) -> set[str]:
    from ocpp_bench.scenario.report import catalogue

    return {
        c["id"] for c in catalogue() if section_filter is None or c["section"] != section_filter
    }


def test_ocpp_bench_run_passes_the_suite_against_the_embedded_csms(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    reports = tmp_path / "reports"
    result = pytester.run(
        sys.executable,
        "-m",
        "ocpp_bench.cli",
        "run",
        str(SUITE),
        "--report-dir",
        str(reports),
        timeout=300,
    )
    out = result.stdout.str()
    assert result.ret == 0, out[-6000:]
    assert "OCPP 1.6 catalogue coverage" in out
    junit = ET.parse(reports / "junit.xml").getroot()
    cases = junit.findall(".//testcase")
    assert len(cases) >= 62
    assert not junit.findall(".//failure") and not junit.findall(".//error")
    passed = {case.get("name") for case in cases}
    assert catalogue_ids("Security") <= passed
    assert (reports / "summary.html").read_text().count("passed") >= 62
    assert any((reports / "allure").glob("*-result.json"))
    first = json.loads(next((reports / "allure").glob("*-result.json")).read_text())
    assert first["steps"], "each scenario step is an Allure step"
