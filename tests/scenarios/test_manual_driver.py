"""The manual driver with an operator: told what to do, the case waits for the CALL to arrive.

The operator here is a thread that reads the run's instructions and does each in the CSMS
(ours, as a separate process, through its HTTP API), as a person at a CSMS's web UI would.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx

from csms.process import CsmsProcess
from ocpp_bench.scenario.cli import default_paths

SUITE = Path(default_paths("1.6")[0])
INSTRUCTION = re.compile(r"\[operator\] in the CSMS, send (\w+) to (\S+) with (\{.*\}) \(waiting")


def _operate(run: subprocess.Popen[str], api: str, lines: list[str]) -> None:
    assert run.stdout is not None
    for line in run.stdout:
        lines.append(line)
        match = INSTRUCTION.search(line)
        if match:
            action, charger, payload = match.group(1), match.group(2), match.group(3)
            httpx.post(
                f"{api}/api/chargers/{charger}/ocpp/{action}",
                json=ast.literal_eval(payload),
                headers={"Authorization": "Bearer t0ken"},
                timeout=15,
            )


def test_an_operator_following_the_instructions_makes_the_cases_pass(tmp_path: Path) -> None:
    with CsmsProcess(tmp_path / "csms.db", extra=["--api-token", "t0ken"]) as csms:
        command = [
            sys.executable, "-m", "ocpp_bench.cli", "run", str(SUITE), "--csms-url", csms.url,
            "--csms-driver", "manual", "--operator-timeout", "20",
            "--report-dir", str(tmp_path / "reports"), "-k", "TC_019_2 or TC_021 or TC_017_2",
        ]  # fmt: skip
        with subprocess.Popen(
            command, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True
        ) as run:
            lines: list[str] = []
            operator = threading.Thread(target=_operate, args=(run, csms.api, lines))
            operator.start()
            assert run.wait(120) == 0, "".join(lines)[-4000:]
            operator.join(10)
    out = "".join(lines)
    assert "send GetConfiguration to TC_019_2_CSMS" in out
    cases = ET.parse(tmp_path / "reports" / "junit.xml").getroot().iter("testcase")
    verdicts = ("failure", "error", "skipped")
    passed = {c.get("name") for c in cases if not any(c.find(v) is not None for v in verdicts)}
    assert passed == {"TC_019_2_CSMS", "TC_021_CSMS", "TC_017_2_CSMS"}, out[-4000:]


def test_an_operator_who_does_nothing_fails_the_case_in_time(tmp_path: Path) -> None:
    with CsmsProcess(tmp_path / "csms.db") as csms:
        result = subprocess.run(
            [
                sys.executable, "-m", "ocpp_bench.cli", "run", str(SUITE), "--csms-url",
                csms.url, "--csms-driver", "manual", "--operator-timeout", "1",
                "--report-dir", str(tmp_path / "reports"), "-k", "TC_019_2",
            ],
            capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120,
        )  # fmt: skip
    assert result.returncode == 1, result.stdout[-3000:]
    assert "the charge point received no GetConfiguration matching the step's payload" in (
        result.stdout
    )


def test_fixed_identities_and_tags_are_listed_first_and_used(tmp_path: Path) -> None:
    tags = tmp_path / "tags.yaml"
    tags.write_text("tag: TAG-OK-1\nblocked: TAG-BLK-1\n")
    with CsmsProcess(tmp_path / "csms.db", extra=["--api-token", "t0ken"]) as csms:
        result = subprocess.run(
            [
                sys.executable, "-m", "ocpp_bench.cli", "run", str(SUITE), "--cp-id", "CP-LAB",
                "--id-tags", str(tags), "-k", "TC_023_3 or TC_003", "-v", "--csms-url",
                csms.url, "--csms-api", csms.api, "--csms-api-token", "t0ken",
                "--report-dir", str(tmp_path / "reports"),
            ],
            capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120,
        )  # fmt: skip
        headers = {"Authorization": "Bearer t0ken"}
        charger = httpx.get(f"{csms.api}/api/chargers/CP-LAB", headers=headers, timeout=10)
        blocked = httpx.get(f"{csms.api}/api/id-tags/TAG-BLK-1", headers=headers, timeout=10)
    out = result.stdout
    assert result.returncode == 0, out[-3000:]
    setup = out.index("set up in the CSMS before the run:")
    assert setup < out.index("TC_003_CSMS PASSED")
    assert "  charge point CP-LAB: no password, security profile 1" in out
    assert "  id tag TAG-BLK-1: status Blocked" in out
    assert "  id tag TAG-OK-1: status Accepted" in out
    assert charger.status_code == 200 and charger.json()["lastBootAt"], charger.text
    assert blocked.status_code == 200 and blocked.json()["status"] == "Blocked"
