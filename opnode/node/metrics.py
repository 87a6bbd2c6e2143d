"""Prometheus metrics under op-node's names, so dashboards and alerts written for op-node work unchanged.

One :class:`Metrics` object owns one CollectorRegistry; components receive it as an argument (tests pass a fresh
one). Names follow op-node (op-node/metrics/metrics.go, op-service/metrics/{rpc_metrics,caching}.go at
okx/optimism@7573e762, 2026-06-30): namespace ``op_node_default``; ``rpc_client_*{rpc,method}`` for every outgoing
JSON-RPC or beacon request (an HTTP batch is one request with method ``<batch>``), ``rpc`` naming the client as
op-node's recorders do: ``l1``, ``engine-api`` (Engine API and the engine's eth namespace), ``follow-source-api``,
plus ``beacon`` (op-node does not meter its beacon client); ``rpc_server_*{rpc="main",method}``;
``l1_request_seconds{request}`` for the L1 fetcher's calls; ``l1_source_cache_*`` for the L1 caches. op-node's cache counters have no ``_total`` suffix; :class:`_ExactCounter` keeps those names exact.
The node's own surfaces (``info``, ``up``, ``refs_*{layer,type}``, derivation events, ``rpc_server_*``) and the
``/metrics`` server (:meth:`Metrics.serve`, hypercorn in the node's trio nursery) are in the last block of the class.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.metrics_core import Metric

NAMESPACE = "op_node_default"
RPC_BUCKETS = (.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10)
PEER_SCORE_BUCKETS = (-100, -40, -20, -10, -5, -2, -1, -0.5, -0.05, 0, 0.05, 0.5, 1, 2, 5, 10, 20, 40)  # op-node


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


class _Event:
    """op-service ``metrics.Event``/``EventVec``: ``<name>_total`` and ``last_<name>_unix`` (optionally labelled)."""

    def __init__(self, registry: CollectorRegistry, ns: str, name: str, display: str, labels: tuple[str, ...] = ()):
        self.total = Counter(name, f"Count of {display} events", list(labels), namespace=ns, registry=registry)
        self.last = Gauge(f"last_{name}_unix", f"Timestamp of last {display} event", list(labels), namespace=ns,
                          registry=registry)

    def record(self, *labels: str, amount: float = 1.0) -> None:
        total, last = (self.total.labels(*labels), self.last.labels(*labels)) if labels else (self.total, self.last)
        total.inc(amount)
        last.set(time.time())


class RpcClientMetrics:
    """One named client's view of :meth:`Metrics.record_rpc_client` (the ``rpc`` label fixed)."""

    def __init__(self, metrics: Metrics, rpc: str):
        self.metrics, self.rpc = metrics, rpc

    def record_rpc_client(self, method: str, seconds: float, error: str | None) -> None:
        self.metrics.record_rpc_client(self.rpc, method, seconds, error)


