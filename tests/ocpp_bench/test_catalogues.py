"""The OCA catalogues our suites follow, as the package ships them, and coverage per catalogue."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from types import SimpleNamespace

from ocpp_bench.scenario.report import CATALOGUES, Results, catalogue, features_of_cases

# ../shared/ocpp201-csms-test-catalogue.md: the Core profile's cases per block (all, M, C)
BLOCKS_201 = {
    "A Security": (8, 8), "B Provisioning": (18, 8), "C Authorization": (11, 11),
    "E Transactions": (27, 22), "F Remote control": (15, 6), "G Availability": (10, 10),
    "J Meter values": (9, 9), "L Firmware management": (12, 10),
    "M Certificate management": (8, 8), "N Diagnostics": (11, 10), "P DataTransfer": (2, 2),
}  # fmt: skip


def test_the_1_6_catalogue_has_its_77_cases() -> None:
    assert len(catalogue("1.6")) == 77


def test_the_2_0_1_core_catalogue_has_131_cases_104_mandatory() -> None:
    cases = catalogue("2.0.1")
    assert len(cases) == 131
    assert Counter(case["requirement"] for case in cases) == {"M": 104, "C": 27}
    per_block = Counter(case["section"] for case in cases)
    mandatory = Counter(case["section"] for case in cases if case["requirement"] == "M")
    assert {block: (per_block[block], mandatory[block]) for block in per_block} == BLOCKS_201
    for case in cases:  # a conditional case names the feature that makes it apply
        assert case["feature"].startswith("C-") == (case["requirement"] == "C"), case


def test_case_ids_are_unique_across_catalogues() -> None:
    ids = [case["id"] for version in CATALOGUES for case in catalogue(version)]
    assert len(ids) == len(set(ids)) == 77 + 131


def test_mandatory_2_0_1_cases_need_no_declared_feature() -> None:
    features = features_of_cases()
    assert "TC_B_01_CSMS" not in features  # mandatory: runs whatever is declared
    assert features["TC_B_25_CSMS"] == "C-13"  # per-EVSE reset
    assert features["TC_001_CSMS"] == "Core"  # 1.6: its feature profile


def _result(case_id: str, outcome: str) -> tuple[SimpleNamespace, SimpleNamespace]:
    scenario = SimpleNamespace(id=case_id, title=case_id, line=1)
    item = SimpleNamespace(scenario=scenario, path=Path("x.yaml"), name=case_id)
    report = SimpleNamespace(skipped=False, outcome=outcome, failed=outcome == "failed",
                             longreprtext="", duration=0.1)  # fmt: skip
    return item, report


def test_coverage_is_shown_for_each_catalogue_the_run_has_cases_of() -> None:
    results = Results()
    results.add(*_result("TC_B_01_CSMS", "passed"))
    assert results.catalogues == ["2.0.1"]
    table = results.coverage_table("2.0.1")
    assert "all 131" in table
    assert results.counts("2.0.1")["passed"] == 1
    results.add(*_result("TC_001_CSMS", "failed"))
    assert results.catalogues == ["1.6", "2.0.1"]
    assert results.counts("1.6")["failed"] == 1
    page = results.html()
    assert "OCPP 1.6 catalogue coverage" in page and "OCPP 2.0.1 catalogue coverage" in page
