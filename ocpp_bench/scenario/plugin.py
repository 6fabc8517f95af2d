"""pytest plugin (entry point `pytest11`): scenario files become real pytest tests.

A YAML file is collected when it lies under a folder named `scenarios` or is named on the
command line. Each scenario is one test: its id is the test name (so `-k TC_003` works) and its
tags are markers. A broken file becomes one failing test that names file, line and problem;
the other files still run. The embedded CSMS starts once per session unless `--csms-url`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .facts import facts, header
from .report import Results

if TYPE_CHECKING:  # the engine is imported once scenarios are collected: cheap for all else
    from .loader import Scenario, Step
    from .runner import Run
    from .source import ScenarioError
    from .target import Target

DEFAULTS_FILE = "defaults.yaml"  # shared settings of a folder, not scenarios

_TARGET = pytest.StashKey["Target"]()
_RESULTS = pytest.StashKey[Results]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ocpp-bench", "ocpp-bench scenarios")
    group.addoption(
        "--csms-url", help="CSMS under test, e.g. ws://host:9220/ocpp (default: ours, embedded)"
    )
    group.addoption("--csms-url-profile2", help="the CSMS's wss:// URL for security profile 2")
    group.addoption("--csms-url-profile3", help="the CSMS's wss:// URL for security profile 3")
    group.addoption(
        "--csms-driver",
        choices=["ocpp-bench", "http", "manual"],
        default="ocpp-bench",
        help="how CSMS-initiated steps are triggered",
    )
    group.addoption(
        "--operator-timeout",
        type=float,
        help="manual driver: how long the operator may take per action (default 120 s in a "
        "terminal; without a terminal or this option, cases that need the CSMS to act are not run)",
    )
    group.addoption(
        "--csms-features",
        help="features the CSMS under test declares, comma-separated (e.g. Core,Reservation) or "
        "@FILE with one per line; cases of other features are not applicable (default: all)",
    )
    group.addoption("--csms-api", help="base URL of the CSMS HTTP API (drivers ocpp-bench, http)")
    group.addoption("--csms-api-token", help="bearer token for --csms-api")
    group.addoption("--cp-password", help="Basic Auth password of charge points without one")
    group.addoption(
        "--cp-id",
        help="identity of every scenario's charge point (others: ID-<name>) instead of one "
        "made up per run, to register in the CSMS beforehand",
    )
    group.addoption(
        "--id-tags",
        help="YAML file of setup tag name -> value (tag: 04A2B3C4) used instead of values "
        "made up per run",
    )
    group.addoption("--tls-ca", help="CA bundle to trust for wss:// (security profile 2/3)")
    group.addoption("--cert", help="client certificate (security profile 3)")
    group.addoption("--key", help="client key (security profile 3)")
    group.addoption("--step-timeout", type=float, default=5.0, help="default wait of a step (s)")
    group.addoption("--scenario-report", help="write the HTML summary to this file")


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_RESULTS] = Results(facts(config))
    config.addinivalue_line("markers", "scenario: an ocpp-bench YAML scenario")


def pytest_sessionstart(session: pytest.Session) -> None:
    """The facts as JUnit properties of the suite, when JUnit XML is written."""
    from _pytest.junitxml import xml_key  # pytest's own; no public way to reach it

    xml = session.config.stash.get(xml_key, None)
    if xml is not None:
        for name, value in session.config.stash[_RESULTS].facts.items():
            xml.add_global_property(f"ocpp-bench.{name}", value)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix not in (".yaml", ".yml") or file_path.name == DEFAULTS_FILE:
        return None
    named = any(Path(arg).resolve() == file_path for arg in parent.config.args)
    if named or "scenarios" in file_path.parts:
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


class ScenarioFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        from .loader import load_entries
        from .source import ScenarioError

        try:
            entries = load_entries(self.path)
        except ScenarioError as exc:
            yield BrokenFile.from_parent(self, name=self.path.name, error=exc)
            return
        for scenario in entries:
            if isinstance(scenario, ScenarioError):  # the others in the file still run
                name = scenario.scenario_id or self.path.name
                yield BrokenFile.from_parent(self, name=name, error=scenario)
                continue
            item = ScenarioItem.from_parent(self, name=scenario.id, scenario=scenario)
            item.add_marker("scenario")
            for tag in scenario.tags:
                self.config.addinivalue_line("markers", f"{tag}: scenario tag")
                item.add_marker(tag)
            yield item


class BrokenFile(pytest.Item):
    """A scenario file, or one scenario in it, that cannot load: one line says why."""

    def __init__(self, *, error: ScenarioError, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.error = error

    def runtest(self) -> None:
        raise self.error

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        return str(excinfo.value)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        what = f"scenario {self.name}" if self.error.scenario_id else "scenario file"
        return self.path, (self.error.line or 1) - 1, f"broken {what} {self.path.name}"


class ScenarioItem(pytest.Item):
    def __init__(self, *, scenario: Scenario, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        self.user_properties.append(("scenario_id", scenario.id))

    def runtest(self) -> None:
        import asyncio

        from .outcomes import NotRun
        from .runner import Run

        target = _target(self.config)
        verdict = target.verdict(self.scenario)
        if verdict is not None:
            _skip(verdict)
        run = Run(
            self.scenario,
            target.driver,
            target.factory,
            timeout=self.config.getoption("step_timeout"),
            step_hook=_allure_step,
            fixed=target.fixed,
        )
        try:
            asyncio.run(run.execute())
        except NotRun as exc:
            _skip(f"not run: {exc}")
        finally:
            _allure_frames(run)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        from .outcomes import Located, ProtocolViolation

        error = excinfo.value
        if isinstance(error, ProtocolViolation):
            return f"{self.scenario.id}: {error}"
        if isinstance(error, Located):
            title = "" if self.scenario.title == self.scenario.id else f": {self.scenario.title}"
            return f"{self.scenario.id}{title}\n{error}"
        if self.config.getoption("tbstyle") == "long":
            return str(super().repr_failure(excinfo))
        return (
            f"{self.path}:{self.scenario.line}: {self.scenario.id}: the bench itself failed: "
            f"{type(error).__name__}: {error} (a bug in ocpp-bench; --tb=long shows where)"
        )

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, self.scenario.line - 1, f"{self.scenario.id}: {self.scenario.title}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if isinstance(item, ScenarioItem | BrokenFile) and (report.when == "call" or report.failed):
        # as Allure judges it: a wrong answer of the CSMS fails, anything else is broken
        broken = call.excinfo is not None and not isinstance(call.excinfo.value, AssertionError)
        item.config.stash[_RESULTS].add(item, report, broken=report.failed and broken)
    return report


def _skip(reason: str) -> None:
    try:
        import allure

        allure.dynamic.tag(reason.split(":", 1)[0])  # type: ignore[no-untyped-call]
    except ImportError:
        pass
    pytest.skip(reason)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    results = config.stash[_RESULTS]
    if not results.entries:
        return
    for reason, ids in results.not_run().items():
        terminalreporter.write_sep("-", f"not run ({len(ids)})")
        terminalreporter.write_line(reason)
        terminalreporter.write_line("  " + " ".join(ids))
    for version in results.catalogues:
        terminalreporter.write_sep("=", f"OCPP {version} catalogue coverage")
        terminalreporter.write_line(results.coverage_table(version))
    path = config.getoption("scenario_report")
    if path:
        results.write_html(Path(path))
        terminalreporter.write_line(f"scenario summary: {path}")


def pytest_collection_finish(session: pytest.Session) -> None:
    """Once scenarios are collected, say what the run tests and how it makes the CSMS act;
    with fixed identities or tags, list what to set up in the CSMS."""
    config = session.config
    if not any(isinstance(item, ScenarioItem) for item in session.items):
        return
    from . import target

    say = target.say(config)
    say("\n".join(header(config)))
    if not (config.getoption("cp_id") or config.getoption("id_tags")):
        return
    fixed = target.fixed(config)
    chargers: dict[str, str] = {}
    tags: dict[str, set[str]] = {}
    for item in session.items:
        if not isinstance(item, ScenarioItem):
            continue
        scenario = item.scenario
        for index, (name, cp) in enumerate(scenario.charge_points.items()):
            identity = cp.get("identity") or fixed.identity(name, first=index == 0)
            if identity:
                secret = f"password {cp['password']}" if cp.get("password") else "no password"
                chargers[identity] = f"{secret}, security profile {cp.get('security_profile', 1)}"
        for name, spec in {"tag": "Accepted", **scenario.setup.get("id_tags", {})}.items():
            if name in fixed.tags:
                spec = spec if isinstance(spec, dict) else {"status": spec}
                tags.setdefault(fixed.tags[name], set()).add(
                    ", ".join(f"{k} {v}" for k, v in spec.items())
                )
    lines = ["set up in the CSMS before the run:"]
    lines += [f"  charge point {identity}: {how}" for identity, how in chargers.items()]
    lines += [f"  id tag {value}: {' | '.join(sorted(how))}" for value, how in tags.items()]
    say("\n".join(lines))


def _target(config: pytest.Config) -> Target:
    from .target import Target

    if _TARGET not in config.stash:
        target = Target(config)
        config.stash[_TARGET] = target
        config.add_cleanup(target.close)
    return config.stash[_TARGET]


def _allure_step(step: Step, title: str) -> AbstractContextManager[Any]:
    try:
        import allure
    except ImportError:
        return nullcontext()
    return allure.step(title)


def _allure_frames(run: Run) -> None:
    """Attach every frame of every charge point to the scenario's Allure result."""
    try:
        import allure
    except ImportError:
        return
    for name, cp in run.charge_points.items():
        allure.attach(
            "\n".join(cp.transcript(0)),
            name=f"frames of {name}",
            attachment_type=allure.attachment_type.TEXT,
        )