class Metrics:
    """The node's metrics registry. Later components add their metrics here."""

    def __init__(self, namespace: str = NAMESPACE, registry: CollectorRegistry | None = None):
        self.namespace = namespace
        self.registry = registry if registry is not None else CollectorRegistry()
        r, ns = self.registry, namespace
        self.rpc_client_requests = Counter("rpc_client_requests", "Total RPC requests initiated", ["rpc", "method"],
                                           namespace=ns, registry=r)
        self.rpc_client_request_duration = Histogram("rpc_client_request_duration_seconds",
                                                     "Histogram of RPC client request durations", ["rpc", "method"],
                                                     namespace=ns, registry=r, buckets=RPC_BUCKETS)
        self.rpc_client_responses = Counter("rpc_client_responses", "Total RPC request responses received",
                                            ["rpc", "method", "error"], namespace=ns, registry=r)
        self.l1_request_seconds = Histogram("l1_request_seconds", "Histogram of L1 request time",
                                            ["request"], namespace=ns, registry=r)
        self.l1_source_cache = CacheMetrics(r, ns, "l1_source_cache", "L1 Source cache")
        self._init_node_surfaces()
        self._init_p2p()

    def record_rpc_client(self, rpc: str, method: str, seconds: float, error: str | None) -> None:
        """One outgoing request of client ``rpc`` and its outcome. ``error`` uses op-node's labels: ``rpc_<code>``,
        ``http_<status>``, ``<not found>`` or ``<unknown>``; None means success (``<nil>``)."""
        self.rpc_client_requests.labels(rpc, method).inc()
        self.rpc_client_request_duration.labels(rpc, method).observe(seconds)
        self.rpc_client_responses.labels(rpc, method, error or "<nil>").inc()

    def rpc_client(self, rpc: str) -> RpcClientMetrics:
        """The metrics sink of one JSON-RPC client (:class:`opnode.jsonrpc.client.MetricsSink`), op-node's
        ``RPCMetrics.NewRecorder(rpc)``."""
        return RpcClientMetrics(self, rpc)

    def record_l1_request(self, request: str, seconds: float) -> None:
        self.l1_request_seconds.labels(request).observe(seconds)

    def sample(self, name: str, labels: dict[str, str] | None = None) -> float | None:
        """The current value of one sample (tests and the bench read metrics through this)."""
        return self.registry.get_sample_value(name, labels or {})

    def exposition(self) -> bytes:
        """The text format. prometheus_client names a counter family ``<name>_total`` in ``# HELP``/``# TYPE``;
        op-node's counters without the suffix (:class:`_ExactCounter`) get their own name there, as Go's client
        writes them, so the metadata names the samples that follow."""
        text = generate_latest(self.registry)
        for c in list(self.registry._collector_to_names):
            if isinstance(c, _ExactCounter):
                for kind in (b"HELP", b"TYPE"):
                    text = text.replace(b"# %s %s_total " % (kind, c.name.encode()), b"# %s %s " % (kind,
                                                                                                 c.name.encode()))
        return text

    # ------------------------------------------------------------------------------------------------------------
    # Node surfaces: info/up, refs, derivation, unsafe payloads, RPC server, and the /metrics server
    # (op-node/metrics/metrics.go, op-service/metrics/{ref_metrics,rpc_metrics,event}.go).

    def _init_node_surfaces(self) -> None:
        r, ns = self.registry, self.namespace
        ProcessCollector(registry=r)
        self.info = Gauge("info", "Pseudo-metric tracking version and config info", ["version"], namespace=ns,
                          registry=r)
        self.up = Gauge("up", "1 if the op node has finished starting up", namespace=ns, registry=r)
        rl = ["layer", "type"]
        self.refs_number = Gauge("refs_number", "Gauge representing the different L1/L2 reference block numbers", rl,
                                 namespace=ns, registry=r)
        self.refs_time = Gauge("refs_time", "Gauge representing the different L1/L2 reference block timestamps", rl,
                               namespace=ns, registry=r)
        self.refs_hash = Gauge("refs_hash", "Gauge representing the different L1/L2 reference block hashes truncated "
                               "to float values", rl, namespace=ns, registry=r)
        self.refs_seqnr = Gauge("refs_seqnr", "Gauge representing the different L2 reference sequence numbers",
                                ["type"], namespace=ns, registry=r)
        self.refs_latency = Gauge("refs_latency", "Gauge representing the different L1/L2 reference block timestamps "
                                  "minus current time, in seconds", rl, namespace=ns, registry=r)
        self._latency_seen: dict[str, bytes] = {}
        self.derivation_idle = Gauge("derivation_idle", "1 if the derivation pipeline is idle", namespace=ns,
                                     registry=r)
        self.pipeline_resets = _Event(r, ns, "pipeline_resets", "derivation pipeline resets")
        self.unsafe_payloads = _Event(r, ns, "unsafe_payloads", "unsafe payloads")
        self.derivation_errors = _Event(r, ns, "derivation_errors", "derivation errors")
        self.derived_batches = _Event(r, ns, "derived_batches", "derived batches", ("type",))
        self.head_channel = _Event(r, ns, "head_channel", "New channel at the front of the channel bank")
        self.channel_timeout = _Event(r, ns, "channel_timeout", "Channel has timed out")
        self.frame_added = _Event(r, ns, "frame_added", "New frame ingested in the channel bank")
        self.channel_input_bytes = _ExactCounter(f"{ns}_channel_input_bytes", "Number of compressed bytes added to "
                                                 "the channel", (), r)
        self.channel_input_bytes.inc(amount=0.0)  # unlabelled: exported from the start, as op-node's
        self.derivation_drops = Counter("derivation_drops", "Frames, channels and batches dropped by derivation, by "
                                        "reason", ["what", "reason"], namespace=ns, registry=r)
        self.unsafe_payloads_buffer_len = Gauge("unsafe_payloads_buffer_len", "Number of buffered L2 unsafe payloads",
                                                namespace=ns, registry=r)
        self.unsafe_payloads_buffer_mem_size = Gauge("unsafe_payloads_buffer_mem_size", "Total estimated memory size "
                                                     "of buffered L2 unsafe payloads", namespace=ns, registry=r)
        self.follow_source_requests = Counter("follow_source_requests", "Follow-source polls by result",
                                              ["result"], namespace=ns, registry=r)
        self.rpc_server_requests = Counter("rpc_server_requests", "Total requests to the RPC server",
                                           ["rpc", "method"], namespace=ns, registry=r)
        self.rpc_server_request_duration = Histogram("rpc_server_request_duration_seconds",
                                                     "Histogram of RPC server request durations", ["rpc", "method"],
                                                     namespace=ns, registry=r, buckets=RPC_BUCKETS)
        self.l1_reorg_depth = Histogram("l1_reorg_depth", "Histogram of L1 Reorg Depths", namespace=ns, registry=r,
                                        buckets=(0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5, 10.5, 20.5, 50.5,
                                                 100.5))
        # the sequencer (op-node/metrics/metrics.go; sequencing/sequencer.go records them)
        self.sequencer_building_diff = Histogram("sequencer_building_diff_seconds", "Histogram of Sequencer building "
                                                 "time, minus block time", namespace=ns, registry=r,
                                                 buckets=(-10, -5, -2.5, -1, -.5, -.25, -.1, -0.05, -0.025, -0.01,
                                                          -0.005, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))
        self.sequencer_building_diff_total = Counter("sequencer_building_diff", "Number of sequencer block "
                                                     "building jobs", namespace=ns, registry=r)
        self.sequencer_sealing = Histogram("sequencer_sealing_seconds", "Histogram of Sequencer block sealing time",
                                           namespace=ns, registry=r, buckets=RPC_BUCKETS)
        self.sequencer_sealing_total = Counter("sequencer_sealing", "Number of sequencer block sealing jobs",
                                               namespace=ns, registry=r)
        self.transactions_sequenced = Counter("transactions_sequenced", "Count of total transactions sequenced",
                                              ["type"], namespace=ns, registry=r)
        self.sequencing_errors = _Event(r, ns, "sequencing_errors", "sequencing errors")

    def record_info(self, version: str) -> None:
        self.info.labels(version).set(1)

    def record_up(self) -> None:
        self.up.set(1)

    def record_ref(self, layer: str, name: str, number: int, timestamp: int, block_hash: bytes) -> None:
        """op-service ``RecordRef``: the latency is metered once per new hash of a ref name; the hash gauge holds
        the first 8 bytes as a little-endian integer, so divergences show on a graph."""
        self.refs_number.labels(layer, name).set(number)
        if timestamp:
            self.refs_time.labels(layer, name).set(timestamp)
            if self._latency_seen.get(name) != block_hash:
                self._latency_seen[name] = block_hash
                self.refs_latency.labels(layer, name).set(timestamp - time.time())
        self.refs_hash.labels(layer, name).set(float(int.from_bytes(bytes(block_hash[:8]), "little")))

    def record_l1_ref(self, name: str, ref) -> None:
        """``name``: ``l1_head``, ``l1_safe``, ``l1_finalized``, ``l1_derived``."""
        self.record_ref("l1", name, ref.number, ref.time, ref.hash)

    def record_l2_ref(self, name: str, ref) -> None:
        """``name``: ``l2_unsafe``, ``l2_safe``, ``l2_local_safe``, ``l2_pending_safe``, ``l2_finalized``,
        ``l2_cross_unsafe``, ``l2_backup_unsafe``; the ref's L1 origin goes under ``layer="l1_origin"``."""
        self.record_ref("l2", name, ref.number, ref.time, ref.hash)
        self.record_ref("l1_origin", name, ref.l1_origin.number, 0, ref.l1_origin.hash)
        self.refs_seqnr.labels(name).set(ref.sequence_number)

    def record_sync_status(self, status) -> None:
        """Every head of a :class:`~opnode.node.sync_status.SyncStatus` under op-node's ref names."""
        self.record_l1_ref("l1_head", status.head_l1)
        self.record_l1_ref("l1_safe", status.safe_l1)
        self.record_l1_ref("l1_finalized", status.finalized_l1)
        self.record_l1_ref("l1_derived", status.current_l1)
        self.record_l2_ref("l2_unsafe", status.unsafe_l2)
        self.record_l2_ref("l2_cross_unsafe", status.cross_unsafe_l2)
        self.record_l2_ref("l2_pending_safe", status.pending_safe_l2)
        self.record_l2_ref("l2_local_safe", status.local_safe_l2)
        self.record_l2_ref("l2_safe", status.safe_l2)
        self.record_l2_ref("l2_finalized", status.finalized_l2)

    def set_derivation_idle(self, idle: bool) -> None:
        self.derivation_idle.set(1 if idle else 0)

    def record_pipeline_reset(self) -> None:
        self.pipeline_resets.record()

    def record_derivation_error(self) -> None:
        self.derivation_errors.record()

    def record_received_unsafe_payload(self, number: int, timestamp: int, block_hash: bytes) -> None:
        self.unsafe_payloads.record()
        self.record_ref("l2", "received_payload", number, timestamp, block_hash)

    def record_unsafe_payloads_buffer(self, length: int, mem_size: int, next_number: int, next_hash: bytes) -> None:
        self.record_ref("l2", "l2_buffer_unsafe", next_number, 0, next_hash)
        self.unsafe_payloads_buffer_len.set(length)
        self.unsafe_payloads_buffer_mem_size.set(mem_size)

    def record_derivation_event(self, ev) -> None:
        """A ``derivation.events`` event → op-node's counters, and every drop → ``derivation_drops_total{what,
        reason}``. Frames read from L1 count as ``frame_added`` and channels read as ``head_channel`` (op-node counts
        at the channel bank; a frame that is later dropped shows in both). ``PipelineReset`` events are not counted
        here: the driver calls :meth:`record_pipeline_reset` once per reset."""
        from derivation import events as e

        if isinstance(ev, e.FramesRead):
            if ev.frames:
                self.frame_added.record(amount=len(ev.frames))
        elif isinstance(ev, e.ChannelReady):
            self.head_channel.record()
            self.channel_input_bytes.inc(amount=ev.size)
        elif isinstance(ev, e.BatchRead):
            self.derived_batches.record(ev.batch_type)
        elif isinstance(ev, e.OriginAdvanced):
            self.record_l1_ref("l1_derived", ev.l1)
        elif isinstance(ev, e.Dropped):
            self.derivation_drops.labels(ev.what, ev.reason.value).inc()
            if ev.reason is e.DropReason.CHANNEL_TIMEOUT:
                self.channel_timeout.record()

    def record_follow_source(self, result: str) -> None:
        """op-node ``follow_source_requests_total{result}``: ``success``, ``error_fetch_status``,
        ``error_invalid_state``, ``error_l1_lookup``, ``error_l1_mismatch``."""
        self.follow_source_requests.labels(result).inc()

    def record_rpc_server_request(self, method: str, seconds: float) -> None:
        """op-node's server recorder is named ``main`` (op-node/node/server.go)."""
        self.rpc_server_requests.labels("main", method).inc()
        self.rpc_server_request_duration.labels("main", method).observe(seconds)

    def record_l1_reorg(self, depth: int) -> None:
        """op-node ``RecordL1ReorgDepth``: how many L1 blocks the head moved back when the L1 chain reorged."""
        self.l1_reorg_depth.observe(depth)

    def record_sequenced(self, building_seconds: float, sealing_seconds: float, block_time: int, deposits: int,
                         txs: int) -> None:
        """One sealed block (op-node ``RecordSequencerBuildingDiffTime``, ``RecordSequencerSealingTime``,
        ``CountSequencedTxsInBlock``: ``transactions_sequenced_total{type="deposits"|"txns"}``, op-node
        engine/build_seal.go)."""
        self.sequencer_building_diff.observe(building_seconds - block_time)
        self.sequencer_building_diff_total.inc()
        self.sequencer_sealing.observe(sealing_seconds)
        self.sequencer_sealing_total.inc()
        self.transactions_sequenced.labels("deposits").inc(deposits)
        self.transactions_sequenced.labels("txns").inc(txs)

    def record_sequencing_error(self) -> None:
        self.sequencing_errors.record()

    # ------------------------------------------------------------------------------------------------------------
    # P2P block gossip (op-node/metrics/metrics.go "P2P Metrics"); implements p2p.metrics.GossipMetrics, so the
    # gossip service reports here without importing opnode.

    def _init_p2p(self) -> None:
        r, ns = self.registry, self.namespace
        self.p2p_peer_count = Gauge("peer_count", "Count of currently connected p2p peers", namespace=ns,
                                    subsystem="p2p", registry=r)
        self.p2p_stream_count = Gauge("stream_count", "Count of currently connected p2p streams", namespace=ns,
                                      subsystem="p2p", registry=r)
        self.p2p_gossip_events = Counter("gossip_events", "Count of gossip events by type", ["type"], namespace=ns,
                                         subsystem="p2p", registry=r)
        # Not in op-node: the block validator's verdicts by reason (op-node only logs them).
        self.p2p_gossip_validations = Counter("gossip_validations", "Gossiped blocks by validation result and "
                                              "reason", ["result", "reason"], namespace=ns, subsystem="p2p",
                                              registry=r)
        self.peer_scores = Histogram("peer_scores", "Histogram of currently connected peer scores", ["type"],
                                     namespace=ns, registry=r, buckets=PEER_SCORE_BUCKETS)
        self.p2p_peer_unbans = _ExactCounter(f"{ns}_p2p_peer_unbans", "Count of peer unbans", (), r)
        self.p2p_ip_unbans = _ExactCounter(f"{ns}_p2p_ip_unbans", "Count of IP unbans", (), r)

    def record_gossip_event(self, event: str) -> None:
        """``p2p_gossip_events_total{type}`` with go-libp2p-pubsub's trace event names (PUBLISH_MESSAGE, ...)."""
        self.p2p_gossip_events.labels(event).inc()

    def record_gossip_validation(self, outcome: str, reason: str) -> None:
        self.p2p_gossip_validations.labels(outcome, reason).inc()

    def set_peer_count(self, count: int) -> None:
        self.p2p_peer_count.set(count)

    def set_stream_count(self, count: int) -> None:
        self.p2p_stream_count.set(count)

    def set_peer_scores(self, scores: list[dict]) -> None:
        """op-node ``SetPeerScores``: each peer's score parts observed under op-node's ``type`` labels."""
        for s in scores:
            g = s["gossip"]
            for label, value in (("total", g["total"]), ("ipColocation", g["IPColocationFactor"]),
                                 ("behavioralPenalty", g["behavioralPenalty"]),
                                 ("blocksFirstMessage", g["blocks"]["firstMessageDeliveries"]),
                                 ("blocksTimeInMesh", g["blocks"]["timeInMesh"]),
                                 ("blocksMessageDeliveries", g["blocks"]["meshMessageDeliveries"]),
                                 ("blocksInvalidMessageDeliveries", g["blocks"]["invalidMessageDeliveries"])):
                self.peer_scores.labels(label).observe(value)

    def record_peer_unban(self) -> None:
        self.p2p_peer_unbans.inc()

    def record_ip_unban(self) -> None:
        self.p2p_ip_unbans.inc()

    async def serve(self, addr: str, port: int, *, task_status=None) -> None:
        """Serve the exposition on ``http://addr:port/`` (any path, as op-node's promhttp handler) until cancelled.
        Runs on hypercorn in the caller's trio nursery, so shutdown is the nursery's; ``task_status.started`` gets
        the bound port (``port=0`` picks a free one)."""
        import trio

        from opnode.jsonrpc.http import serve_asgi

        await serve_asgi(_MetricsApp(self), addr, port,
                         task_status=trio.TASK_STATUS_IGNORED if task_status is None else task_status)


class _MetricsApp:
    """ASGI: GET (or HEAD) any path → the text exposition; anything else → 405."""

    def __init__(self, metrics: Metrics):
        self.metrics = metrics

    async def __call__(self, scope, receive, send):
        from opnode.jsonrpc.http import http_request

        if not await http_request(scope, receive, send):
            return
        if scope["method"] not in ("GET", "HEAD"):
            status, body, ctype = 405, b"method not allowed\n", b"text/plain; charset=utf-8"
        else:
            status, body, ctype = 200, self.metrics.exposition(), CONTENT_TYPE_LATEST.encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", ctype), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
