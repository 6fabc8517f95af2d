"""`ocpp-bench run`: the conformance scenarios (or any) against our CSMS or one by URL."""

from __future__ import annotations

import argparse
from importlib import resources
from pathlib import Path

from ocppj.options import add_option

SUITES = {"1.6": "ocpp16", "2.0.1": "ocpp201"}  # OCPP version -> its conformance folder


def default_paths(version: str = "all") -> list[str]:
    """The conformance suites of `version` ("all": both) under ./scenarios, else beside this
    source tree."""
    names = list(SUITES.values()) if version == "all" else [SUITES[version]]
    for root in (Path.cwd(), Path(__file__).resolve().parents[2]):
        suites = [root / "scenarios" / name for name in names]
        found = [str(suite) for suite in suites if suite.is_dir()]
        if found:
            return found
    folders = " or ".join(f"scenarios/{name}" for name in names)
    raise SystemExit(f"no {folders} folder here: name the scenario files or folders to run")


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = commands.add_parser(
        "run", help="run YAML scenarios (default: the OCPP 1.6 and 2.0.1 conformance suites)"
    )
    run.add_argument("paths", nargs="*", metavar="PATH", help="scenario files or folders")
    add_option(
        run,
        "--ocpp",
        default="all",
        choices=["all", *SUITES],
        help="which conformance suite runs when no PATH is given",
    )
    add_option(run, "--csms-url", help="CSMS under test (default: ours, embedded)")
    add_option(run, "--csms-url-profile2", help="the CSMS's wss:// URL for security profile 2")
    add_option(run, "--csms-url-profile3", help="the CSMS's wss:// URL for security profile 3")
    add_option(
        run,
        "--csms-driver",
        default="ocpp-bench",
        choices=["ocpp-bench", "http", "manual"],
        help="how CSMS-initiated steps are triggered",
    )
    add_option(
        run,
        "--operator-timeout",
        type=float,
        help="manual driver: seconds an operator may take per action (default: 120 in a "
        "terminal; else cases that need the CSMS to act are not run)",
    )
    add_option(
        run,
        "--csms-features",
        help="features the CSMS declares, e.g. Core,Reservation or @FILE (default: all); "
        "cases of other features are not applicable",
    )
    add_option(run, "--csms-api", help="base URL of the CSMS HTTP API")
    add_option(run, "--csms-api-token", help="bearer token for the API")
    add_option(run, "--cp-password", help="Basic Auth password of charge points without one")
    add_option(
        run,
        "--cp-id",
        help="identity of every scenario's charge point (others ID-<name>), not one per run",
    )
    add_option(run, "--id-tags", help="YAML file: setup tag name -> value, not one per run")
    add_option(run, "--tls-ca", help="CA bundle for wss://")
    add_option(run, "--cert", help="client certificate (profile 3)")
    add_option(run, "--key", help="client key (profile 3)")
    add_option(run, "--report-dir", default="reports", help="where the reports go")
    add_option(
        run,
        "--keep-results",
        action="store_true",
        help="add to the Allure results of earlier runs instead of emptying reports/allure",
    )
    add_option(
        run, "--step-timeout", type=float, default=5.0, help="default wait of a step, seconds"
    )
    run.add_argument("-k", dest="keyword", help="only scenarios matching this pytest -k expression")
    run.add_argument("-m", dest="markers", help="only scenarios with these tags (pytest -m)")
    run.add_argument("-x", "--exitfirst", action="store_true", help="stop at the first failure")
    run.add_argument(
        "-v",
        dest="pytest_verbose",
        action="count",
        default=0,
        help="list each scenario with its verdict (-vv: more); pytest options go after --",
    )
    run.set_defaults(run=_run)


def pytest_args(args: argparse.Namespace) -> list[str]:
    reports = Path(args.report_dir)
    settings = resources.files(__package__).joinpath("run.ini")
    argv = [
        *(args.paths or default_paths(args.ocpp)),
        "-c",
        str(settings),
        "--rootdir",
        str(Path.cwd()),
        f"--junitxml={reports / 'junit.xml'}",
        f"--alluredir={reports / 'allure'}",
        *([] if args.keep_results else ["--clean-alluredir"]),
        "--step-timeout",
        str(args.step_timeout),
        f"--scenario-report={reports / 'summary.html'}",
        "--csms-driver",
        args.csms_driver,
    ]
    for option in (
        "csms_url",
        "csms_url_profile2",
        "csms_url_profile3",
        "csms_api",
        "csms_api_token",
        "cp_password",
        "tls_ca",
        "cert",
        "key",
        "csms_features",
        "cp_id",
        "id_tags",
    ):
        value = getattr(args, option)
        if value:
            argv += [f"--{option.replace('_', '-')}", value]
    if args.keyword:
        argv += ["-k", args.keyword]
    if args.markers:
        argv += ["-m", args.markers]
    if args.operator_timeout is not None:
        argv += ["--operator-timeout", str(args.operator_timeout)]
    if args.exitfirst:
        argv.append("-x")
    if args.pytest_verbose:
        argv.append("-" + "v" * args.pytest_verbose)
    return [*argv, *getattr(args, "extra", [])]


def _run(args: argparse.Namespace) -> int:
    import pytest

    return int(pytest.main(pytest_args(args)))
