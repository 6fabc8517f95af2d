"""The conformance suite, run as the README's main job does: every scenario must pass."""

from __future__ import annotations

import json
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest
import trustme

from csms.process import CsmsProcess
from ocpp_bench.scenario.cli import default_paths
from ocpp_bench.scenario.report import catalogue

pytest_plugins = ["pytester"]

SUITE = Path(default_paths("1.6")[0])


def catalogue_ids() -> set[str]:
    return {c["id"] for c in catalogue()}


def test_ocpp_bench_run_passes_the_suite_against_the_embedded_csms(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    reports = tmp_path / "reports"
    result = pytester.run(
        sys.executable,
        "-m",
        "ocpp_bench.cli",
        "run",
        str(SUITE),
        "--report-dir",
        str(reports),
        timeout=300,
    )
    out = result.stdout.str()
    assert result.ret == 0, out[-6000:]
    assert "OCPP 1.6 catalogue coverage" in out
    junit = ET.parse(reports / "junit.xml").getroot()
    cases = junit.findall(".//testcase")
    assert len(cases) >= 77
    assert not junit.findall(".//failure") and not junit.findall(".//error")
    passed = {case.get("name") for case in cases}
    assert catalogue_ids() <= passed  # every catalogue case
    result.stdout.re_match_lines([r"all 77\s+77\s+0\s+0\s+0\s+0$"])
    assert (reports / "summary.html").read_text().count("passed") >= 77
    assert any((reports / "allure").glob("*-result.json"))
    first = json.loads(next((reports / "allure").glob("*-result.json")).read_text())
    assert first["steps"], "each scenario step is an Allure step"
    assert any(a["name"] == "frames of cp" for a in first["attachments"]), "frames attached"


def test_ocpp_bench_run_runs_both_suites_unless_told_one() -> None:
    assert [Path(p).name for p in default_paths()] == ["ocpp16", "ocpp201"]
    assert [Path(p).name for p in default_paths("2.0.1")] == ["ocpp201"]


def test_the_2_0_1_suite_passes_against_the_embedded_csms(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    reports = tmp_path / "reports"
    result = pytester.run(
        sys.executable, "-m", "ocpp_bench.cli", "run", "--ocpp", "2.0.1",
        "--report-dir", str(reports), timeout=300,
    )  # fmt: skip
    out = result.stdout.str()
    assert result.ret == 0, out[-6000:]
    assert "OCPP 2.0.1 catalogue coverage" in out and "OCPP 1.6 catalogue" not in out
    junit = ET.parse(reports / "junit.xml").getroot()
    names = {case.get("name") for case in junit.findall(".//testcase")}
    assert not junit.findall(".//failure") and not junit.findall(".//error")
    ids_201 = {case["id"] for case in catalogue("2.0.1")}
    assert names and names <= ids_201  # every scenario of the folder is a catalogue case
    passed = re.search(r"all 131\s+(\d+)\s+0\s+0\s+0\s+(\d+)$", out, re.MULTILINE)
    assert passed and int(passed.group(1)) == len(names), out[-3000:]


def test_the_example_scenarios_pass(pytester: pytest.Pytester) -> None:
    examples = SUITE.parent / "examples"
    result = pytester.run(
        sys.executable,
        "-m",
        "ocpp_bench.cli",
        "run",
        str(examples),
        "--report-dir",
        str(pytester.path / "reports"),
        timeout=120,
    )
    assert result.ret == 0, result.stdout.str()[-4000:]
    result.stdout.fnmatch_lines(["*6 passed*"])


@pytest.mark.slow
def test_both_suites_pass_against_a_separate_csms_process_by_url_with_tls(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    """Our CSMS as any third-party CSMS would be: a process, OCPP URLs for security
    profiles 1 to 3 (2 and 3 over TLS), an HTTP API; one client certificate for the
    profile-3 charge point; the OCPP 1.6 and 2.0.1 suites."""
    ca = trustme.CA()
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(
        str(tmp_path / "csms.pem")
    )
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    ca.private_key_pem.write_to_path(str(tmp_path / "ca.key"))
    client = ca.issue_cert("cp-mtls.chargers.invalid", common_name="CP-MTLS-EXT")
    client.cert_chain_pems[0].write_to_path(str(tmp_path / "cp.pem"))
    client.private_key_pem.write_to_path(str(tmp_path / "cp.key"))
    extra = [
        "--api-token", "t0ken", "--boot-retry-interval", "3", "--tls-port", "0",
        "--mtls-port", "0", "--tls-cert", str(tmp_path / "csms.pem"),
        "--tls-client-ca", str(tmp_path / "ca.pem"), "--cp-ca-cert", str(tmp_path / "ca.pem"),
        "--cp-ca-key", str(tmp_path / "ca.key"),
    ]  # fmt: skip
    with CsmsProcess(tmp_path / "s.db", auto_register=False, extra=extra) as csms:
        assert set(csms.profile_urls) == {2, 3}, csms.profile_urls
        reports = tmp_path / "reports"
        result = pytester.run(
            sys.executable, "-m", "ocpp_bench.cli", "run",
            "--csms-url", csms.url, "--csms-api", csms.api,
            "--csms-url-profile2", csms.profile_urls[2],
            "--csms-url-profile3", csms.profile_urls[3],
            "--tls-ca", str(tmp_path / "ca.pem"), "--cert", str(tmp_path / "cp.pem"),
            "--key", str(tmp_path / "cp.key"), "--csms-api-token", "t0ken",
            "--report-dir", str(reports),
            timeout=600,
        )  # fmt: skip
        assert result.ret == 0, result.stdout.str()[-6000:]
        junit = ET.parse(reports / "junit.xml").getroot()
        names = {case.get("name") for case in junit.findall(".//testcase")}
        assert catalogue_ids() | {c["id"] for c in catalogue("2.0.1")} <= names
        assert not junit.findall(".//failure") and not junit.findall(".//error")
        assert not junit.findall(".//skipped"), "every case ran"


def test_the_2_0_1_registry_and_network_cases_pass_over_the_http_api(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    """Blocks A and B cases that set the CSMS up: a charger registered Pending and then
    accepted (POST and PATCH /api/chargers), another Basic Auth username, TLS 1.1 offered,
    a security profile raised by SetNetworkProfile; our CSMS as a separate process."""
    ca = trustme.CA()
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(
        str(tmp_path / "csms.pem")
    )
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    extra = [
        "--api-token", "t0ken", "--boot-retry-interval", "3", "--tls-port", "0",
        "--tls-cert", str(tmp_path / "csms.pem"),
    ]  # fmt: skip
    cases = "A_02 or A_06 or A_19 or B_02 or B_30 or B_31 or B_42 or B_44"
    with CsmsProcess(tmp_path / "s.db", auto_register=False, extra=extra) as csms:
        result = pytester.run(
            sys.executable, "-m", "ocpp_bench.cli", "run", "--ocpp", "2.0.1", "-k", cases,
            "--csms-url", csms.url, "--csms-api", csms.api, "--csms-api-token", "t0ken",
            "--csms-url-profile2", csms.profile_urls[2], "--tls-ca", str(tmp_path / "ca.pem"),
            "--report-dir", str(tmp_path / "reports"),
            timeout=300,
        )  # fmt: skip
    out = result.stdout.str()
    assert result.ret == 0, out[-6000:]
    junit = ET.parse(tmp_path / "reports" / "junit.xml").getroot()
    passed = {case.get("name") for case in junit.findall(".//testcase")}
    assert len(passed) == 8 and not junit.findall(".//failure") and not junit.findall(".//skipped")


@pytest.mark.slow
@pytest.mark.postgresql
@pytest.mark.parametrize("chargers_on", ["A", "B"])
def test_both_suites_pass_through_a_two_node_cluster_by_url_with_tls(
    pytester: pytest.Pytester, tmp_path: Path, postgres_database: str, chargers_on: str
) -> None:
    """Our CSMS as two cluster nodes on one PostgreSQL database: the charge points connect
    to one node (profiles 2 and 3 over TLS), the bench drives the CSMS through the other's
    API, so every CSMS-initiated call of every case crosses from one node to the other."""
    ca = trustme.CA()
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(
        str(tmp_path / "csms.pem")
    )
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    ca.private_key_pem.write_to_path(str(tmp_path / "ca.key"))
    client = ca.issue_cert("cp-mtls.chargers.invalid", common_name="CP-MTLS-EXT")
    client.cert_chain_pems[0].write_to_path(str(tmp_path / "cp.pem"))
    client.private_key_pem.write_to_path(str(tmp_path / "cp.key"))
    common = [
        "--api-token", "t0ken", "--boot-retry-interval", "3", "--cluster-lease", "3",
        "--tls-port", "0", "--mtls-port", "0", "--tls-cert", str(tmp_path / "csms.pem"),
        "--tls-client-ca", str(tmp_path / "ca.pem"), "--cp-ca-cert", str(tmp_path / "ca.pem"),
        "--cp-ca-key", str(tmp_path / "ca.key"),
    ]  # fmt: skip
    a = CsmsProcess(postgres_database, auto_register=False, extra=[*common, "--node-id", "A"])
    b = CsmsProcess(postgres_database, auto_register=False, extra=[*common, "--node-id", "B"])
    with a, b:
        ocpp, api = (a, b) if chargers_on == "A" else (b, a)
        reports = tmp_path / "reports"
        result = pytester.run(
            sys.executable, "-m", "ocpp_bench.cli", "run",
            "--csms-url", ocpp.url, "--csms-api", api.api,
            "--csms-url-profile2", ocpp.profile_urls[2],
            "--csms-url-profile3", ocpp.profile_urls[3],
            "--tls-ca", str(tmp_path / "ca.pem"), "--cert", str(tmp_path / "cp.pem"),
            "--key", str(tmp_path / "cp.key"), "--csms-api-token", "t0ken",
            "--report-dir", str(reports),
            timeout=600,
        )  # fmt: skip
        metrics = httpx.get(f"{api.api}/metrics", headers={"Authorization": "Bearer t0ken"}).text
    assert result.ret == 0, result.stdout.str()[-6000:]
    forwarded = re.search(r"^ocpp_cluster_calls_forwarded ([\d.]+)$", metrics, re.MULTILINE)
    assert forwarded is not None and float(forwarded.group(1)) >= 100  # the API's calls crossed
    junit = ET.parse(reports / "junit.xml").getroot()
    names = {case.get("name") for case in junit.findall(".//testcase")}
    assert catalogue_ids() | {c["id"] for c in catalogue("2.0.1")} <= names
    assert not junit.findall(".//failure") and not junit.findall(".//error")
    assert not junit.findall(".//skipped"), "every case ran"
