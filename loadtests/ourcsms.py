"""Our own CSMS as a load-test target: start it as a subprocess, register the sessions' tags.

Used by the tests and `scripts/bench_locust.py`; against another CSMS, register the tags there.
"""

from __future__ import annotations

import asyncio
import os
import re
import resource
import selectors
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

from csms.config import CsmsConfig
from csms.services import Services
from csms.store.db import Database
from csms.store.tags import TagStore

__all__ = ["CsmsProcess", "charger_ids", "raise_nofile", "register_chargers", "seed_tags"]


def charger_ids(prefix: str, workers: int, count: int) -> list[str]:
    """The ids the locustfile gives: PREFIX<worker>-<n>, n from 1."""
    return [f"{prefix}{w}-{n:05d}" for w in range(workers) for n in range(1, count + 1)]


def seed_tags(db: Path, tags: Iterable[str]) -> int:
    """Register `tags` as Accepted in the CSMS database (creating it); returns how many."""

    async def work() -> int:
        database = await Database.open(db)
        try:
            store = TagStore(database)
            count = 0
            for tag in tags:
                await store.upsert(tag, status="Accepted")
                count += 1
            return count
        finally:
            await database.close()

    return asyncio.run(work())


def register_chargers(
    db: Path, ids: Iterable[str], *, password: str, security_profile: int | None = None
) -> int:
    """Register chargers with a Basic Auth password (and a security profile); returns how
    many were new. Auto-registered chargers have no password, hence profile 0/1 only."""

    async def work() -> int:
        database = await Database.open(db)
        try:
            services = Services.build(database, CsmsConfig(db_path=db))
            created = 0
            for charger in ids:
                created += bool(
                    await services.chargers.register(
                        charger, password=password, security_profile=security_profile
                    )
                )
            return created
        finally:
            await database.close()

    return asyncio.run(work())


def raise_nofile() -> None:
    """Soft RLIMIT_NOFILE up to the hard limit (one socket per charge point)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class CsmsProcess:
    """`ocpp-bench csms serve` on 127.0.0.1, ports 0, auto-register; `url` once it listens."""

    def __init__(self, db: Path, *, heartbeat_interval: int = 60, extra: Iterable[str] = ()):
        self.db = db
        self.args = [
            sys.executable,
            "-m",
            "ocpp_bench.cli",
            "csms",
            "serve",
            "--db",
            str(db),
            "--host",
            "127.0.0.1",
            "--ocpp-port",
            "0",
            "--api-port",
            "0",
            "--auto-register",
            "--heartbeat-interval",
            str(heartbeat_interval),
            *extra,
        ]
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.api = ""
        self.tls_url = ""  # security profile 2 (with `--tls-port` in `extra`)

    def start(self, timeout: float = 30.0) -> CsmsProcess:
        self.process = subprocess.Popen(
            self.args,
            stdout=subprocess.PIPE,
            bufsize=0,  # unbuffered: select() then readline() sees every line
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            preexec_fn=raise_nofile,
        )
        lines = _read_lines(self.process, 3 if "--tls-port" in self.args else 2, timeout)
        match = re.search(r"(ws://\S+?)/<charger-id>", lines[0])
        if not match:
            self.stop()
            raise RuntimeError(f"the CSMS printed no OCPP URL: {lines!r}")
        self.url = match.group(1)
        api = re.search(r"(http://\S+?)/?$", lines[1].strip()) if len(lines) > 1 else None
        self.api = api.group(1) if api else ""
        tls = re.search(r"security profile 2 at (wss://\S+?)/<charger-id>", "".join(lines))
        self.tls_url = tls.group(1) if tls else ""
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        if self.process is not None and self.process.stdout is not None:
            self.process.stdout.close()

    def __enter__(self) -> CsmsProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _read_lines(process: subprocess.Popen[bytes], count: int, timeout: float) -> list[str]:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    lines: list[str] = []
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while len(lines) < count:
            left = deadline - time.monotonic()
            if left <= 0 or not selector.select(left):
                break
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line.decode())
    if not lines:
        raise RuntimeError(f"the CSMS printed nothing within {timeout:g} s")
    return lines
