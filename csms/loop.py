"""The event loop a CSMS process runs on: uvloop where it is installed, else asyncio's."""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
CHOICES = ("auto", "uvloop", "asyncio")


def run(main: Coroutine[Any, Any, T], loop: str = "auto") -> T:
    """`asyncio.run(main)` on the chosen loop; "auto" takes uvloop when it can be imported."""
    if loop not in CHOICES:
        raise ValueError(f"loop must be one of {CHOICES}, not {loop!r}")
    if loop == "uvloop" or (loop == "auto" and importlib.util.find_spec("uvloop")):
        import uvloop

        return uvloop.run(main)
    return asyncio.run(main)
