"""A third-party-style central system, written with the `ocpp` library as its examples are.

It routes `ws://host/ws/ocpp/<id>/`, with the trailing slash (any other path gets HTTP 404),
accepts every boot, and answers only the actions it implements: every other action gets
CALLERROR NotImplemented, as the library does for an action without a handler. It runs on an
event-loop thread of its own (the boot-only CSMS's), so async tests and tests of subprocesses
(the CLI, Locust) can use it alike; what it saw is read under a lock, and waited for on a
condition.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from ocpp.routing import on
from ocpp.v16 import ChargePoint, call_result
from ocpp.v16.enums import Action, RegistrationStatus
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response

from tests.scenarios.boot_only import BootOnlyCsms

ROUTE = re.compile(r"^/ws/ocpp/([^/]+)/$")


class _Peer(ChargePoint):  # type: ignore[misc]
    csms: ForeignCsms

    async def route_message(self, raw_msg: str) -> None:
        self.csms._record(self.id, raw_msg)
        await super().route_message(raw_msg)

    @on(Action.boot_notification)  # type: ignore[misc]
    def on_boot(self, **_: Any) -> call_result.BootNotification:
        return call_result.BootNotification(
            current_time=datetime.now(UTC).isoformat(),
            interval=self.csms.interval,
            status=RegistrationStatus.accepted,
        )

    @on(Action.heartbeat)  # type: ignore[misc]
    def on_heartbeat(self) -> call_result.Heartbeat:
        return call_result.Heartbeat(current_time=datetime.now(UTC).isoformat())

    @on(Action.status_notification)  # type: ignore[misc]
    def on_status(self, **_: Any) -> call_result.StatusNotification:
        return call_result.StatusNotification()


class ForeignCsms(BootOnlyCsms):
    """`with ForeignCsms(implements=[...]) as csms:` then connect to `csms.template`
    (`ws://127.0.0.1:PORT/ws/ocpp/{id}/`). BootNotification is always implemented; of
    Heartbeat and StatusNotification, those in `implements`; `interval` is the boot answer's.
    Its event-loop thread is the boot-only CSMS's."""

    def __init__(self, implements: Iterable[str] = (), interval: int = 10) -> None:
        super().__init__()
        self.implemented = {"BootNotification", *implements}
        self.interval = interval
        self.connections: list[str] = []  # identity per accepted WebSocket
        self.closed: list[str] = []  # identity per WebSocket that ended
        self.paths: list[str] = []  # every path asked for, routed or not
        self.calls: list[tuple[str, str]] = []  # (identity, action) per CALL received
        self._seen = threading.Condition()

    @property
    def template(self) -> str:
        return f"{self.url}/ws/ocpp/{{id}}/"

    async def _start(self) -> Server:
        def route(connection: ServerConnection, request: Request) -> Response | None:
            with self._seen:
                self.paths.append(request.path)
                self._seen.notify_all()
            if ROUTE.match(request.path) is None:
                return connection.respond(HTTPStatus.NOT_FOUND, "No such route\n")
            return None

        return await serve(
            self._serve,
            "127.0.0.1",
            0,
            subprotocols=["ocpp1.6"],  # type: ignore[list-item]
            process_request=route,
        )

    async def _serve(self, websocket: ServerConnection) -> None:
        found = ROUTE.match(websocket.request.path if websocket.request else "")
        assert found is not None
        peer = _Peer(found.group(1), websocket)
        peer.csms = self
        for action in list(peer.route_map):
            if action not in self.implemented:
                del peer.route_map[action]  # answered NotImplemented by the library
        with self._seen:
            self.connections.append(peer.id)
            self._seen.notify_all()
        try:
            await peer.start()
        except Exception:  # noqa: BLE001 - the library ends start() by raising on close
            pass
        finally:
            with self._seen:
                self.closed.append(peer.id)
                self._seen.notify_all()

    def _record(self, identity: str, raw: str) -> None:
        found = re.match(r'\s*\[\s*2\s*,\s*"[^"]*"\s*,\s*"([^"]+)"', raw)
        if found:
            with self._seen:
                self.calls.append((identity, found.group(1)))
                self._seen.notify_all()

    def count(self, identity: str, action: str) -> int:
        with self._seen:
            return self.calls.count((identity, action))

    def wait(self, check: Callable[[ForeignCsms], bool], timeout: float, what: str) -> None:
        """Block until `check(self)` holds; fail loudly after `timeout` seconds."""
        with self._seen:
            if not self._seen.wait_for(lambda: check(self), timeout):
                raise AssertionError(
                    f"not within {timeout} s: {what}; connections {self.connections}, "
                    f"paths {self.paths[-5:]}, calls {self.calls[-8:]}"
                )

    async def until(self, check: Callable[[ForeignCsms], bool], timeout: float, what: str) -> None:
        """`wait`, from a coroutine (the waiting happens on a thread)."""
        await asyncio.to_thread(self.wait, check, timeout, what)
