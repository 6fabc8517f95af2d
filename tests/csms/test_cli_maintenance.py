"""`csms db stats`, `csms db vacuum` and `serve --log-retention/--meter-retention`, run as a
user runs them: the real CLI in a process, on real SQLite files."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

from csms.process import CsmsProcess
from csms.store import Database
from csms.store.fill import Site, fill

SITE = Site(chargers=5, days=2, transactions=40, tags=10, active=2)


def csms(db: Path, *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ocpp_bench.cli", "csms", *command, "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_stats_shows_rows_and_sizes_per_table(tmp_path: Path) -> None:
    db = tmp_path / "site.db"
    fill(db, SITE)
    done = csms(db, "db", "stats")
    assert done.returncode == 0, done.stderr
    lines = {line.split()[0]: line.split()[1:] for line in done.stdout.splitlines()}
    assert lines["meter_values"][0] == f"{SITE.meter_rows:,}"
    assert lines["message_log"][0] == f"{SITE.log_rows:,}"
    assert lines["transactions"][0] == f"{SITE.transactions:,}"
    assert float(lines["message_log"][1]) > 0 and float(lines["message_log"][2]) > 0
    assert done.stdout.splitlines()[-1].startswith("file ")


async def test_vacuum_waits_for_the_database_to_itself(tmp_path: Path) -> None:
    path = tmp_path / "csms.db"
    db = await Database.open(path)
    try:
        refused = csms(path, "db", "vacuum")
    finally:
        await db.close()
    assert refused.returncode == 1
    assert refused.stderr.count("\n") == 1 and "in use by another process" in refused.stderr
    done = csms(path, "db", "vacuum")
    assert done.returncode == 0, done.stderr
    assert "MiB before" in done.stdout


def test_a_file_that_is_no_database_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a database\n")
    for command in (("db", "stats"), ("db", "vacuum")):
        done = csms(path, *command)
        assert done.returncode == 1
        assert (
            done.stderr
            == f"ocpp-bench csms {' '.join(command)}: {path}: is not an SQLite database\n"
        )


def test_retention_must_be_a_positive_number_of_days(tmp_path: Path) -> None:
    for value in ("0", "-3", "soon"):
        done = csms(tmp_path / "csms.db", "serve", "--log-retention", value)
        assert done.returncode == 2 and "--log-retention" in done.stderr


def _count(path: Path, sql: str) -> int:
    with closing(sqlite3.connect(path)) as db:
        return int(db.execute(sql).fetchone()[0])


OLD = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-30 days')"


def test_serve_prunes_what_its_retention_options_say(tmp_path: Path) -> None:
    path = tmp_path / "site.db"
    fill(path, Site(chargers=2, days=40, transactions=40, tags=5, active=1))
    in_transactions = "SELECT COUNT(*) FROM meter_values WHERE transaction_id IS NOT NULL"
    old_log = f"SELECT COUNT(*) FROM message_log WHERE timestamp < {OLD}"
    old_loose = (
        f"SELECT COUNT(*) FROM meter_values WHERE transaction_id IS NULL AND timestamp < {OLD}"
    )
    young_loose = old_loose.replace("<", ">=")
    samples, young = _count(path, in_transactions), _count(path, young_loose)
    assert _count(path, old_log) > 0 and _count(path, old_loose) > 0
    with CsmsProcess(path, extra=["--log-retention", "30", "--meter-retention", "30"]):
        deadline = time.monotonic() + 20
        while _count(path, old_log) or _count(path, old_loose):  # the first pass, at start
            assert time.monotonic() < deadline, "nothing pruned within 20 s"
            time.sleep(0.1)
    assert _count(path, in_transactions) == samples
    assert _count(path, young_loose) == young
