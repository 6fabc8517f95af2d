"""Locust headless against our CSMS, both as subprocesses: rows per OCPP action, no failures,
unique charger ids across worker processes."""

from __future__ import annotations

import contextlib
import csv
import json
import re
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import trustme

from csms.api.auth import load_or_create_token
from loadtests.ourcsms import CsmsProcess, charger_ids, register_chargers, seed_tags
from tests.simulator.foreign import ForeignCsms

ROOT = Path(__file__).resolve().parents[2]
LOCUSTFILE = ROOT / "loadtests" / "locustfile.py"
LOCUST = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE)]

pytestmark = pytest.mark.timeout(60)


@contextlib.contextmanager
def locust(tmp_path: Path, url: str, *args: str) -> Iterator[subprocess.Popen[bytes]]:
    """Locust headless as a subprocess, killed if the test fails before `finish`."""
    process = subprocess.Popen(
        [
            *LOCUST,
            "--headless",
            "--csms-url",
            url,
            "--csv",
            str(tmp_path / "stats"),
            "--html",
            str(tmp_path / "report.html"),
            "--only-summary",
            "--loglevel",
            "WARNING",
            *args,
        ],
        cwd=tmp_path,  # no locust.conf / pyproject.toml of ours applies
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()


def finish(process: subprocess.Popen[bytes], timeout: float = 40) -> str:
    try:
        out, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, _ = process.communicate()
        pytest.fail(f"locust did not finish within {timeout} s:\n{out.decode()[-3000:]}")
    return out.decode()


def rows(tmp_path: Path) -> dict[tuple[str, str], dict[str, str]]:
    with (tmp_path / "stats_stats.csv").open(newline="") as file:
        return {(row["Type"], row["Name"]): row for row in csv.DictReader(file)}


def failures(tmp_path: Path) -> list[dict[str, str]]:
    with (tmp_path / "stats_failures.csv").open(newline="") as file:
        return list(csv.DictReader(file))


Counts = dict[tuple[str, str], tuple[int, int]]  # (type, name) -> (requests, failures)


def csv_counts(tmp_path: Path) -> Counts:
    return {
        key: (int(row["Request Count"]), int(row["Failure Count"]))
        for key, row in rows(tmp_path).items()
    }


def console_counts(out: str) -> Counts:
    """The request table of the summary Locust prints at the end (`--only-summary`)."""
    table = out.split("Response time percentiles")[0]
    found: Counts = {}
    for line in table.splitlines():
        match = re.match(r"^(\S*)\s+(.+?)\s+(\d+)\s+(\d+)\(\d", line)
        if match:
            kind, name, requests, failures = match.groups()
            found[kind, name] = (int(requests), int(failures))
    return found


def html_counts(report: Path) -> Counts:
    text = report.read_text()
    marker = "window.templateArgs = "
    assert marker in text, "no templateArgs in the HTML report"
    arguments, _ = json.JSONDecoder().raw_decode(text, text.index(marker) + len(marker))
    statistics = arguments["requests_statistics"]
    return {
        (row["method"] or "", row["name"]): (row["num_requests"], row["num_failures"])
        for row in statistics
    }


def test_sessions_profile_reports_every_action_without_failures(tmp_path: Path) -> None:
    users = 4
    db = tmp_path / "csms.db"
    seed_tags(db, charger_ids("T-", 1, users))
    with (
        CsmsProcess(db, heartbeat_interval=1) as csms,
        locust(
            tmp_path,
            csms.url,
            *("-u", str(users), "-r", str(users), "-t", "8s", "--id-prefix", "T-"),
            *("--profile", "sessions", "--session-duration", "60", "--session-pause", "0.5"),
            *("--meter-interval", "1"),
        ) as process,
    ):
        # A CSMS-initiated call through our API shows as an OCPP-CSMS row.
        answered = _csms_call(csms, db, "T-0-00001", "GetConfiguration")
        out = finish(process)
    assert process.returncode == 0, out
    assert answered
    stats = rows(tmp_path)
    for action in (
        "BootNotification",
        "Heartbeat",
        "StatusNotification",
        "Authorize",
        "StartTransaction",
        "MeterValues",
        "StopTransaction",
    ):
        assert int(stats["OCPP", action]["Request Count"]) > 0, (action, out)
    assert int(stats["OCPP-CSMS", "GetConfiguration"]["Request Count"]) == 1
    assert int(stats["WS", "connect"]["Request Count"]) == users
    assert int(stats["", "Aggregated"]["Failure Count"]) == 0, failures(tmp_path)
    assert failures(tmp_path) == []
    # The CSV, the console summary and the HTML report give the same totals (the CSV was
    # Locust's last periodic write, up to a second and the users' stop behind the others).
    final = csv_counts(tmp_path)
    assert final == console_counts(out), out
    assert final == html_counts(tmp_path / "report.html")
    # Sessions outlast the run: the users' stop ended their transactions (one each), and
    # none is left open at the CSMS.
    assert final["OCPP", "StartTransaction"] == final["OCPP", "StopTransaction"] == (users, 0)
    with sqlite3.connect(db) as connection:
        left = connection.execute(
            "SELECT COUNT(*) FROM transactions WHERE stop_timestamp IS NULL"
        ).fetchone()[0]
        reasons = {row[0] for row in connection.execute("SELECT stop_reason FROM transactions")}
    assert left == 0 and reasons == {"Local"}, reasons


def test_sessions_against_auto_register_and_free_vend_need_no_seeding(tmp_path: Path) -> None:
    """The README's smoke run: `csms serve --auto-register --accept-any-tag`, no tag seeded."""
    users = 3
    with (
        CsmsProcess(tmp_path / "csms.db", extra=["--accept-any-tag"]) as csms,
        locust(
            tmp_path,
            csms.url,
            *("-u", str(users), "-r", str(users), "-t", "6s", "--id-prefix", "FV-"),
            *("--profile", "sessions", "--session-duration", "1", "--session-pause", "0.5"),
        ) as process,
    ):
        out = finish(process)
    assert process.returncode == 0, out
    stats = rows(tmp_path)
    for action in ("Authorize", "StartTransaction", "StopTransaction"):
        assert int(stats["OCPP", action]["Request Count"]) > 0, (action, out)
    assert int(stats["", "Aggregated"]["Failure Count"]) == 0, failures(tmp_path)
    assert failures(tmp_path) == []  # no "tag Invalid" sessions


def test_a_mix_of_1_6_and_2_0_1_chargers_runs_sessions_without_failures(tmp_path: Path) -> None:
    """--ocpp-mix: each user the real 2.0.1 station or 1.6 charge point, rows per action of
    both versions, every transaction ended."""
    users = 4
    with (
        CsmsProcess(tmp_path / "csms.db", extra=["--accept-any-tag"]) as csms,
        locust(
            tmp_path,
            csms.url,
            *("-u", str(users), "-r", str(users), "-t", "6s", "--id-prefix", "MIX-"),
            *("--profile", "sessions", "--session-duration", "1", "--session-pause", "0.5"),
            *("--ocpp-mix", "1.6:50,2.0.1:50"),
        ) as process,
    ):
        out = finish(process)
    assert process.returncode == 0, out
    stats = rows(tmp_path)
    for action in ("StartTransaction", "StopTransaction", "TransactionEvent"):
        assert int(stats["OCPP", action]["Request Count"]) > 0, (action, out)
    assert int(stats["", "Aggregated"]["Failure Count"]) == 0, failures(tmp_path)
    with contextlib.closing(sqlite3.connect(tmp_path / "csms.db")) as connection:
        kinds = connection.execute(
            "SELECT COUNT(station_transaction_id), COUNT(*) - COUNT(station_transaction_id),"
            " SUM(status = 'Active') FROM transactions"
        ).fetchone()
    assert kinds[0] > 0 and kinds[1] > 0, kinds  # 2.0.1 and 1.6 transactions both
    assert kinds[2] == 0  # each user ended its sessions


def _csms_call(csms: CsmsProcess, db: Path, charger: str, action: str) -> bool:
    """Make the CSMS send `action` once `charger` is connected (retrying for a few seconds)."""
    token = load_or_create_token(db)
    deadline = time.monotonic() + 6
    while time.monotonic() < deadline:
        answer = httpx.post(
            f"{csms.api}/api/chargers/{charger}/ocpp/{action}",
            json={},
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
        )
        if answer.status_code == 200:
            return True
        time.sleep(0.2)
    return False


@pytest.mark.parametrize(
    ("profile", "row", "boots_per_charger"),
    [("boot-storm", "power cycle", 2), ("reconnect-storm", "reconnect", 1)],
)
def test_storms_drop_and_restore_every_charger(
    tmp_path: Path, profile: str, row: str, boots_per_charger: int
) -> None:
    """Storms every 3 s (wall-clock aligned): power cuts boot again, reconnects do not."""
    users = 5
    with (
        CsmsProcess(tmp_path / "csms.db", heartbeat_interval=60) as csms,
        locust(
            tmp_path,
            csms.url,
            *("-u", str(users), "-r", str(users), "-t", "7s", "--id-prefix", "S-"),
            *("--profile", profile, "--storm-interval", "3"),
        ) as process,
    ):
        out = finish(process)
    assert process.returncode == 0, out
    stats = rows(tmp_path)
    storms = int(stats["WS", row]["Request Count"])
    assert storms >= users, out  # the stop may cut the last storm short: no exact multiple
    boots = int(stats["OCPP", "BootNotification"]["Request Count"])
    if boots_per_charger == 2:
        assert boots >= users + storms, out
    else:
        assert boots == users, out
    assert int(stats["", "Aggregated"]["Failure Count"]) == 0, failures(tmp_path)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("mode", ["processes", "master-worker"])
def test_two_workers_give_unique_charger_ids(tmp_path: Path, mode: str) -> None:
    """`--processes 2`, or a `--master` and two `--worker` processes: the master's custom
    options reach the workers and every charger id is distinct."""
    users = 6
    db = tmp_path / "csms.db"
    seed_tags(db, charger_ids("P-", 2, users))
    load = (
        *("--id-prefix", "P-", "--profile", "sessions", "--session-duration", "1"),
        *("--session-pause", "0.5", "--meter-interval", "1"),
    )
    run = ("-u", str(users), "-r", str(users), "-t", "6s")
    workers: list[subprocess.Popen[bytes]] = []
    with CsmsProcess(db, heartbeat_interval=1) as csms:
        if mode == "processes":
            command = ("--processes", "2", *run, *load)
        else:
            port = free_port()
            command = ("--master", "--master-bind-port", str(port), "--expect-workers", "2")
            command = (*command, *run, *load)
            workers = [
                subprocess.Popen(
                    [*LOCUST, "--worker", "--master-port", str(port), "--loglevel", "ERROR"],
                    cwd=tmp_path,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                for _ in range(2)
            ]
        try:
            with locust(tmp_path, csms.url, *command) as process:
                out = finish(process)
        finally:
            for worker in workers:
                try:
                    worker.wait(20)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait()
    assert process.returncode == 0, out
    with sqlite3.connect(db) as connection:
        ids = [row[0] for row in connection.execute("SELECT id FROM chargers WHERE id LIKE 'P-%'")]
        booted = connection.execute(
            "SELECT COUNT(DISTINCT charger_id) FROM message_log "
            "WHERE action = 'BootNotification' AND direction = 'in'"
        ).fetchone()[0]
    assert len(ids) == len(set(ids)) == users, ids
    assert {charger.split("-")[1] for charger in ids} == {"0", "1"}  # both workers
    assert booted == users
    stats = rows(tmp_path)
    assert int(stats["OCPP", "BootNotification"]["Request Count"]) == users
    # The master's --profile and --csms-url reached the workers.
    assert int(stats["OCPP", "StartTransaction"]["Request Count"]) >= users
    assert int(stats["", "Aggregated"]["Failure Count"]) == 0, failures(tmp_path)


def test_web_ui_shows_the_options_and_runs_a_swarm(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with CsmsProcess(tmp_path / "csms.db", heartbeat_interval=1) as csms:
        process = subprocess.Popen(
            [*LOCUST, "--web-host", "127.0.0.1", "--web-port", str(port), "--loglevel", "ERROR"],
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            page = _get(f"{base}/")
            options = json.loads(re.search(r"templateArgs = (\{.*?\});?\s*$", page, re.M)[1])[
                "extra_options"
            ]
            for name in ("csms_url", "id_prefix", "password", "tls_ca", "cert", "key"):
                assert name in options, sorted(options)
            assert options["ocpp_profile"]["choices"] == [
                "steady",
                "sessions",
                "boot-storm",
                "reconnect-storm",
            ]
            assert options["password"]["is_secret"]
            started = httpx.post(
                f"{base}/swarm",
                data={"user_count": "3", "spawn_rate": "3", "host": "", "csms_url": csms.url},
                timeout=10,
            )
            assert started.json()["success"], started.text
            deadline = time.monotonic() + 15
            booted = 0
            while booted < 3 and time.monotonic() < deadline:
                time.sleep(0.3)
                stats = httpx.get(f"{base}/stats/requests", timeout=5).json()["stats"]
                booted = sum(
                    row["num_requests"] for row in stats if row["name"] == "BootNotification"
                )
            assert booted == 3, stats
            assert all(row["num_failures"] == 0 for row in stats), stats
            httpx.get(f"{base}/stop", timeout=20)
        finally:
            process.terminate()
            process.wait(30)


def _get(url: str, timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return httpx.get(url, timeout=5).text
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_wss_with_the_tls_options(tmp_path: Path) -> None:
    """Security profile 2: wss:// verified against --tls-ca, Basic Auth with --password."""
    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1", "localhost")
    server.private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "csms.pem"))
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    users = 3
    password = "load-test-secret-16+"
    db = tmp_path / "csms.db"
    register_chargers(db, charger_ids("LOAD-", 1, users), password=password, security_profile=2)
    extra = ("--tls-port", "0", "--tls-cert", str(tmp_path / "csms.pem"))
    with CsmsProcess(db, heartbeat_interval=1, extra=extra) as csms:
        assert csms.tls_url.startswith("wss://"), csms.tls_url
        with locust(
            tmp_path,
            csms.tls_url,
            *("-u", str(users), "-r", str(users), "-t", "4s", "--status-interval", "1"),
            *("--tls-ca", str(tmp_path / "ca.pem"), "--password", password),
        ) as process:
            out = finish(process)
    assert process.returncode == 0, out
    stats = rows(tmp_path)
    assert int(stats["WS", "connect"]["Request Count"]) == users, out
    assert int(stats["OCPP", "BootNotification"]["Request Count"]) == users
    assert int(stats["", "Aggregated"]["Failure Count"]) == 0, failures(tmp_path)


def test_a_url_template_reaches_a_third_party_route(tmp_path: Path) -> None:
    """`--csms-url 'ws://host/ws/ocpp/{id}/'`: the id where the CSMS routes it (a CSMS written
    with the `ocpp` library, its route with a trailing slash)."""
    users = 2
    with ForeignCsms(implements=["StatusNotification", "Heartbeat"]) as csms:
        with locust(
            tmp_path,
            csms.template,
            *("-u", str(users), "-r", str(users), "-t", "3s", "--id-prefix", "TPL-"),
        ) as process:
            out = finish(process)
        paths = sorted(csms.paths)
    assert process.returncode == 0, out
    assert paths == ["/ws/ocpp/TPL-0-00001/", "/ws/ocpp/TPL-0-00002/"], paths
    stats = rows(tmp_path)
    assert int(stats["WS", "connect"]["Request Count"]) == users, out
    assert int(stats["", "Aggregated"]["Failure Count"]) == 0, failures(tmp_path)
