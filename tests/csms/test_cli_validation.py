"""The CLI refuses what the API refuses (one implementation: csms.services.validation), in one
line and with exit code 2 for a malformed value, 1 for an unknown parent tag; and a bad row
that an older version stored cannot break Authorize."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from csms import CsmsApp

from .client import RawClient


def cli(*args: str) -> tuple[int, str, str]:
    """`ocpp-bench csms ARGS` as a user runs it: its exit code, stdout and stderr."""
    done = subprocess.run(
        [sys.executable, "-m", "ocpp_bench.cli", "csms", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.returncode, done.stdout, done.stderr


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr  # never a traceback
    return lines[0]


def stored_tags(db: Path) -> dict[str, sqlite3.Row]:
    if not db.exists():
        return {}
    with contextlib.closing(sqlite3.connect(db)) as connection:
        connection.row_factory = sqlite3.Row
        return {row["id_tag"]: row for row in connection.execute("SELECT * FROM id_tags")}


@pytest.mark.parametrize("expiry", ["tomorrow", "2027-13-45", "31/12/2027"])
def test_add_tag_refuses_an_expiry_that_is_no_date(tmp_path: Path, expiry: str) -> None:
    db = str(tmp_path / "c.db")
    code, _, stderr = cli("add-tag", "X", "--expiry", expiry, "--db", db)
    assert code == 2
    line = one_line(stderr)
    assert "--expiry" in line and repr(expiry) in line and "ISO 8601" in line
    assert stored_tags(tmp_path / "c.db") == {}


def test_add_tag_normalises_the_expiry_as_the_api_does(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    code, _, _ = cli("add-tag", "X", "--expiry", "2027-12-31T23:59:59+01:00", "--db", str(db))
    assert code == 0
    assert stored_tags(db)["X"]["expiry_date"] == "2027-12-31T22:59:59.000Z"


def test_add_tag_refuses_an_unknown_parent_and_a_tag_too_long(tmp_path: Path) -> None:
    db = str(tmp_path / "c.db")
    code, _, stderr = cli("add-tag", "X", "--parent", "NOPE", "--db", db)
    assert code == 1
    assert "--parent" in one_line(stderr) and "'NOPE'" in stderr
    code, _, stderr = cli("add-tag", "T" * 21, "--db", db)
    assert code == 2 and "1 to 20 characters" in one_line(stderr)
    assert cli("add-tag", "GROUP", "--db", db) == (
        0,
        "tag GROUP: Accepted\n",
        "",
    )
    code, _, _ = cli("add-tag", "X", "--parent", "GROUP", "--db", db)
    assert code == 0
    assert set(stored_tags(tmp_path / "c.db")) == {"GROUP", "X"}


def test_add_tag_keeps_a_2_0_1_token_type_and_refuses_an_unknown_one(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    assert cli("add-tag", "X", "--token-type", "ISO15693", "--db", str(db))[0] == 0
    assert stored_tags(db)["X"]["token_type"] == "ISO15693"
    code, _, stderr = cli("add-tag", "X", "--token-type", "RFID", "--db", str(db))
    assert code == 2 and "--token-type" in stderr and "'RFID'" in stderr
    assert stored_tags(db)["X"]["token_type"] == "ISO15693"  # nothing stored is lost


@pytest.mark.parametrize(
    ("charger_id", "problem"),
    [
        ("a/b:c", "forbidden character"),
        ("C" * 49, "longer than 48 characters"),
        ("tab\there", "forbidden character"),
    ],
)
def test_add_charger_refuses_an_id_the_handshake_would_refuse(
    tmp_path: Path, charger_id: str, problem: str
) -> None:
    db = str(tmp_path / "c.db")
    code, _, stderr = cli("add-charger", charger_id, "--db", db)
    assert code == 2
    assert problem in one_line(stderr) and "handshake" in stderr


def test_add_charger_refuses_a_weak_password_unless_told(tmp_path: Path) -> None:
    db = str(tmp_path / "c.db")
    code, _, stderr = cli("add-charger", "CP-1", "--password", "fifteen-chars!!", "--db", db)
    assert code == 2
    line = one_line(stderr)
    assert "--password" in line and "16 bytes" in line and "--allow-weak-password" in line
    code, _, _ = cli("add-charger", "CP-1", "--password", "sixteen-chars!!!", "--db", db)
    assert code == 0
    code, _, _ = cli(
        "add-charger", "CP-2", "--password", "short", "--allow-weak-password", "--db", db
    )
    assert code == 0


async def test_a_stored_unreadable_expiry_is_invalid_not_an_internal_error(
    csms_app: CsmsApp, caplog: pytest.LogCaptureFixture
) -> None:
    """As an older `csms add-tag --expiry tomorrow` left it in the database."""
    await csms_app.services.chargers.register("CP-1")
    await csms_app.services.db.write(  # straight into the table, as SQL, past every check
        lambda tx: tx.executemany(
            "INSERT INTO id_tags (id_tag, status, expiry_date, parent_id_tag, created_at,"
            " updated_at) VALUES (?, ?, ?, NULL, '2026-01-01', '2026-01-01')",
            [("OLD-1", "Accepted", "tomorrow"), ("OLD-2", "Blocked", "2027-13-45")],
        )
    )
    async with await RawClient.open(f"{csms_app.ocpp_url}/CP-1") as client:
        await client.boot()
        with caplog.at_level(logging.WARNING, logger="csms.services.authorization"):
            for tag in ("OLD-1", "OLD-2"):
                answer = await client.result("Authorize", {"idTag": tag})
                assert answer == {"idTagInfo": {"status": "Invalid"}}
            start = await client.result(
                "StartTransaction",
                {
                    "connectorId": 1,
                    "idTag": "OLD-1",
                    "meterStart": 0,
                    "timestamp": "2026-01-01T00:00:00Z",
                },
            )
            assert start["idTagInfo"] == {"status": "Invalid"}
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("OLD-1" in w and "'tomorrow'" in w for w in warnings), warnings
    assert any("OLD-2" in w for w in warnings), warnings
