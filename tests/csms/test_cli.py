"""The `ocpp-bench csms` commands, against a running CSMS sharing the database file."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from websockets.exceptions import InvalidStatus

from csms import CsmsApp
from ocpp_bench.cli import main

from .client import RawClient


async def cli(*args: str) -> int:
    return await asyncio.to_thread(main, list(args))


async def test_add_charger_and_tag_take_effect_without_restart(csms_app: CsmsApp) -> None:
    db = str(csms_app.config.db_location)
    with pytest.raises(InvalidStatus):
        await RawClient.open(f"{csms_app.ocpp_url}/CLI-1")
    assert (
        await cli("csms", "add-charger", "CLI-1", "--db", db, "--password", "pw-0123456789abc") == 0
    )
    assert await cli("csms", "add-tag", "CLI-TAG", "--db", db, "--status", "Blocked") == 0
    async with await RawClient.open(f"{csms_app.ocpp_url}/CLI-1", password="pw-0123456789abc") as c:
        await c.boot()
        info = (await c.result("Authorize", {"idTag": "CLI-TAG"}))["idTagInfo"]
        assert info == {"status": "Blocked"}
    assert await cli("csms", "add-charger", "CLI-1", "--db", db) == 1  # exists already


async def test_add_charger_registers_the_ocpp_version_it_must_speak(csms_app: CsmsApp) -> None:
    db = str(csms_app.config.db_location)
    assert await cli("csms", "add-charger", "CLI-201", "--db", db, "--ocpp-version", "2.0.1") == 0
    row = await csms_app.services.chargers.get("CLI-201")
    assert row is not None and row["ocpp_version"] == "2.0.1"
    both = ["ocpp1.6", "ocpp2.0.1"]
    async with await RawClient.open(f"{csms_app.ocpp_url}/CLI-201", subprotocols=both) as c:
        assert c.ws.subprotocol == "ocpp2.0.1"
    with pytest.raises(SystemExit) as usage:
        main(["csms", "add-charger", "CLI-21", "--db", db, "--ocpp-version", "2.1"])
    assert usage.value.code == 2
    assert await csms_app.services.chargers.get("CLI-21") is None


async def test_seed_and_env_variable_for_db(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "env.db"
    monkeypatch.setenv("OCPP_BENCH_DB", str(db))
    assert await cli("csms", "db", "upgrade") == 0
    assert await cli("csms", "seed") == 0
    assert db.exists()
    assert await cli("csms", "add-tag", "X", "--parent", "TAG-ACCEPTED") == 0


@pytest.mark.parametrize("via", ["option", "env"])
@pytest.mark.parametrize(
    ("location", "reason"),
    [
        ("mysql://db.example/csms", "mysql: databases are not supported"),
        (
            "postgresql://bench:secret@db.example:5432/",
            "'postgresql://bench:***@db.example:5432/' names no database",
        ),
        ("postgresql://bench:secret@db.example:port/csms", "'db.example:port/csms': Port could"),
        ("sqlite://csms.db", "'sqlite://csms.db': an SQLite URL is sqlite:///PATH"),
    ],
)
def test_a_database_url_we_cannot_open_is_refused_and_creates_nothing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    location: str,
    reason: str,
    via: str,
) -> None:
    """It used to be taken as a path: `db upgrade` made an SQLite file in a folder named
    `postgresql:` and reported success."""
    monkeypatch.chdir(tmp_path)
    args = ["csms", "db", "upgrade"]
    if via == "env":
        monkeypatch.setenv("OCPP_BENCH_DB", location)
    else:
        args += ["--db", location]
    with pytest.raises(SystemExit) as exited:
        main(args)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert f"error: argument --db: {reason}" in err, err
    assert "secret" not in err  # a password in the URL is not echoed
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", [["db", "upgrade"], ["seed"], ["api-token"], ["db", "stats"]])
def test_a_postgresql_server_we_cannot_reach_is_one_line_and_creates_nothing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    location = "postgresql://bench:secret@127.0.0.1:1/csms"  # nothing listens on port 1
    assert main(["csms", *command, "--db", location]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert "postgresql://bench:***@127.0.0.1:1/csms: " in err, err
    assert "refused" in err.lower(), err
    assert "secret" not in err
    assert list(tmp_path.iterdir()) == []


def test_an_sqlite_url_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["csms", "db", "upgrade", "--db", "sqlite:///lab.db"]) == 0
    assert (tmp_path / "lab.db").is_file()
    assert main(["csms", "db", "upgrade", "--db", f"sqlite:///{tmp_path}/abs.db"]) == 0
    assert (tmp_path / "abs.db").is_file()


async def test_serve_names_an_unusable_charge_point_ca(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "ca.pem").write_text("not a certificate\n")
    monkeypatch.setenv("OCPP_BENCH_CP_CA_CERT", str(tmp_path / "ca.pem"))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ocpp_bench.cli", "csms", "serve", "--db", str(tmp_path / "c.db"),
        "--host", "127.0.0.1", "--ocpp-port", "0", "--api-port", "0",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 1
    assert f"could not start: {tmp_path / 'ca.pem'}: no PEM certificate".encode() in stderr


async def test_serve_free_vend_from_the_environment_is_in_the_banner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OCPP_BENCH_ACCEPT_ANY_TAG", "1")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ocpp_bench.cli", "csms", "serve", "--db", str(tmp_path / "c.db"),
        "--host", "127.0.0.1", "--ocpp-port", "0", "--api-port", "0",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    banner = []
    try:
        async with asyncio.timeout(30):
            while not banner or "free vend" not in banner[-1]:
                line = await process.stdout.readline()
                assert line, f"serve ended before the free-vend line: {banner}"
                banner.append(line.decode())
    finally:
        process.terminate()
        await process.communicate()
    assert banner[-1].strip() == "free vend (--accept-any-tag): unknown idTags are Accepted"
