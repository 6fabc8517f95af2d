"""A real PostgreSQL server for the tests, and a fresh database per test.

The server is the one OCPP_BENCH_TEST_POSTGRES names (a URL whose role may create databases;
CI starts Debian's cluster and sets it), or else a private one this module starts from the
installed binaries (Debian's `postgresql` package: /usr/lib/postgresql/N/bin) in a temporary
folder, on a free loopback port, for the run. Each test gets a database cloned from a
template the migrations were applied to once, and dropped after it.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

from csms.store.location import PostgresUrl
from csms.store.postgres import apply_migrations

ENV = "OCPP_BENCH_TEST_POSTGRES"
MISSING = (
    "PostgreSQL is needed for the tests marked postgresql: install it (Debian: apt-get install"
    f" -y postgresql) or set {ENV}=postgresql://user:password@127.0.0.1/postgres; or leave"
    " them out with -m 'not postgresql'"
)


INITDB = ("--auth=trust", "-E", "UTF8", "--locale=C")


class NoPostgres(RuntimeError):
    pass


def database_url(server: str, name: str) -> str:
    """The URL of database `name` on the server of `server` (a URL)."""
    parts = urlsplit(server)
    return urlunsplit(parts._replace(path=f"/{name}"))


class Server:
    """Databases on one server: a migrated template, and clones of it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.template = f"ocpp_bench_template_{uuid.uuid4().hex[:8]}"
        self._made = False

    def _admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(self.url, autocommit=True)

    def new_database(self, *, migrated: bool = True) -> str:
        """A new database's URL: migrated (a clone of the template), or empty."""
        name = f"ocpp_bench_test_{uuid.uuid4().hex[:12]}"
        with self._admin() as admin:
            if migrated and not self._made:
                admin.execute(f'CREATE DATABASE "{self.template}"')
                with psycopg.connect(database_url(self.url, self.template)) as db:
                    db.autocommit = True
                    apply_migrations(db, PostgresUrl(database_url(self.url, self.template)))
                self._made = True
            source = f' TEMPLATE "{self.template}"' if migrated else ""
            if migrated and admin.info.server_version >= 150000:
                source += " STRATEGY FILE_COPY"  # a small database: copying beats WAL-logging
            admin.execute(f'CREATE DATABASE "{name}"{source}')
        return database_url(self.url, name)

    def drop(self, url: str) -> None:
        name = urlsplit(url).path.strip("/")
        with self._admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        if self._made:
            with contextlib.suppress(psycopg.Error):
                self.drop(database_url(self.url, self.template))


@contextlib.contextmanager
def server() -> Iterator[Server]:
    """The server of OCPP_BENCH_TEST_POSTGRES, or a private one for as long as this lasts."""
    given = os.environ.get(ENV)
    if given:
        try:
            psycopg.connect(given, connect_timeout=5).close()
        except psycopg.Error as exc:
            raise NoPostgres(f"{ENV}={PostgresUrl(given).shown}: {exc}") from exc
        found = Server(given)
        try:
            yield found
        finally:
            found.close()
        return
    with _private() as url:
        found = Server(url)
        yield found


def _binaries() -> Path:
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).resolve().parent
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version)
    if not found:
        raise NoPostgres(MISSING)
    return Path(found[-1]).parent


def _version(path: str) -> int:
    part = Path(path).parent.parent.name
    return int(part) if part.isdigit() else 0


@contextlib.contextmanager
def _private() -> Iterator[str]:
    """A cluster of our own: initdb refuses root, so as root it runs as `postgres`."""
    binaries = _binaries()
    folder = Path(tempfile.mkdtemp(prefix="ocpp-bench-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError as exc:
            raise NoPostgres("as root, the private PostgreSQL needs the user postgres") from exc
        os.chown(folder, owner.pw_uid, owner.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    data = folder / "data"
    port = _free_port()
    try:
        subprocess.run(
            [*run_as, str(binaries / "initdb"), "-D", str(data), "-U", "ocpp_bench", *INITDB],
            check=True,
            capture_output=True,
        )
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync=off"
        pg_ctl = [*run_as, str(binaries / "pg_ctl"), "-D", str(data)]
        subprocess.run(
            [*pg_ctl, "-l", str(folder / "log"), "-o", options, "-w", "start"],
            check=True,
            capture_output=True,
        )
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise NoPostgres(f"the private PostgreSQL did not start: {exc.stderr.decode()}") from exc
    try:
        yield f"postgresql://ocpp_bench@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*run_as, str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(folder, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
