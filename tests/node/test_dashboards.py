"""OP Labs' public op-node dashboards (spec-vectors/grafana_op_node_dashboards.json, ethereum-optimism/
grafana-dashboards-public): every op-node metric their PromQL queries is exported by the node's registry, or listed
below as not applicable with the reason; the Engine API panels and the follow source's requests fill with op-node's
``rpc`` label values (op-node/config/{l2_el_rpc,follow_source}.go: "engine-api", "follow-source-api")."""

from __future__ import annotations

import re

import httpx
import trio

from derivation.protocol.rollup_config import Fork
from derivation.stages.attributes_builder import AttributesBuilder
from engine.execution.service import EngineService
from opnode.node.metrics import Metrics
from opnode.node.runtime.sequencer import Sequencer
from opnode.testing.engine import key, transfer
from opnode.testing.harness.world import L1_CHAIN
from opnode.testing.runtime import SECRET, Node, make_world
from tests.vectors import load

DASHBOARDS = load("grafana_op_node_dashboards.json")["dashboards"]
NAME = re.compile(r"\bop_node_[A-Za-z0-9_:]+")

NOT_APPLICABLE = {
    "op_node_default_l2_source_cache_add": "opnode keeps no cache of the engine's answers (op-node's L2 source "
                                           "caches payloads and block refs); every L2 read goes to the engine",
    "op_node_default_l2_source_cache_get": "as l2_source_cache_add: no L2 source cache",
    "op_node_default_p2p_bandwidth_bytes_total": "py-libp2p exposes no per-connection byte counters to meter",
    "op_node_default_protocol_versions": "op-node removed ProtocolVersions tracking in 2026 (ethereum-optimism/"
                                         "optimism #20311); opnode never read the contract",
    "op_node_default_events_emitted": "op-node's event-system internals (op-service/event); opnode's derivation "
                                      "has no event bus: its work shows in derived_batches, frame_added, "
                                      "head_channel and derivation_drops",
    "op_node_default_events_processed": "as events_emitted: no event bus",
    "op_node_default_events_process_time": "as events_emitted: no event bus",
    "op_node_default_last_pipeline_reset_unix": "not a name op-node exports: its Event is last_pipeline_resets_unix "
                                                "(op-service/metrics/event.go), which opnode exports",
}


def _exprs(node) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k in ("expr", "query") and isinstance(v, str)] + \
            [e for k, v in node.items() if k not in ("expr", "query") for e in _exprs(v)]
    if isinstance(node, list):
        return [e for v in node for e in _exprs(v)]
    return []


def queried() -> set[str]:
    return {m for d in DASHBOARDS.values() for e in _exprs(d) for m in NAME.findall(e)}


def exported(metrics: Metrics) -> set[str]:
    """Every sample name the registry can produce (prometheus_client's own list: ``_total``, ``_bucket``, …), less
    the suffixes it assumes for op-node's suffix-less counters, which export their name alone."""
    from opnode.node.metrics import _ExactCounter

    names = set(metrics.registry._names_to_collectors)
    for c in list(metrics.registry._collector_to_names):
        if isinstance(c, _ExactCounter):
            names -= {c.name + "_total", c.name + "_created"}
    return names


def test_every_dashboard_metric_is_exported_or_not_applicable():
    names = queried()
    assert len(names) >= 30, names  # the dashboards were read: Bedrock Nodes alone queries 26 op-node names
    missing = sorted(names - exported(Metrics()) - set(NOT_APPLICABLE))
    assert not missing, f"queried by the dashboards, neither exported nor listed as not applicable: {missing}"
    assert not set(NOT_APPLICABLE) - names, "a not-applicable entry no dashboard queries"
    assert not set(NOT_APPLICABLE) & exported(Metrics()), "listed as not applicable but exported"


def _engine_panel_methods() -> list[re.Pattern]:
    panels = [e for e in _exprs(DASHBOARDS["Bedrock Nodes"]) if "rpc_client_request_duration_seconds_bucket" in e]
    return [re.compile(m) for e in panels for m in re.findall(r'method=~"([^"]+)"', e)]


