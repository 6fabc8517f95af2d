"""Our CSMS as a child process (`ocpp-bench csms serve`), for tests, load tests and benchmarks.

with CsmsProcess(db) as csms:       # 127.0.0.1, every port chosen by the system
    connect(f"{csms.url}/CP-1")     # csms.api, csms.profile_urls[2] with --tls-port 0 ...
"""

from __future__ import annotations

import os
import re
import selectors
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

from ocppj.limits import raise_nofile

__all__ = ["CsmsProcess", "raise_nofile"]


def rss_kib(pid: int | str = "self") -> int:
    """The resident memory (KiB) of process `pid` (default: this one), from /proc."""
    status = Path(f"/proc/{pid}/status").read_text()
    found = re.search(r"VmRSS:\s+(\d+)", status)
    return int(found.group(1)) if found else 0


class CsmsProcess:
    """`ocpp-bench csms serve` on 127.0.0.1 with ports 0 and auto-registration; its URLs are
    read from the lines it prints once it listens."""

    def __init__(
        self,
        db: Path | str,
        *,
        heartbeat_interval: int = 60,
        auto_register: bool = True,
        extra: Iterable[str] = (),
    ) -> None:
        self.db = db
        self.args = [
            sys.executable, "-m", "ocpp_bench.cli", "csms", "serve", "--db", str(db),
            "--host", "127.0.0.1", "--ocpp-port", "0", "--api-port", "0",
            "--heartbeat-interval", str(heartbeat_interval),
            *(["--auto-register"] if auto_register else []),
            *extra,
        ]  # fmt: skip
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""  # ws://127.0.0.1:PORT/ocpp, profiles 0 and 1
        self.api = ""  # http://127.0.0.1:PORT
        self.profile_urls: dict[int, str] = {}  # 2 and 3, when their ports are given

    @property
    def tls_url(self) -> str:
        return self.profile_urls.get(2, "")

    def start(self, timeout: float = 30.0) -> CsmsProcess:
        self.process = subprocess.Popen(
            self.args,
            stdout=subprocess.PIPE,
            bufsize=0,  # unbuffered: select() then readline() sees every line
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            preexec_fn=raise_nofile,
        )
        tls_options = ("--tls-port", "--mtls-port", "--wss-port")
        expected = 2 + sum(option in self.args for option in (*tls_options, "--node-id"))
        text = "".join(_read_lines(self.process, expected, timeout))
        match = re.search(r"OCPP at (ws://\S+?)/<charger-id>", text)
        if not match:
            self.stop()
            raise RuntimeError(f"the CSMS printed no OCPP URL: {text!r}")
        self.url = match.group(1)
        api = re.search(r"dashboard at (http://\S+?)/?$", text, re.MULTILINE)
        self.api = api.group(1) if api else ""
        both = re.search(r"security profiles 2 and 3 at (wss://\S+?)/<charger-id>", text)
        if both:  # --wss-port; a profile's own port, printed before, wins
            self.profile_urls = {2: both.group(1), 3: both.group(1)}
        for profile, url in re.findall(r"security profile (\d) at (wss://\S+?)/<charger-id>", text):
            self.profile_urls[int(profile)] = url
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None, "not started"
        return self.process.pid

    def rss_kib(self) -> int:
        """The resident memory of the CSMS process, from /proc."""
        return rss_kib(self.pid)

    def kill(self) -> None:
        """SIGKILL: no shutdown, as a crash or a power cut would end it."""
        assert self.process is not None, "not started"
        self.process.kill()
        self.process.wait(10)

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
