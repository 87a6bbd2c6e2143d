"""Prometheus metrics under op-node's names, so dashboards and alerts written for op-node work unchanged.

One :class:`Metrics` object owns one CollectorRegistry; components receive it as an argument (tests pass a fresh
one). Names follow op-node (op-node/metrics/metrics.go, op-service/metrics/{rpc_metrics,caching}.go): namespace
``op_node_default``; ``rpc_client_*`` for every outgoing JSON-RPC or beacon request (an HTTP batch is one request
with method ``<batch>``); ``l1_request_seconds{request}`` for the L1 fetcher's calls; ``l1_source_cache_*`` for the
L1 caches. op-node's cache counters have no ``_total`` suffix; :class:`_ExactCounter` keeps those names exact.
"""

from __future__ import annotations

import threading
from collections import defaultdict

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.metrics_core import Metric

NAMESPACE = "op_node_default"
RPC_BUCKETS = (.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10)
BATCH_METHOD = "<batch>"


class _ExactCounter:
    """A labelled counter exported under exactly its name (prometheus_client would append ``_total``)."""

    def __init__(self, name: str, doc: str, labelnames: tuple[str, ...], registry: CollectorRegistry):
        self.name, self.doc, self.labelnames = name, doc, labelnames
        self._values: dict[tuple[str, ...], float] = defaultdict(float)
        self._lock = threading.Lock()
        registry.register(self)

    def inc(self, *labels: str, amount: float = 1.0) -> None:
        with self._lock:
            self._values[labels] += amount

    def value(self, *labels: str) -> float:
        return self._values.get(labels, 0.0)

    def collect(self):
        m = Metric(self.name, self.doc, "counter")
        with self._lock:
            for labels, v in self._values.items():
                m.add_sample(self.name, dict(zip(self.labelnames, labels, strict=True)), v)
        yield m

    def describe(self):
        return [Metric(self.name, self.doc, "counter")]


class CacheMetrics:
    """``<ns>_<name>_size{type}``, ``_get{type,hit}``, ``_add{type,evicted}`` for one family of caches."""

    def __init__(self, registry: CollectorRegistry, namespace: str, name: str, display: str):
        self.size = Gauge(f"{name}_size", f"{display} cache size", ["type"], namespace=namespace, registry=registry)
        self.get = _ExactCounter(f"{namespace}_{name}_get", f"{display} lookups, hitting or not", ("type", "hit"),
                                 registry)
        self.add = _ExactCounter(f"{namespace}_{name}_add", f"{display} additions, evicting previous values or not",
                                 ("type", "evicted"), registry)

    def cache_add(self, type_label: str, size: int, evicted: bool) -> None:
        self.size.labels(type_label).set(size)
        self.add.inc(type_label, "true" if evicted else "false")

    def cache_get(self, type_label: str, hit: bool) -> None:
        self.get.inc(type_label, "true" if hit else "false")


class Metrics:
    """The node's metrics registry. Later components add their metrics here."""

    def __init__(self, namespace: str = NAMESPACE, registry: CollectorRegistry | None = None):
        self.namespace = namespace
        self.registry = registry if registry is not None else CollectorRegistry()
        r, ns = self.registry, namespace
        self.rpc_client_requests = Counter("rpc_client_requests", "Total RPC requests initiated by the opnode's RPC "
                                           "client", ["method"], namespace=ns, registry=r)
        self.rpc_client_request_duration = Histogram("rpc_client_request_duration_seconds",
                                                     "Histogram of RPC client request durations", ["method"],
                                                     namespace=ns, registry=r, buckets=RPC_BUCKETS)
        self.rpc_client_responses = Counter("rpc_client_responses", "Total RPC request responses received by the "
                                            "opnode's RPC client", ["method", "error"], namespace=ns, registry=r)
        self.l1_request_seconds = Histogram("l1_request_seconds", "Histogram of L1 request time",
                                            ["request"], namespace=ns, registry=r)
        self.l1_source_cache = CacheMetrics(r, ns, "l1_source_cache", "L1 Source cache")

    def record_rpc_client(self, method: str, seconds: float, error: str | None) -> None:
        """One outgoing request and its outcome. ``error`` uses op-node's labels: ``rpc_<code>``, ``http_<status>``,
        ``<not found>`` or ``<unknown>``; None means success (``<nil>``)."""
        self.rpc_client_requests.labels(method).inc()
        self.rpc_client_request_duration.labels(method).observe(seconds)
        self.rpc_client_responses.labels(method, error or "<nil>").inc()

    def record_l1_request(self, request: str, seconds: float) -> None:
        self.l1_request_seconds.labels(request).observe(seconds)

    def sample(self, name: str, labels: dict[str, str] | None = None) -> float | None:
        """The current value of one sample (tests and the bench read metrics through this)."""
        return self.registry.get_sample_value(name, labels or {})

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
