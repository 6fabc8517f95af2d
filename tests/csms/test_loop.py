"""`csms serve` picks its event loop: uvloop when installed, asyncio's on request."""

from __future__ import annotations

import asyncio

import pytest

from csms.loop import run


async def _loop_module() -> str:
    return type(asyncio.get_running_loop()).__module__


def test_auto_takes_uvloop_when_installed() -> None:
    assert run(_loop_module()).startswith("uvloop")


def test_asyncio_on_request() -> None:
    assert run(_loop_module(), "asyncio").startswith("asyncio")


def test_an_unknown_loop_is_refused() -> None:
    coroutine = _loop_module()
    with pytest.raises(ValueError, match="loop must be one of"):
        run(coroutine, "trio")
    coroutine.close()
