"""The open-file limit, raised in a child process so this one's stays as it was."""

from __future__ import annotations

import resource
import subprocess
import sys

PROGRAM = """
import resource
from ocppj.limits import raise_nofile
now = raise_nofile()
print(now, resource.getrlimit(resource.RLIMIT_NOFILE)[0])
"""


def _run_with(soft: int, hard: int) -> tuple[int, int]:
    def lower() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

    out = subprocess.run(
        [sys.executable, "-c", PROGRAM], preexec_fn=lower, capture_output=True, text=True,
        check=True, timeout=30,
    ).stdout.split()  # fmt: skip
    return int(out[0]), int(out[1])


def test_the_soft_limit_is_lifted_to_the_hard_one() -> None:
    hard = min(resource.getrlimit(resource.RLIMIT_NOFILE)[1], 4096)
    assert _run_with(256, hard) == (hard, hard)


def test_a_soft_limit_at_the_hard_one_stays() -> None:
    assert _run_with(300, 300) == (300, 300)
