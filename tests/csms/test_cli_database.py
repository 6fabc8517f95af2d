"""A database file the CSMS cannot use ends `csms serve` and every `csms` subcommand with one
line naming the file and the problem, exit code 1, never a traceback; another application's
file is left as it was."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import pytest

from csms.store.db import apply_migrations

COMMANDS = [
    ["serve", "--host", "127.0.0.1", "--ocpp-port", "0", "--api-port", "0"],
    ["add-charger", "CP-1"],
    ["add-tag", "TAG-1"],
    ["seed"],
    ["api-token"],
    ["db", "upgrade"],
]
# root may write anything: without these capabilities, file modes bind root as their owner
NO_OVERRIDE = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search"]


def csms(
    db: Path, command: list[str], *, bound_by_modes: bool = False
) -> subprocess.CompletedProcess[str]:
    prefix = NO_OVERRIDE if bound_by_modes and os.geteuid() == 0 else []
    return subprocess.run(
        [*prefix, sys.executable, "-m", "ocpp_bench.cli", "csms", *command, "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def assert_refused_everywhere(db: Path, problem: str, *, bound_by_modes: bool = False) -> None:
    for command in COMMANDS:
        done = csms(db, command, bound_by_modes=bound_by_modes)
        said = f"csms {' '.join(command)}: exit {done.returncode}\n{done.stderr}"
        assert done.returncode == 1, said
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1, said  # one line, no traceback
        assert str(db) in lines[0] and problem in lines[0], said
        assert done.stdout == "", said


def ocpp_bench_db(path: Path) -> Path:
    apply_migrations(path)  # closed cleanly: no -wal left, everything in the file
    return path


def text_file(path: Path) -> Path:
    path.write_text("chargers,id_tags\nCP-1,TAG-1\n" * 200)
    return path


def schema_page_broken(path: Path) -> Path:
    ocpp_bench_db(path)
    with path.open("r+b") as file:
        file.seek(100)  # page 1 past the file header: the schema's b-tree
        file.write(b"\xff" * 300)
    return path


def directory(path: Path) -> Path:
    path.mkdir()
    return path


def other_application(path: Path) -> Path:
    with closing(sqlite3.connect(path)) as connection:
        connection.executescript(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);"
            "CREATE TABLE chargers (serial TEXT);"  # a name we use too, but not our schema
            "INSERT INTO users (name) VALUES ('ada');"
            "PRAGMA user_version = 7;"
        )
    return path


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (text_file, "is not an SQLite database"),
        (schema_page_broken, "is corrupt"),
        (directory, "is a directory"),
        (other_application, "is another application's SQLite database"),
    ],
    ids=["not-a-database", "corrupt", "directory", "other-application"],
)
def test_an_unusable_database_is_one_line_and_exit_1(
    tmp_path: Path, make: Callable[[Path], Path], problem: str
) -> None:
    db = make(tmp_path / "csms.db")
    before = db.read_bytes() if db.is_file() else b""
    assert_refused_everywhere(db, problem)
    if db.is_file():
        assert db.read_bytes() == before  # nothing of ours was written into it
    assert not (tmp_path / "api-token").exists()


@pytest.fixture
def read_only_folder(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "ro"
    folder.mkdir()
    try:
        yield folder
    finally:
        folder.chmod(0o755)  # for pytest's clean-up


def test_a_read_only_database_is_one_line_and_exit_1(read_only_folder: Path) -> None:
    if os.geteuid() == 0 and shutil.which(NO_OVERRIDE[0]) is None:
        pytest.fail("setpriv (util-linux) is needed to make files read-only for root")
    db = ocpp_bench_db(read_only_folder / "csms.db")
    db.chmod(0o444)
    read_only_folder.chmod(0o555)
    assert_refused_everywhere(db, "is read-only", bound_by_modes=True)


def test_serve_reads_every_page_before_it_starts(tmp_path: Path) -> None:
    """A page broken deep in a table, which opening alone does not meet."""
    db = ocpp_bench_db(tmp_path / "csms.db")
    with closing(sqlite3.connect(db)) as connection:
        connection.executemany(
            "INSERT INTO id_tags (id_tag, status, created_at, updated_at) VALUES (?, ?, ?, ?)",
            [(f"T-{n:05}", "Accepted", "2026", "2026") for n in range(3000)],
        )
        connection.commit()
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
    with db.open("r+b") as file:
        file.seek(4096 * (pages - 3))
        file.write(b"\xa5" * 4096 * 2)
    done = csms(db, COMMANDS[0])
    assert done.returncode == 1, done.stderr
    line = done.stderr.strip()
    assert line.startswith("ocpp-bench CSMS could not start: ") and "\n" not in line
    assert f"{db}: is corrupt" in line
