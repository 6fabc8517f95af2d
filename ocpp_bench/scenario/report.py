"""Scenario results: the catalogue coverage table and a self-contained HTML summary."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any


@dataclass
class Entry:
    scenario_id: str
    title: str
    location: str
    outcome: str  # passed | failed | broken | not run | not applicable | skipped
    duration: float
    detail: str


VERDICTS = ("passed", "failed", "broken", "not run", "not applicable")
STATES = ("passed", "failed", "not run", "not applicable", "not covered")  # of a case


def verdict(report: Any) -> tuple[str, str]:
    """A report's verdict and its detail: a skip says "not run: ..." or "not applicable: ..."."""
    if not report.skipped:
        return report.outcome, report.longreprtext if report.failed else ""
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    reason = reason.removeprefix("Skipped: ")
    for kind in ("not run", "not applicable"):
        if reason.startswith(kind + ":"):
            return kind, reason[len(kind) + 1 :].strip()
    return "skipped", reason


def _relative(path: Path) -> Path:
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


# The OCA catalogues of CSMS test cases, by OCPP version. A case: id, name, section, feature
# (1.6: its feature profile; 2.0.1: the C-nn feature a conditional case needs, "" if mandatory).
CATALOGUES = {"1.6": "catalogue_ocpp16.json", "2.0.1": "catalogue_ocpp201.json"}


@cache
def _load(version: str) -> tuple[dict[str, str], ...]:
    text = resources.files(__package__).joinpath(CATALOGUES[version]).read_text("utf-8")
    return tuple(json.loads(text))


def catalogue(version: str = "1.6") -> list[dict[str, str]]:
    """The cases of OCPP `version`'s catalogue."""
    return list(_load(version))


def features_of_cases() -> dict[str, str]:
    """Every catalogue case that needs a declared feature -> that feature."""
    return {
        case["id"]: case["feature"]
        for version in CATALOGUES
        for case in _load(version)
        if case["feature"]
    }


