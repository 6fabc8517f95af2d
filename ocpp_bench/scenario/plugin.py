"""pytest plugin (entry point `pytest11`): scenario files become real pytest tests.

A YAML file is collected when it lies under a folder named `scenarios` or is named on the
command line. Each scenario is one test: its id is the test name (so `-k TC_003` works) and its
tags are markers. A broken file becomes one failing test that names file, line and problem;
the other files still run. The embedded CSMS starts once per session unless `--csms-url`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import pytest

from .drivers import CsmsDriver, EmbeddedCsms, EmbeddedDriver, HttpDriver, ManualDriver
from .loader import DEFAULTS_FILE, Scenario, ScenarioError, Step, load_file
from .report import Results
from .runner import Run, SchemaViolation, StepError

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
    group.addoption("--csms-api", help="base URL of the CSMS HTTP API (drivers ocpp-bench, http)")
    group.addoption("--csms-api-token", help="bearer token for --csms-api")
    group.addoption("--cp-password", help="Basic Auth password of charge points without one")
    group.addoption("--tls-ca", help="CA bundle to trust for wss:// (security profile 2/3)")
    group.addoption("--cert", help="client certificate (security profile 3)")
    group.addoption("--key", help="client key (security profile 3)")
    group.addoption("--step-timeout", type=float, default=5.0, help="default wait of a step (s)")
    group.addoption("--scenario-report", help="write the HTML summary to this file")


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_RESULTS] = Results()
    config.addinivalue_line("markers", "scenario: an ocpp-bench YAML scenario")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix not in (".yaml", ".yml") or file_path.name == DEFAULTS_FILE:
        return None
    named = any(Path(arg).resolve() == file_path for arg in parent.config.args)
    if named or "scenarios" in file_path.parts:
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


class ScenarioFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        try:
            scenarios = load_file(self.path)
        except ScenarioError as exc:
            yield BrokenFile.from_parent(self, name=self.path.name, error=exc)
            return
        for scenario in scenarios:
            item = ScenarioItem.from_parent(self, name=scenario.id, scenario=scenario)
            item.add_marker("scenario")
            for tag in scenario.tags:
                self.config.addinivalue_line("markers", f"{tag}: scenario tag")
                item.add_marker(tag)
            yield item


class BrokenFile(pytest.Item):
    def __init__(self, *, error: ScenarioError, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.error = error

    def runtest(self) -> None:
        raise self.error

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        return str(excinfo.value)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, (self.error.line or 1) - 1, f"broken scenario file {self.path.name}"


class ScenarioItem(pytest.Item):
    def __init__(self, *, scenario: Scenario, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        self.user_properties.append(("scenario_id", scenario.id))

    def runtest(self) -> None:
        target = _target(self.config)
        run = Run(
            self.scenario,
            target.driver,
            target.factory,
            timeout=self.config.getoption("step_timeout"),
            step_hook=_allure_step,
        )
        try:
            asyncio.run(run.execute())
        finally:
            _allure_frames(run)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, SchemaViolation):
            return f"{self.scenario.id}: {excinfo.value}"
        if isinstance(excinfo.value, StepError):
            return f"{self.scenario.id}: {self.scenario.title}\n{excinfo.value}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, self.scenario.line - 1, f"{self.scenario.id}: {self.scenario.title}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if isinstance(item, ScenarioItem | BrokenFile) and (report.when == "call" or report.failed):
        item.config.stash[_RESULTS].add(item, report)
    return report


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    results = config.stash[_RESULTS]
    if not results.entries:
        return
    terminalreporter.write_sep("=", "OCPP 1.6 catalogue coverage")
    terminalreporter.write_line(results.coverage_table())
    path = config.getoption("scenario_report")
    if path:
        results.write_html(Path(path))
        terminalreporter.write_line(f"scenario summary: {path}")


class Target:
    """Where scenarios connect and how they make the CSMS act."""

    def __init__(self, config: pytest.Config) -> None:
        from .charge_point import Endpoints, charge_point_factory

        self.embedded: EmbeddedCsms | None = None
        url = config.getoption("csms_url")
        if url is None:
            self.embedded = EmbeddedCsms()
            endpoints = Endpoints(
                self.embedded.start(),
                tls_ca=self.embedded.ca_file,
                client_cert=self.embedded.client_cert,
            )
        else:
            urls = {1: url}
            for profile in (2, 3):
                given = config.getoption(f"csms_url_profile{profile}")
                if given:
                    urls[profile] = given
            endpoints = Endpoints(
                urls,
                tls_ca=config.getoption("tls_ca"),
                cert=config.getoption("cert"),
                key=config.getoption("key"),
            )
        self.driver = _driver(config, self.embedded)
        self.factory = charge_point_factory(endpoints, config.getoption("cp_password"))

    def close(self) -> None:
        if self.embedded is not None:
            self.embedded.stop()


def _driver(config: pytest.Config, embedded: EmbeddedCsms | None) -> CsmsDriver:
    name = config.getoption("csms_driver")
    if name == "manual":
        return ManualDriver()
    api = config.getoption("csms_api")
    if api:
        return HttpDriver(api, config.getoption("csms_api_token"), name)
    if embedded is not None and name == "ocpp-bench":
        return EmbeddedDriver(embedded)
    raise pytest.UsageError(
        f"driver {name} against {config.getoption('csms_url')} needs --csms-api"
    )


def _target(config: pytest.Config) -> Target:
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
