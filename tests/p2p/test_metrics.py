"""The node's Metrics records gossip under op-node's names and satisfies the p2p package's protocol."""

from opnode.metrics import Metrics
from p2p.metrics import GossipMetrics, NoMetrics


def test_gossip_metrics_use_op_node_names():
    m = Metrics()
    for impl in (m, NoMetrics()):
        for name in ("record_gossip_event", "record_gossip_validation", "set_peer_count"):
            assert callable(getattr(impl, name))
    g: GossipMetrics = m
    g.record_gossip_event("REJECT_MESSAGE")
    g.record_gossip_event("REJECT_MESSAGE")
    g.record_gossip_validation("REJECT", "wrong_signer")
    g.set_peer_count(3)
    assert m.sample("op_node_default_p2p_gossip_events_total", {"type": "REJECT_MESSAGE"}) == 2
    assert m.sample("op_node_default_p2p_peer_count") == 3
    assert m.sample("op_node_default_p2p_gossip_validations_total", {"result": "REJECT", "reason": "wrong_signer"}) == 1
    assert b"op_node_default_p2p_gossip_events_total{type=\"REJECT_MESSAGE\"} 2.0" in m.exposition()
