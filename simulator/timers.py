"""Named background work of a charge point (a connection timeout, a sampling loop, a
reservation's expiry): each name runs at most once, a new start replaces the old."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

__all__ = ["Timers"]

Spawn = Callable[[Coroutine[Any, Any, Any], str], asyncio.Task[Any]]


class Timers:
    """Tasks by name, spawned as the charge point's own (so close() cancels them)."""

    __slots__ = ("_spawn", "_tasks")

    def __init__(self, spawn: Spawn) -> None:
        self._spawn = spawn
        self._tasks: dict[str, asyncio.Task[Any]] | None = None  # most charge points: none

    def start(self, key: str, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` as `key`, cancelling what ran under that name."""
        self.cancel(key)
        if self._tasks is None:
            self._tasks = {}
        self._tasks[key] = self._spawn(work, key)

    def cancel(self, key: str) -> None:
        """Stop `key` (unless it is the task asking)."""
        task = self._tasks.pop(key, None) if self._tasks else None
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    def running(self, key: str) -> bool:
        task = self._tasks.get(key) if self._tasks else None
        return task is not None and not task.done()
