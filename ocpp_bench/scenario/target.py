"""The target of a scenario run: where charge points connect, how the CSMS is made to act, and
which verdicts a case can have there. The plugin imports it only once scenarios run."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from simulator import Endpoints

from .charge_point import charge_point_factory
from .drivers import (
    CsmsDriver,
    EmbeddedCsms,
    EmbeddedDriver,
    HttpDriver,
    ManualDriver,
    NoDriver,
    Operator,
)
from .facts import driver_name
from .loader import Scenario
from .needs import needs
from .report import features_of_cases
from .runner import Fixed


class Target:
    """Where scenarios connect and how they make the CSMS act."""

    def __init__(self, config: pytest.Config) -> None:
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
        self.endpoints = endpoints
        self.fixed = fixed(config)
        self.driver = driver(config, self.embedded)
        self.features = features(config) if self.embedded is None else None
        self.feature_of = features_of_cases()
        self.factory = charge_point_factory(endpoints, config.getoption("cp_password"))

    def verdict(self, scenario: Scenario) -> str | None:
        """ "not applicable: ..." or "not run: ..." when the case cannot count here."""
        need = needs(scenario, self.feature_of)
        if self.features is not None:
            missing = [f for f in need.features if f not in self.features]
            if missing:
                return (
                    f"not applicable: the CSMS does not declare {', '.join(missing)} "
                    "(--csms-features)"
                )
        unable = self.driver.unable()
        if unable is not None and need.csms_acts:
            return f"not run: {unable}; the case needs the CSMS to {need.acts()}"
        for profile in sorted(need.profiles - set(self.endpoints.urls)):
            return (
                f"not run: no URL for security profile {profile} (give --csms-url-profile"
                f"{profile} and --tls-ca); the case connects with it"
            )
        return None

    def close(self) -> None:
        if self.embedded is not None:
            self.embedded.stop()


def driver(config: pytest.Config, embedded: EmbeddedCsms | None) -> CsmsDriver:
    name = driver_name(config)
    if name == "manual":
        interactive = sys.__stdin__ is not None and sys.__stdin__.isatty()
        operator = Operator(say(config), interactive)
        return ManualDriver(operator, config.getoption("operator_timeout"))
    if name == "none":
        return NoDriver()
    api = config.getoption("csms_api")
    if api:
        return HttpDriver(api, config.getoption("csms_api_token"), name)
    if embedded is not None and name == "ocpp-bench":
        return EmbeddedDriver(embedded)
    raise pytest.UsageError(f"driver {name} needs --csms-api (the base URL of the CSMS's API)")


def fixed(config: pytest.Config) -> Fixed:
    path = config.getoption("id_tags")
    tags: dict[str, str] = {}
    if path:
        import yaml

        try:
            loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise pytest.UsageError(f"--id-tags {path}: {exc}") from exc
        if not isinstance(loaded, dict):
            raise pytest.UsageError(f"--id-tags {path}: a mapping of tag name -> value")
        tags = {str(name): str(value) for name, value in loaded.items()}
    return Fixed(config.getoption("cp_id"), tags)


def features(config: pytest.Config) -> set[str] | None:
    given: str | None = config.getoption("csms_features")
    if not given:
        return None
    if given.startswith("@"):
        try:
            given = Path(given[1:]).read_text(encoding="utf-8").replace("\n", ",")
        except OSError as exc:
            raise pytest.UsageError(f"--csms-features {given}: {exc.strerror}") from exc
    return {item.strip() for item in given.split(",") if item.strip()}


def say(config: pytest.Config) -> Any:
    """Print to the terminal past pytest's output capture (for the operator)."""
    capture = config.pluginmanager.getplugin("capturemanager")

    def say(text: str) -> None:
        if capture is None:
            print(text, flush=True)
            return
        with capture.global_and_fixture_disabled():
            print(text, flush=True)

    return say
