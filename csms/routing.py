"""Calls from any node of a cluster to a charger another node holds.

The node asked (by its API, or a script's `CsmsApp.call`) writes the call as a row and
NOTIFYs the owner; the owner sends it on its socket, the one place where OCPP-J's
one-CALL-at-a-time rule for the charger is kept, and writes back the answer or the error,
which the asking node raises as if the charger were its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from typing import Any

import psycopg

from ocppj import CallErrorReceived, CallTimeout, ConnectionLost, InvalidResponse, OcppError
from ocppj.errors import ERROR_CLASSES, GenericError

from .connections import ConnectionRegistry
from .operations import ChargerNotConnected
from .services import Row
from .store.cluster import ClusterStore

log = logging.getLogger(__name__)

Payload = dict[str, Any]
MARGIN = 2.0  # seconds the asking node waits beyond the call's timeout, for the routing


class Router:
    def __init__(self, members: ClusterStore, registry: ConnectionRegistry, node_id: str) -> None:
        self.members = members
        self.registry = registry
        self.node_id = node_id
        self.forwarded = 0  # calls this node sent through another
        self.served = 0  # calls this node sent for another
        self._waiting: dict[str, asyncio.Future[None]] = {}
        self._serving: set[asyncio.Task[None]] = set()

    async def subprotocol(self, charger_id: str) -> str | None:
        """The version the charger speaks on the node holding it; None: no node does."""
        owner = await self.members.owner(charger_id)
        return None if owner is None else owner["subprotocol"]

    async def forward(
        self, charger_id: str, action: str, payload: Payload, timeout: float
    ) -> Payload:
        """Send the call through the node holding the charger and return its answer."""
        owner = await self.members.owner(charger_id)
        if owner is None or owner["node_id"] == self.node_id:
            raise ChargerNotConnected(charger_id)
        call_id = uuid.uuid4().hex
        answered = self._waiting[call_id] = asyncio.get_running_loop().create_future()
        try:
            await self.members.send_call(
                call_id, self.node_id, owner["node_id"], charger_id, action,
                json.dumps(payload), timeout,
            )  # fmt: skip
            self.forwarded += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(answered, timeout + MARGIN)
        finally:
            del self._waiting[call_id]
            answer = await self.members.take_answer(call_id)
        if answer is None:
            raise CallTimeout(action, timeout)
        return decode(json.loads(answer), action)

    def notice(self, kind: str, call_id: str) -> None:
        """A call for this node to send, or the answer to one it forwarded, is there."""
        if kind == "answer":
            waiting = self._waiting.get(call_id)
            if waiting is not None and not waiting.done():
                waiting.set_result(None)
            return
        task = asyncio.create_task(self._serve(call_id), name=f"cluster-call-{call_id}")
        self._serving.add(task)
        task.add_done_callback(self._serving.discard)

    async def _serve(self, call_id: str) -> None:
        try:
            call = await self.members.call(call_id)
            if call is None:  # already answered, or its origin gave up
                return
            self.served += 1
            answer = await self._send(call)
            await self.members.answer(call_id, call["origin"], json.dumps(answer))
        except psycopg.Error as exc:  # the asking node times out
            log.warning("cluster: call %s for another node not served: %s", call_id, exc)

    async def _send(self, call: Row) -> Payload:
        try:
            connection = self.registry.get(call["charger_id"])
            if connection is None:
                raise ChargerNotConnected(call["charger_id"])
            payload = json.loads(call["payload"])
            timeout = float(call["timeout"])
            return {"result": await connection.call(call["action"], payload, timeout)}
        except Exception as exc:  # noqa: BLE001 (every error goes back to the caller)
            return {"error": encode(exc)}

    async def stop(self) -> None:
        for task in list(self._serving):
            task.cancel()
        await asyncio.gather(*self._serving, return_exceptions=True)


def encode(exc: Exception) -> Payload:
    """An error of a call, as JSON that `decode` raises again on the asking node."""
    if isinstance(exc, CallErrorReceived):
        return {"kind": "CallError", "code": exc.code, "description": exc.description,
                "details": exc.details}  # fmt: skip
    if isinstance(exc, InvalidResponse):
        return {"kind": "InvalidResponse", "code": exc.error.code,
                "description": exc.error.description, "payload": exc.payload}  # fmt: skip
    if isinstance(exc, OcppError):
        return {"kind": "OcppError", "code": exc.code, "description": exc.description,
                "details": exc.details}  # fmt: skip
    if isinstance(exc, CallTimeout):
        return {"kind": "CallTimeout", "timeout": exc.timeout}
    if isinstance(exc, ConnectionLost):
        return {"kind": "ConnectionLost", "description": str(exc)}
    if isinstance(exc, ChargerNotConnected):
        return {"kind": "ChargerNotConnected", "charger_id": exc.charger_id}
    log.exception("cluster: a call for another node failed", exc_info=exc)
    return {"kind": "Internal", "description": f"{type(exc).__name__}: {exc}"}


def decode(answer: Payload, action: str) -> Payload:
    """The charger's result, or the error the owner met, raised."""
    if "result" in answer:
        result: Payload = answer["result"]
        return result
    error = answer["error"]
    kind = error["kind"]
    if kind == "CallError":
        raise CallErrorReceived(action, error["code"], error["description"], error["details"])
    if kind in ("InvalidResponse", "OcppError"):
        cls = ERROR_CLASSES.get(error["code"], GenericError)
        details = error.get("details") or {}
        ocpp_error = cls(error["description"], details)
        if kind == "OcppError":
            raise ocpp_error
        raise InvalidResponse(action, ocpp_error, error["payload"])
    if kind == "CallTimeout":
        raise CallTimeout(action, float(error["timeout"]))
    if kind == "ConnectionLost":
        raise ConnectionLost(error["description"])
    if kind == "ChargerNotConnected":
        raise ChargerNotConnected(error["charger_id"])
    raise RuntimeError(f"the node holding the charger failed: {error['description']}")
