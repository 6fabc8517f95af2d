"""Run asyncio charge points under Locust's gevent: one real event-loop thread per process.

Locust monkey-patches the standard library for gevent. The simulator is asyncio, so it runs on
a dedicated OS thread (started with the unpatched `_thread`) with an event loop over the
unpatched selector. Traffic between the two sides:

- gevent -> asyncio: `asyncio.run_coroutine_threadsafe` (thread-safe by design).
- asyncio -> gevent: callables appended to a deque (appends are atomic) plus one libev `async`
  watcher, whose `send()` is safe from any thread, waking the hub. One greenlet drains the deque:
  it settles the `AsyncResult`s greenlets wait on and fires Locust's `events.request`.

No greenlet polls and none blocks the hub: a greenlet waiting for a coroutine sleeps on an
`AsyncResult` until the watcher wakes the drain greenlet. One bridge per process, created on
first use, so `--processes N` (which forks after loading the locustfile) gets one per worker.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import logging
import os
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import gevent
import gevent.event
from gevent import monkey

_start_thread = monkey.get_original("_thread", "start_new_thread")
_Selector = monkey.get_original("selectors", "DefaultSelector")
_Lock = monkey.get_original("threading", "Lock")

log = logging.getLogger("loadtests.bridge")
STOP_TIMEOUT_S = 10.0
T = TypeVar("T")

__all__ = ["AsyncioBridge", "BridgeTimeout"]


class BridgeTimeout(TimeoutError):
    """A coroutine handed to the asyncio thread did not finish in time (it was cancelled)."""


class AsyncioBridge:
    """The process's asyncio thread and the channel of results back to gevent."""

    _instance: AsyncioBridge | None = None
    _pid: int | None = None
    _create_lock = threading.Lock()  # patched: a gevent lock; creation happens on the hub side

    def __init__(self) -> None:
        self.loop = asyncio.SelectorEventLoop(_Selector())
        self._to_gevent: collections.deque[Callable[[], None]] = collections.deque()
        self._hub = gevent.get_hub()
        self._watcher = self._hub.loop.async_()
        self._wake = gevent.event.Event()
        self._watcher.start(self._wake.set)
        self._drainer = gevent.spawn(self._drain)
        started = _Lock()
        started.acquire()
        self._thread_started = started
        self._thread_done = _Lock()
        self._thread_done.acquire()
        _start_thread(self._run, ())
        # The thread releases the lock as soon as the loop runs; a real lock, held only
        # for the thread's start-up (microseconds), so blocking the hub here is harmless.
        started.acquire()

    @classmethod
    def get(cls) -> AsyncioBridge:
        """This process's bridge (a fresh one in a forked child)."""
        pid = os.getpid()
        if cls._instance is None or cls._pid != pid:
            with cls._create_lock:
                if cls._instance is None or cls._pid != pid:
                    cls._instance, cls._pid = cls(), pid
        return cls._instance

    @classmethod
    def shutdown(cls) -> None:
        """Stop this process's bridge, if it has one (Locust is quitting): the loop thread must
        not outlive the interpreter's finalization."""
        if cls._instance is not None and cls._pid == os.getpid():
            cls._instance.stop()

    # -- the asyncio thread ------------------------------------------------------------------

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(self._thread_started.release)
        try:
            self.loop.run_forever()
            pending = asyncio.all_tasks(self.loop)
            for task in pending:
                task.cancel()
            if pending:
                self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        finally:
            self.loop.close()
            self._thread_done.release()

    def submit(self, work: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule `work` on the asyncio thread (from any thread)."""
        return asyncio.run_coroutine_threadsafe(work, self.loop)

    def to_gevent(self, callback: Callable[[], None]) -> None:
        """Run `callback` in the drain greenlet (call from the asyncio thread)."""
        self._to_gevent.append(callback)
        self._watcher.send()

    # -- the gevent side ---------------------------------------------------------------------

    def run(self, work: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run `work` on the asyncio thread; the calling greenlet sleeps until it is done.

        On `timeout` (or when the greenlet is killed) the coroutine is cancelled.
        """
        result: gevent.event.AsyncResult = gevent.event.AsyncResult()
        future = self.submit(work)

        def settle(done: concurrent.futures.Future[T]) -> None:
            self.to_gevent(lambda: _copy(done, result))

        future.add_done_callback(settle)
        try:
            result.wait(timeout)
        finally:
            if not future.done():
                future.cancel()
        if not result.ready():
            raise BridgeTimeout(f"no result within {timeout:g} s")
        return result.get(block=False)  # type: ignore[no-any-return]

    def _drain(self) -> None:
        """Greenlet body: run the callbacks the asyncio thread queued, forever."""
        pending = self._to_gevent
        while True:
            self._wake.wait()
            self._wake.clear()
            while pending:
                callback = pending.popleft()
                try:
                    callback()
                except Exception:  # a listener's bug must not stop the channel
                    log.exception("bridge callback failed")

    def stop(self) -> None:
        """Stop and close the loop, cancelling what still runs on it (tests; in Locust the
        process exits with it)."""
        self.loop.call_soon_threadsafe(self.loop.stop)
        if not self._thread_done.acquire(timeout=STOP_TIMEOUT_S):  # a real lock: blocks the hub
            log.warning("the asyncio thread did not stop within %g s", STOP_TIMEOUT_S)
        self._drainer.kill(block=False)
        self._watcher.stop()
        self._watcher.close()
        if type(self)._instance is self:
            type(self)._instance = None


def _copy(done: concurrent.futures.Future[Any], into: gevent.event.AsyncResult) -> None:
    if done.cancelled():
        into.set_exception(BridgeTimeout("cancelled"))
        return
    error = done.exception()
    if error is not None:
        into.set_exception(error)
    else:
        into.set(done.result())