async def test_a_sequencing_node_fills_the_engine_api_and_sequencer_panels(nursery):
    """A node sequencing on a real embedded engine: each Engine API panel's method regex (forkchoiceUpdated,
    getPayload, newPayload) matches a method metered under rpc="engine-api", and the sequencer panels' families have
    samples."""
    patterns = _engine_panel_methods()
    assert len(patterns) == 3
    metrics = Metrics()
    w, genesis = make_world({Fork.HOLOCENE: 0})
    ports = await nursery.start(EngineService(genesis, SECRET, http_port=0, auth_port=0).run)
    node = Node(w, f"http://127.0.0.1:{ports.auth}", derive=False, metrics=metrics.rpc_client("engine-api"))
    now = [w.cfg.genesis.l2_time]
    seq = Sequencer(w.cfg, node.ctrl, AttributesBuilder(w.cfg, L1_CHAIN, w.l1, node.l2), node.driver, l1_confs=0,
                    clock=lambda: now[0], l1_head=lambda: w.l1.head.number, metrics=metrics)
    node.driver.hooks.append(seq.step)
    node.driver.deadlines.append(seq.seconds_until_next)
    await nursery.start(node.driver.run)
    w.l1.mine()
    async with httpx.AsyncClient() as http:
        raw = transfer(key(0), 0, b"\x77" * 20, 5).raw
        await http.post(f"http://127.0.0.1:{ports.http}", json={"jsonrpc": "2.0", "id": 1,
                                                                   "method": "eth_sendRawTransaction",
                                                                   "params": ["0x" + raw.hex()]})
    with trio.fail_after(30):
        while seq.sealed < 3:
            now[0] += 1
            node.driver.wake()
            await trio.sleep(0.01)
    text = metrics.exposition().decode()
    metered = set(re.findall(r'op_node_default_rpc_client_request_duration_seconds_bucket\{[^}]*method="([^"]+)"'
                             r'[^}]*rpc="engine-api"', text))
    for p in patterns:
        assert any(p.fullmatch(m) for m in metered), (p.pattern, metered)
    assert metrics.sample("op_node_default_sequencer_sealing_seconds_count") == seq.sealed
    assert metrics.sample("op_node_default_sequencer_building_diff_seconds_count") == seq.sealed
    assert metrics.sample("op_node_default_transactions_sequenced_total", {"type": "deposits"}) == seq.sealed
    assert metrics.sample("op_node_default_transactions_sequenced_total", {"type": "txns"}) == 1


async def test_follow_source_requests_are_metered_as_op_nodes_follow_source_api():
    from opnode.node.runtime.follow import FollowSource

    metrics = Metrics()
    fs = FollowSource("http://source:9545", timeout=1, interval=1, l1_ref_by_number=None, ctrl=None, driver=None,
                      metrics=metrics.rpc_client("follow-source-api"))
    transport = httpx.MockTransport(lambda req: httpx.Response(200, json={"jsonrpc": "2.0", "id": 1, "result": {}}))
    async with fs.client(transport) as rpc:
        await fs.fetch(rpc)
    assert metrics.sample("op_node_default_rpc_client_requests_total",
                          {"rpc": "follow-source-api", "method": "optimism_syncStatus"}) == 1


def test_help_and_type_lines_name_the_samples_that_follow():
    """Every # TYPE line names the samples that follow it (a counter or gauge: exactly; a histogram ``x``: ``x_bucket``,
    ``x_count``, ``x_sum``), counters without op-node's ``_total`` suffix included (``l1_source_cache_get``)."""
    m = Metrics()
    m.record_sequenced(2.1, 0.05, 2, 1, 3)
    m.record_l1_reorg(2)
    m.record_rpc_client("engine-api", "engine_newPayloadV4", 0.01, None)
    family, kind = None, None
    suffixes = {"counter": ("",), "gauge": ("",), "histogram": ("_bucket", "_count", "_sum")}
    for line in m.exposition().decode().splitlines():
        if line.startswith("# TYPE "):
            _, _, family, kind = line.split(" ", 3)
        elif line and not line.startswith("#"):
            name = re.match(r"[A-Za-z_:][A-Za-z0-9_:]*", line).group(0)
            assert any(name == family + s for s in suffixes[kind]), (family, kind, line)
