"""Mutation score of the conformance suites: the whole OCPP 1.6 and 2.0.1 suites against each
mutant of our CSMS (tests/scenarios/mutants.py), one at a time.

    python scripts/mutation_score.py [--out reports/mutation.md]

A mutant is caught when every case about its fault fails; the table also lists the other cases
that failed against it. The unmutated CSMS must pass every case first.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.scenarios.mutants import MUTANTS, suite, verdicts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="reports/mutation.md")
    args = parser.parse_args()
    cases = list(suite().values())
    started = time.monotonic()
    control = [case for case, failure in verdicts(None, cases).items() if failure]
    if control:
        print(f"the unmutated CSMS fails {control}: no score", file=sys.stderr)
        return 1
    rows, caught = [], 0
    for mutant in MUTANTS:
        failed = {case for case, failure in verdicts(mutant, cases).items() if failure}
        missed = [case for case in mutant.cases if case not in failed]
        caught += not missed
        others = sorted(failed - set(mutant.cases))
        verdict = "caught" if not missed else "survived: " + " ".join(missed)
        rows.append(
            f"| {mutant.name} | {mutant.fault} | {len(mutant.cases)} | {len(failed)} | "
            f"{verdict} | {' '.join(others) or '-'} |"
        )
        print(f"{mutant.name}: {verdict}, {len(failed)} cases failed", flush=True)
    seconds = time.monotonic() - started
    versions = [case.ocpp for case in cases]
    sizes = ", ".join(f"{versions.count(v)} of OCPP {v}" for v in sorted(set(versions)))
    score = f"{caught}/{len(MUTANTS)} ({100 * caught / len(MUTANTS):.0f}%)"
    text = "\n".join(
        [
            "# Mutation score of the OCPP 1.6 and 2.0.1 conformance suites",
            "",
            f"{score} mutants caught; the suites' {len(cases)} cases ({sizes}) ran against "
            f"each mutant and once unmutated (all passed), in {seconds:.0f} s.",
            "",
            "| mutant | fault | cases about it | cases failed | verdict | other cases failed |",
            "|---|---|---:|---:|---|---|",
            *rows,
            "",
        ]
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(f"mutation score {score}; table in {out}")
    return 0 if caught == len(MUTANTS) else 1


if __name__ == "__main__":
    sys.exit(main())