class Results:
    def __init__(self, facts: dict[str, str] | None = None) -> None:
        self.entries: list[Entry] = []
        self.facts = facts or {}  # what was tested: CSMS, driver, versions, options

    def add(self, item: Any, report: Any, broken: bool = False) -> None:
        scenario = getattr(item, "scenario", None)
        outcome, detail = verdict(report)
        if broken:
            outcome = "broken"
        self.entries.append(
            Entry(
                scenario_id=scenario.id if scenario else item.name,
                title=scenario.title if scenario else "broken scenario",
                location=f"{_relative(item.path)}:{scenario.line if scenario else ''}",
                outcome=outcome,
                duration=report.duration,
                detail=detail,
            )
        )

    def uses_catalogue(self, version: str = "1.6") -> bool:
        """Whether any scenario of the run is a case of `version`'s catalogue (else no
        coverage of it to show)."""
        ids = {case["id"] for case in catalogue(version)}
        return any(entry.scenario_id in ids for entry in self.entries)

    @property
    def catalogues(self) -> list[str]:
        """The versions whose catalogues the run has cases of."""
        return [version for version in CATALOGUES if self.uses_catalogue(version)]

    def not_run(self) -> dict[str, list[str]]:
        """Cases that could not run, by reason (what would let them run: the detail up to
        its first ";", which goes on to say what the case needs)."""
        by_reason: dict[str, list[str]] = {}
        for entry in self.entries:
            if entry.outcome == "not run":
                reason = entry.detail.split(";", 1)[0]
                by_reason.setdefault(reason, []).append(entry.scenario_id)
        return by_reason

    def coverage(self, version: str = "1.6") -> list[tuple[dict[str, str], str]]:
        """Each case of `version`'s catalogue with its state: only a real pass covers a case;
        one failure fails it; otherwise not run / not applicable / not covered."""
        by_id: dict[str, set[str]] = {}
        for entry in self.entries:
            by_id.setdefault(entry.scenario_id, set()).add(entry.outcome)
        rows = []
        for case in catalogue(version):
            outcomes = by_id.get(case["id"], set())
            if "broken" in outcomes:
                outcomes.add("failed")
            state = "not covered"
            for candidate in ("failed", "not run", "not applicable", "passed"):
                if candidate in outcomes:
                    state = candidate
                    break
            if state == "passed" and outcomes != {"passed"}:
                state = "not run"  # passed in part only
            rows.append((case, state))
        return rows

    def counts(self, version: str = "1.6") -> dict[str, int]:
        counts = dict.fromkeys(STATES, 0)
        for _, state in self.coverage(version):
            counts[state] += 1
        return counts

    def coverage_table(self, version: str = "1.6") -> str:
        rows = self.coverage(version)
        sections: dict[str, dict[str, int]] = {}
        for case, state in rows:
            sections.setdefault(case["section"], dict.fromkeys(STATES, 0))[state] += 1
        sections[f"all {len(rows)}"] = self.counts(version)
        width = max(len(name) for name in sections)
        lines = [f"{'section':<{width}}  " + "  ".join(STATES)]
        for name, c in sections.items():
            cells = "  ".join(f"{c[state]:>{len(state)}}" for state in STATES)
            lines.append(f"{name:<{width}}  {cells}")
        for state in ("failed", "not run", "not applicable", "not covered"):
            ids = [case["id"] for case, s in rows if s == state]
            if ids:
                lines.append(f"{state}: " + " ".join(ids))
        return "\n".join(lines)

    def write_html(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.html(), encoding="utf-8")

    def _by_section_html(self, version: str) -> str:
        sections: dict[str, dict[str, int]] = {}
        for case, state in self.coverage(version):
            sections.setdefault(case["section"], dict.fromkeys(STATES, 0))[state] += 1
        sections["all"] = self.counts(version)
        rows = "".join(
            f"<tr><td>{html.escape(name)}</td>"
            + "".join(f"<td>{c[s]}</td>" for s in STATES)
            + "</tr>"
            for name, c in sections.items()
        )
        heads = "".join(f"<th>{s}</th>" for s in STATES)
        return (
            f"<h2>OCPP {version} catalogue by section</h2>"
            f"<table><tr><th>section</th>{heads}</tr>{rows}</table>"
        )

    def _coverage_html(self, version: str) -> str:
        e = html.escape
        rows = "".join(
            f"<tr class='{_css(state)}'><td>{e(case['id'])}</td>"
            f"<td>{e(case['name'])}</td><td>{e(case['section'])}</td>"
            f"<td>{e(case.get('condition', case['feature']) or 'mandatory')}</td>"
            f"<td>{state}</td></tr>"
            for case, state in self.coverage(version)
        )
        return (
            f"<h2>OCPP {version} catalogue coverage</h2><table><tr><th>id</th><th>name</th>"
            f"<th>section</th><th>feature</th><th>result</th></tr>{rows}</table>"
        )

    def html(self) -> str:
        e = html.escape
        tally = {kind: sum(1 for x in self.entries if x.outcome == kind) for kind in VERDICTS}
        rows = "".join(
            f"<tr class='{_css(x.outcome)}'><td>{e(x.scenario_id)}</td><td>{e(x.title)}</td>"
            f"<td>{x.outcome}</td><td>{x.duration:.2f} s</td><td>{e(x.location)}</td></tr>"
            for x in self.entries
        )
        failures = "".join(
            f"<h3>{e(x.scenario_id)}: {e(x.title)} ({x.outcome})</h3>{_collapsed(x.detail)}"
            for x in self.entries
            if x.outcome in ("failed", "broken")
        )
        unrun = "".join(
            f"<tr class='{_css(x.outcome)}'><td>{e(x.scenario_id)}</td><td>{x.outcome}</td>"
            f"<td>{e(x.detail)}</td></tr>"
            for x in self.entries
            if x.outcome in ("not run", "not applicable", "skipped")
        )
        catalogue_part = "".join(self._by_section_html(v) for v in self.catalogues) or (
            "<p>No case of an OCPP catalogue in this run.</p>"
        )
        coverage_part = "".join(self._coverage_html(v) for v in self.catalogues)
        summary = ", ".join(f"{tally[kind]} {kind}" for kind in VERDICTS)
        tested = "".join(
            f"<tr><th>{e(name)}</th><td>{e(value)}</td></tr>" for name, value in self.facts.items()
        )
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ocpp-bench scenario report</title>
<style>
body {{ font: 14px system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin-bottom: 2em; }}
td, th {{ border: 1px solid #ccc; padding: 4px 8px; text-align: left; }}
tr.passed td:nth-child(3), tr.passed td:nth-child(4) {{ color: #17692b; }}
tr.failed td {{ background: #fde8e8; }}
tr.not-run td, tr.not-applicable td {{ background: #fff6dd; }}
tr.not-covered td {{ color: #888; }}
pre {{ background: #f6f6f6; padding: 1em; white-space: pre-wrap; overflow-wrap: anywhere; }}
</style></head><body>
<h1>ocpp-bench scenario report</h1>
<p>{stamp}: {summary} of {len(self.entries)} scenarios. Only a pass covers a catalogue case.</p>
<table>{tested}</table>
{catalogue_part}
<h2>Scenarios</h2>
<table><tr><th>id</th><th>title</th><th>result</th><th>duration</th><th>file</th></tr>{rows}</table>
<h2>Failures</h2>{failures or "<p>none</p>"}
<h2>Not run and not applicable</h2>
<table><tr><th>id</th><th>verdict</th><th>why, and what would let it run</th></tr>{unrun}</table>
{coverage_part}
</body></html>
"""


def _collapsed(detail: str) -> str:
    """A failure's first lines in view, the rest (frames, tracebacks) folded."""
    lines = detail.splitlines()
    head, rest = "\n".join(lines[:6]), "\n".join(lines[6:])
    if not rest:
        return f"<pre>{html.escape(head)}</pre>"
    return (
        f"<pre>{html.escape(head)}</pre><details><summary>{len(lines) - 6} more lines "
        f"(frames, traceback)</summary><pre>{html.escape(rest)}</pre></details>"
    )


def _css(state: str) -> str:
    return state.replace(" ", "-")
