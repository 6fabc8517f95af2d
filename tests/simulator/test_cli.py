"""`ocpp-bench sim run` and `sim fleet` as a user runs them: the real CLI in a subprocess,
against our CSMS (a subprocess too) or the test CSMS, with bounded waits."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from ocpp.v16 import call

from csms.process import CsmsProcess

from .conftest import MiniCsms

SIM = [sys.executable, "-m", "ocpp_bench.cli", "sim"]
ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def unregistering_csms(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CsmsProcess]:
    """Our CSMS without --auto-register: every charger of these tests is unknown to it."""
    with CsmsProcess(tmp_path_factory.mktemp("csms") / "csms.db", auto_register=False) as csms:
        yield csms


def read_until(process: subprocess.Popen[str], text: str, timeout: float) -> str:
    """Lines of stdout up to the first containing `text`; fails after `timeout` seconds."""
    assert process.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line)
        if text in line:
            return "".join(seen)
    pytest.fail(f"no {text!r} within {timeout} s; got:\n{''.join(seen)}")


def finish(process: subprocess.Popen[str], timeout: float) -> tuple[str, str, float]:
    began = time.monotonic()
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        pytest.fail(f"still running {timeout} s later:\n{out[-2000:]}\n{err[-2000:]}")
    return out, err, time.monotonic() - began


@pytest.mark.parametrize("profile", ["idle", "charging"])
def test_fleet_of_unknown_chargers_ends_by_its_duration(
    unregistering_csms: CsmsProcess, profile: str
) -> None:
    """A charger that never boots (HTTP 404) used to keep `--profile charging` alive forever;
    the summary names the CSMS's reason, not just the exception's type."""
    began = time.monotonic()
    process = subprocess.Popen(
        [
            *(*SIM, "fleet", "--url", unregistering_csms.url, "--count", "2", "--rate", "100"),
            *("--profile", profile, "--duration", "2", "--id-pattern", f"UNKNOWN-{profile}-{{n}}"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    out, err, _ = finish(process, 20)
    assert time.monotonic() - began < 15, "did not end by --duration"
    assert process.returncode == 1, err  # nobody booted
    assert "boots accepted: 0" in out
    assert "connect:HTTP 404: Unknown charge point" in out, out
    assert "Traceback" not in err


def test_fleet_larger_than_the_open_file_limit_is_warned_of() -> None:
    """One socket per charge point: a fleet the limit cannot hold says so before it starts."""
    import resource

    def low_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (200, 200))

    process = subprocess.Popen(
        [*SIM, "fleet", "--url", f"ws://127.0.0.1:{free_port()}", "--count", "300",
         "--rate", "1", "--duration", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
        preexec_fn=low_limit,
    )  # fmt: skip
    _, err, _ = finish(process, 30)
    assert "the open-file limit is 200, too low for 300 charge points" in err, err
    assert "Traceback" not in err


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_fleet_ends_on_the_first_signal_with_its_summary(
    unregistering_csms: CsmsProcess, sig: signal.Signals
) -> None:
    process = subprocess.Popen(
        [
            *(*SIM, "fleet", "--url", unregistering_csms.url, "--count", "3", "--rate", "100"),
            *("--profile", "charging", "--id-pattern", f"SIGNAL-{sig.name}-{{n}}"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    try:
        read_until(process, "started 3/3", timeout=20)  # progress: all three running
        process.send_signal(sig)
        out, err, took = finish(process, 15)
    finally:
        if process.poll() is None:
            process.kill()
    assert took < 10, took
    assert "charge points: 3  connected: 0  boots accepted: 0" in out, out
    assert "Traceback" not in err


def test_sim_run_against_a_dead_port_says_so_and_keeps_trying() -> None:
    url = f"ws://127.0.0.1:{free_port()}/ocpp"
    process = subprocess.Popen(
        [*SIM, "run", "--url", url, "--no-input", "--session", "TAG:1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    try:
        first = read_until(process, "failed", timeout=5)
        assert f"! connect to {url}/SIM-00001 failed: ConnectionRefusedError" in first
        assert "retrying in" in first
        read_until(process, "failed", timeout=10)  # and again, after the back-off
        process.send_signal(signal.SIGTERM)
        _, err, _ = finish(process, 10)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "Traceback" not in err and "ExceptionGroup" not in err


def test_sim_run_takes_commands_before_it_ever_connects_and_while_one_waits() -> None:
    """`status` and `quit` at any time: before the first connection, and while `online` waits
    (up to 30 s) for a CSMS that is not there."""
    url = f"ws://127.0.0.1:{free_port()}/ocpp"
    process = subprocess.Popen(
        [*SIM, "run", "--url", url, "--id", "CONSOLE-1"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    assert process.stdin is not None
    try:
        process.stdin.write("status\n")
        process.stdin.flush()
        read_until(process, "CONSOLE-1: offline, registration None", timeout=10)
        process.stdin.write("online\nstatus\n")
        process.stdin.flush()
        read_until(process, "CONSOLE-1: offline", timeout=10)
        process.stdin.write("quit\n")
        process.stdin.flush()
        _, err, _ = finish(process, 10)  # not after `online` gives up (30 s)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        ("SIM-{x}", "is not a format with {n}"),
        ("SIM", "the same identity"),
        ("X" * 60 + "{n}", "longer"),
    ],
)
def test_a_bad_id_pattern_is_a_usage_error(pattern: str, why: str) -> None:
    done = subprocess.run(
        [*SIM, "fleet", "--count", "3", "--id-pattern", pattern],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=30,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "--id-pattern" in lines[0] and why in lines[0], done.stderr


def test_help_shows_the_defaults() -> None:
    for command, expected in (
        ("fleet", ["--meter-interval", "(default: 10)", "(default: idle)", "(default: 100)"]),
        ("run", ["(default: SIM-00001)", "--plugged", "(default: ws://127.0.0.1:9220/ocpp)"]),
    ):
        done = subprocess.run(
            [*SIM, command, "--help"], capture_output=True, text=True, env=ENV, timeout=30
        )
        text = " ".join(done.stdout.split())  # argparse wraps lines
        for item in expected:
            assert item in text, (command, item)
        assert "==SUPPRESS==" not in text and "(default: None)" not in text


@pytest.fixture
async def sim_against(csms: MiniCsms) -> AsyncIterator[list[asyncio.subprocess.Process]]:
    """Processes started by the test, killed if it fails before they end."""
    started: list[asyncio.subprocess.Process] = []
    yield started
    for process in started:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def spawn(
    started: list[asyncio.subprocess.Process], *args: str
) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        *SIM, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=ENV
    )
    started.append(process)
    return process


async def test_fleet_sends_meter_values_and_ends_its_transactions_on_sigint(
    csms: MiniCsms, sim_against: list[asyncio.subprocess.Process]
) -> None:
    process = await spawn(
        sim_against,
        *("fleet", "--url", csms.url, "--count", "2", "--rate", "100", "--profile", "charging"),
        *("--charge-seconds", "600", "--meter-interval", "1", "--id-pattern", "MV-{n}"),
    )
    for n in (1, 2):
        await csms.wait_for("MeterValues", timeout=15)  # during the transaction
        while not csms.payloads("MeterValues", f"MV-{n}"):
            await csms.wait_for("MeterValues", start=len(csms.received), timeout=15)
    starts = len(csms.payloads("StartTransaction"))
    assert starts == 2
    process.send_signal(signal.SIGINT)
    out, err = await asyncio.wait_for(process.communicate(), 15)
    assert process.returncode == 0, err.decode()
    stops = {r.cp_id: r.payload for r in csms.received if r.action == "StopTransaction"}
    assert sorted(stops) == ["MV-1", "MV-2"], stops  # each open transaction ended
    assert sorted(s["transactionId"] for s in stops.values()) == [100, 101]  # the test CSMS's
    assert {s["reason"] for s in stops.values()} == {"Local"}
    assert all(s["meterStop"] > 0 for s in stops.values())
    assert "StopTransaction" in out.decode()  # in the summary's messages per action


async def test_sim_run_plugged_starts_a_remote_transaction_at_once(
    csms: MiniCsms, sim_against: list[asyncio.subprocess.Process]
) -> None:
    process = await spawn(
        sim_against, "run", "--url", csms.url, "--id", "CP-PLUG", "--plugged", "--no-input"
    )
    status = await csms.wait_for("StatusNotification", lambda p: p["connectorId"] == 1, timeout=15)
    assert status["status"] == "Preparing"  # the cable is in from the start
    answer = await csms.call("CP-PLUG", call.RemoteStartTransaction(id_tag="R-1", connector_id=1))
    assert answer.status == "Accepted"
    start = await csms.wait_for("StartTransaction", timeout=5)
    assert start["idTag"] == "R-1"
    process.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(process.communicate(), 15)
    assert process.returncode == 0, err.decode()


def test_the_readme_shows_the_sim_commands_as_the_parser_says() -> None:
    from simulator.docs import BLOCKS

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for name, make in BLOCKS.items():
        block = readme.split(f"<!-- {name}:start -->\n", 1)[1].split(f"\n<!-- {name}:end -->")[0]
        assert block == make(), f"{name} is stale: run python -m simulator.docs"
