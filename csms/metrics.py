"""Prometheus metrics of the CSMS, fed by every frame of every connection.

One `CollectorRegistry` per CSMS, so several CSMS instances (tests) can share a process.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from ocppj import Call, CallError, Frame

from .connections import ConnectionRegistry

if TYPE_CHECKING:
    from .cluster import Cluster

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

    def watch(self, cluster: Cluster) -> None:
        """Add this node's part in its cluster, and the cluster's nodes as last read."""
        self.registry.register(_ClusterCollector(cluster))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class _ClusterCollector(Collector):
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster

    def collect(self) -> Iterator[GaugeMetricFamily]:
        cluster = self.cluster
        yield GaugeMetricFamily(
            "ocpp_cluster_leader", "1 while this node leads its cluster", int(cluster.leader)
        )
        router = cluster.router
        yield GaugeMetricFamily(
            "ocpp_cluster_calls_forwarded",
            "Calls this node sent through the node holding the charger",
            router.forwarded,
        )
        yield GaugeMetricFamily(
            "ocpp_cluster_calls_served",
            "Calls this node sent to its chargers for another node",
            router.served,
        )
        nodes = GaugeMetricFamily(
            "ocpp_cluster_node_chargers",
            "Chargers each live node of the cluster holds, as last read",
            labels=["node"],
        )
        for node in cluster.view:
            nodes.add_metric([node["nodeId"]], node["chargers"])
        yield nodes
