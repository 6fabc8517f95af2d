"""What a scenario run tests and with which options: for the header and the reports. Cheap to
import (the plugin needs it in every pytest run)."""

from __future__ import annotations

import pytest


def driver_name(config: pytest.Config) -> str:
    name: str = config.getoption("csms_driver")
    if config.getoption("csms_url") and not config.getoption("csms_api") and name == "ocpp-bench":
        return "none"
    return name


def facts(config: pytest.Config) -> dict[str, str]:
    """What was tested, and the options that shape the verdicts: for the reports."""
    from ocpp_bench import __version__

    url = config.getoption("csms_url")
    found = {
        "csms": url or "the embedded ocpp-bench CSMS",
        "driver": driver_name(config) if url else "ocpp-bench",
        "ocpp": "1.6",
        "ocpp-bench": __version__,
        "step timeout": f"{config.getoption('step_timeout'):g} s",
        "features": config.getoption("csms_features") or "all",
    }
    for profile in (2, 3):
        given = config.getoption(f"csms_url_profile{profile}")
        if given:
            found[f"csms profile {profile}"] = given
    if config.getoption("csms_api"):
        found["csms api"] = config.getoption("csms_api")
    if found["driver"] == "manual":
        wait = config.getoption("operator_timeout")
        found["operator timeout"] = f"{wait:g} s" if wait is not None else "120 s in a terminal"
    return found


def header(config: pytest.Config) -> list[str]:
    """What the run tests and how it makes the CSMS act: said once, before the cases."""
    url = config.getoption("csms_url")
    if url is None:
        return ["ocpp-bench: the embedded CSMS, driver ocpp-bench (every feature)"]
    driver = driver_name(config)
    lines = [f"ocpp-bench: CSMS under test {url}, driver {driver}"]
    if driver == "none":
        lines.append(
            "  no --csms-api: chargers and tags are not registered and the CSMS cannot be made "
            "to act; cases that need it are not run (give --csms-api, or --csms-driver manual)"
        )
    features = config.getoption("csms_features")
    lines.append(f"  declared features: {features or 'all (give --csms-features to narrow)'}")
    return lines
