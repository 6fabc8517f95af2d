"""Scenario results: the catalogue coverage table and a self-contained HTML summary."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any


@dataclass
class Entry:
    scenario_id: str
    title: str
    location: str
    outcome: str  # passed | failed | skipped
    duration: float
    detail: str


def _relative(path: Path) -> Path:
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


def catalogue() -> list[dict[str, str]]:
    text = resources.files(__package__).joinpath("catalogue_ocpp16.json").read_text("utf-8")
    entries: list[dict[str, str]] = json.loads(text)
    return entries


class Results:
    def __init__(self) -> None:
        self.entries: list[Entry] = []

    def add(self, item: Any, report: Any) -> None:
        scenario = getattr(item, "scenario", None)
        self.entries.append(
            Entry(
                scenario_id=scenario.id if scenario else item.name,
                title=scenario.title if scenario else "broken scenario file",
                location=f"{_relative(item.path)}:{scenario.line if scenario else ''}",
                outcome=report.outcome,
                duration=report.duration,
                detail=report.longreprtext if report.failed else "",
            )
        )

    def coverage(self) -> list[tuple[dict[str, str], str]]:
        """Each catalogue case with passed / failed / not covered."""
        by_id: dict[str, list[str]] = {}
        for entry in self.entries:
            by_id.setdefault(entry.scenario_id, []).append(entry.outcome)
        rows = []
        for case in catalogue():
            outcomes = by_id.get(case["id"])
            if not outcomes:
                state = "not covered"
            elif all(o == "passed" for o in outcomes):
                state = "passed"
            else:
                state = "failed"
            rows.append((case, state))
        return rows

    def counts(self) -> dict[str, int]:
        counts = {"passed": 0, "failed": 0, "not covered": 0}
        for _, state in self.coverage():
            counts[state] += 1
        return counts

    def coverage_table(self) -> str:
        rows = self.coverage()
        sections: dict[str, dict[str, int]] = {}
        for case, state in rows:
            section = sections.setdefault(
                case["section"], {"passed": 0, "failed": 0, "not covered": 0}
            )
            section[state] += 1
        width = max(len(name) for name in sections)
        lines = [f"{'section':<{width}}  passed  failed  not covered"]
        for name, c in sections.items():
            lines.append(
                f"{name:<{width}}  {c['passed']:>6}  {c['failed']:>6}  {c['not covered']:>11}"
            )
        total = self.counts()
        lines.append(
            f"{'all ' + str(len(rows)):<{width}}  {total['passed']:>6}  {total['failed']:>6}  "
            f"{total['not covered']:>11}"
        )
        failed = [case["id"] for case, state in rows if state == "failed"]
        missing = [case["id"] for case, state in rows if state == "not covered"]
        if failed:
            lines.append("failed: " + " ".join(failed))
        if missing:
            lines.append("not covered: " + " ".join(missing))
        return "\n".join(lines)

    def write_html(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.html(), encoding="utf-8")

    def html(self) -> str:
        e = html.escape
        passed = sum(1 for x in self.entries if x.outcome == "passed")
        failed = sum(1 for x in self.entries if x.outcome == "failed")
        rows = "".join(
            f"<tr class='{x.outcome}'><td>{e(x.scenario_id)}</td><td>{e(x.title)}</td>"
            f"<td>{x.outcome}</td><td>{x.duration:.2f} s</td><td>{e(x.location)}</td></tr>"
            for x in self.entries
        )
        failures = "".join(
            f"<h3>{e(x.scenario_id)}: {e(x.title)}</h3><pre>{e(x.detail)}</pre>"
            for x in self.entries
            if x.outcome == "failed"
        )
        coverage = "".join(
            f"<tr class='{state.replace(' ', '-')}'><td>{e(case['id'])}</td>"
            f"<td>{e(case['name'])}</td><td>{e(case['section'])}</td><td>{state}</td></tr>"
            for case, state in self.coverage()
        )
        counts = self.counts()
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ocpp-bench scenario report</title>
<style>
body {{ font: 14px system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin-bottom: 2em; }}
td, th {{ border: 1px solid #ccc; padding: 4px 8px; text-align: left; }}
tr.passed td:nth-child(3), tr.passed td:nth-child(4) {{ color: #17692b; }}
tr.failed td {{ background: #fde8e8; }}
tr.not-covered td {{ color: #888; }}
pre {{ background: #f6f6f6; padding: 1em; overflow-x: auto; }}
</style></head><body>
<h1>ocpp-bench scenario report</h1>
<p>{stamp}: {passed} passed, {failed} failed of {len(self.entries)} scenarios.
Catalogue: {counts["passed"]} passed, {counts["failed"]} failed, {counts["not covered"]} not covered
of {sum(counts.values())}.</p>
<h2>Scenarios</h2>
<table><tr><th>id</th><th>title</th><th>result</th><th>duration</th><th>file</th></tr>{rows}</table>
<h2>Failures</h2>{failures or "<p>none</p>"}
<h2>OCPP 1.6 catalogue coverage</h2>
<table><tr><th>id</th><th>name</th><th>section</th><th>result</th></tr>{coverage}</table>
</body></html>
"""
