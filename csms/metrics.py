"""Prometheus metrics of the CSMS, fed by every frame of every connection.

One `CollectorRegistry` per CSMS, so several CSMS instances (tests) can share a process.
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from ocppj import Call, CallError, Frame

from .connections import ConnectionRegistry

_TYPE_NAMES = {2: "CALL", 3: "CALLRESULT", 4: "CALLERROR"}
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
_MAX_OPEN = 10_000  # open CALLs tracked for latency; beyond that (lost answers) start afresh

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    def __init__(self, connections: ConnectionRegistry) -> None:
        self.registry = CollectorRegistry()
        Gauge(
            "ocpp_connected_chargers",
            "Charge points connected now",
            registry=self.registry,
        ).set_function(lambda: len(connections))
        self.messages = Counter(
            "ocpp_messages",
            "OCPP-J frames by action, direction (in: from chargers) and message type",
            ["action", "direction", "type"],
            registry=self.registry,
        )
        self.errors = Counter(
            "ocpp_errors",
            "CALLERROR frames by error code and direction",
            ["code", "direction"],
            registry=self.registry,
        )
        self.handler_latency = Histogram(
            "ocpp_handler_seconds",
            "Time the CSMS took to answer a charger's CALL, by action",
            ["action"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.call_latency = Histogram(
            "ocpp_call_seconds",
            "Time a charger took to answer a CSMS-initiated CALL, by action",
            ["action"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.refused_handshakes = Counter(
            "ocpp_handshakes_refused",
            "WebSocket handshakes refused, by reason: subprotocol (none we speak offered,"
            " closed with 1002), bad_request, credentials, forbidden, unknown_charger, throttled",
            ["reason"],
            registry=self.registry,
        )
        self._open: dict[tuple[str, str, str], float] = {}
        connections.observers.append(self.observe)

    def refused(self, reason: str) -> None:
        """Count a refused handshake (`OcppServer.on_refused`)."""
        self.refused_handshakes.labels(reason).inc()

    def observe(
        self, charger_id: str, direction: str, frame: Frame | None, action: str | None
    ) -> None:
        kind = _TYPE_NAMES.get(frame.type_id, "unreadable") if frame else "unreadable"
        self.messages.labels(action or "", direction, kind).inc()
        if frame is None:
            return
        if isinstance(frame, CallError):
            self.errors.labels(frame.code, direction).inc()
        if isinstance(frame, Call):
            if len(self._open) >= _MAX_OPEN:
                self._open.clear()
            self._open[(charger_id, direction, frame.message_id)] = time.perf_counter()
            return
        asked = "out" if direction == "in" else "in"
        started = self._open.pop((charger_id, asked, frame.message_id), None)
        if started is None or action is None:
            return
        histogram = self.handler_latency if direction == "out" else self.call_latency
        histogram.labels(action).observe(time.perf_counter() - started)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
