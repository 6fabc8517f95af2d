"""Mutation testing of the conformance bench: every case about a broken behaviour fails."""

from __future__ import annotations

import pytest

from tests.scenarios.mutants import MUTANTS, Mutant, suite, verdicts

SUITE = suite()
SECTIONS = {
    "Core", "Local authorization list", "Firmware management", "Reservation",
    "Remote trigger", "Smart charging", "Security",
}  # fmt: skip
SECTIONS_201 = {
    "B Provisioning", "C Authorization", "E Transactions", "F Remote control",
    "L Firmware management", "N Diagnostics",
}  # fmt: skip


def test_the_mutants_break_every_catalogue_section() -> None:
    from ocpp_bench.scenario.report import catalogue

    section = {case["id"]: case["section"] for case in catalogue()}
    section_201 = {case["id"]: case["section"] for case in catalogue("2.0.1")}
    assert len(MUTANTS) >= 25
    assert len({m.name for m in MUTANTS}) == len(MUTANTS)
    cases = {case for mutant in MUTANTS for case in mutant.cases}
    assert {section[case] for case in cases if case in section} == SECTIONS
    assert {section_201[case] for case in cases if case in section_201} >= SECTIONS_201
    assert cases <= set(section) | set(section_201)


@pytest.mark.slow
@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_every_case_about_the_fault_fails_against_the_mutant(mutant: Mutant) -> None:
    results = verdicts(mutant, [SUITE[case] for case in mutant.cases])
    survived = [case for case, failure in results.items() if failure is None]
    assert not survived, f"{mutant.fault}: {survived} passed against the mutant"


@pytest.mark.slow
def test_the_same_cases_pass_against_our_csms_unmutated() -> None:
    cases = sorted({case for mutant in MUTANTS for case in mutant.cases})
    results = verdicts(None, [SUITE[case] for case in cases])
    assert {case: failure for case, failure in results.items() if failure} == {}
