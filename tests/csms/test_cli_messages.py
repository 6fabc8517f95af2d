"""What the `csms` commands tell a new user: what `seed` made (ids, tags, the secure charger's
password), how `serve` gives the API token, which database `api-token` read."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import httpx

from csms.cli import DEMO_CHARGERS, DEMO_TAGS
from csms.process import CsmsProcess


def csms(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ocpp_bench.cli", "csms", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
    )


def test_seed_prints_what_it_created(tmp_path: Path) -> None:
    done = csms("seed", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"seeded {tmp_path.resolve() / 'ocpp-bench.db'}:"
    for charger_id, password in DEMO_CHARGERS:
        line = next(line for line in lines if f"charger {charger_id} " in line)
        assert (f"Basic Auth password {password}" if password else "no password") in line
    assert "change-me-please-16" in done.stdout  # CP-SECURE's password, to connect with
    for id_tag, status, _ in DEMO_TAGS:
        line = next(line for line in lines if f"id tag  {id_tag} " in line)
        assert status in line
    expired = next(line for line in lines if "TAG-EXPIRED" in line)
    assert expired.endswith("Authorize answers Expired")
    again = csms("seed", cwd=tmp_path)
    assert again.stdout.count("exists already, left as it was") == len(DEMO_CHARGERS)
    assert "change-me-please-16" not in again.stdout  # not this run's to tell


def test_api_token_outside_the_database_folder_names_the_database(tmp_path: Path) -> None:
    (tmp_path / "lab").mkdir()
    assert csms("db", "upgrade", "--db", "lab/csms.db", cwd=tmp_path).returncode == 0
    inside = csms("api-token", "--db", "csms.db", cwd=tmp_path / "lab")
    assert inside.returncode == 0 and inside.stderr == ""
    token = inside.stdout.strip()
    outside = csms("api-token", "--db", "lab/csms.db", cwd=tmp_path)
    assert outside.stdout.strip() == token  # stdout stays the token alone, for $(...)
    db = (tmp_path / "lab" / "csms.db").resolve()
    assert outside.stderr.strip() == (f"the API token of {db}, kept in {db.parent / 'api-token'}")
    nowhere = csms("api-token", cwd=tmp_path)  # the default ./ocpp-bench.db is not there
    assert nowhere.stdout.strip() != token
    assert "no database there yet" in nowhere.stderr
    assert str(tmp_path.resolve() / "ocpp-bench.db") in nowhere.stderr


def test_serve_says_how_to_get_the_api_token(tmp_path: Path) -> None:
    with CsmsProcess(tmp_path / "csms.db") as server:
        assert server.process is not None and server.process.stdout is not None
        deadline = time.monotonic() + 30
        line = ""
        while not line.startswith("API token: ") and time.monotonic() < deadline:
            line = server.process.stdout.readline().decode()
            assert line, "serve ended without the API token line"
        hint, dashboard = line.strip().removeprefix("API token: ").split("; dashboard: ")
        assert "--api-token" not in hint
        command = shlex.split(hint)
        assert command[:3] == ["ocpp-bench", "csms", "api-token"]
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        token = csms(*command[2:], cwd=elsewhere).stdout.strip()  # works from any folder
        assert token == (tmp_path / "api-token").read_text().strip()
        assert dashboard == f"{server.api}/?token=<token>"
        page = httpx.get(dashboard.replace("<token>", token), timeout=10)
        assert page.status_code == 200 and "Active transactions" in page.text


def test_serve_with_a_given_token_does_not_point_to_the_file(tmp_path: Path) -> None:
    env = {**os.environ, "OCPP_BENCH_API_TOKEN": "given-token-0123456789"}
    process = subprocess.Popen(
        [sys.executable, "-m", "ocpp_bench.cli", "csms", "serve", "--db", str(tmp_path / "c.db"),
         "--host", "127.0.0.1", "--ocpp-port", "0", "--api-port", "0"],
        stdout=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = ""
        while not line.startswith("API token: "):
            line = process.stdout.readline()
            assert line, "serve ended without the API token line"
        assert "the one given with --api-token (or OCPP_BENCH_API_TOKEN)" in line
        assert "given-token-0123456789" not in line
    finally:
        process.terminate()
        process.communicate(timeout=30)
