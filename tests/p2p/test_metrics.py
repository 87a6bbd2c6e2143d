"""The node's Metrics records gossip under op-node's names and satisfies the p2p package's protocol."""

from opnode.node.metrics import Metrics
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


async def test_a_running_service_reports_through_the_node_metrics(tmp_path):
    import time

    import trio

    from derivation.protocol.crypto import keccak256
    from derivation.protocol.rollup_config import Fork
    from p2p.signing import LocalSigner
    from p2p.topics import BlockVersion, blocks_topic
    from p2p.wire import encode_block_message
    from tests.p2p.gossip_vectors import synthetic
    from tests.p2p.support import accept_everything, address_of, chain_where_now_is, make_service, wait_until

    cfg = chain_where_now_is(Fork.JOVIAN)
    m = Metrics()
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            node = make_service(cfg, tmp_path, "node", metrics=m)
            await nursery.start(node.run)
            evil = make_service(cfg, tmp_path, "evil", static=(address_of(node),))
            await nursery.start(evil.run)
            accept_everything(evil)
            # the node is in evil's mesh: without flood publish (op-node's default) a message published before
            # the heartbeat grafted it goes to nobody (seen as a CI flake under load)
            await wait_until(lambda: node.peer_id in evil.mesh_peers(BlockVersion.V4), what="peering")
            assert m.sample("op_node_default_p2p_peer_count") == 1
            env = synthetic(BlockVersion.V4, 3, int(time.time()))
            forged = encode_block_message(env, BlockVersion.V4, LocalSigner(keccak256(b"evil")), cfg.l2_chain_id)
            await evil.publish_raw(blocks_topic(cfg.l2_chain_id, BlockVersion.V4), forged)
            labels = {"result": "REJECT", "reason": "wrong_signer"}
            await wait_until(lambda: m.sample("op_node_default_p2p_gossip_validations_total", labels) == 1,
                             what="the rejection recorded")
            assert m.sample("op_node_default_p2p_gossip_events_total", {"type": "REJECT_MESSAGE"}) == 1
            nursery.cancel_scope.cancel()
    assert m.sample("op_node_default_p2p_peer_count") == 0


def test_peer_scores_and_unbans_use_op_node_names():
    from p2p.scoring import PeerScores

    m = Metrics()
    g: GossipMetrics = m
    scores = PeerScores(2, ("/optimism/10/3/blocks",), lambda: 0.0)
    scores.on_invalid("p", "/optimism/10/3/blocks")
    g.set_peer_scores([scores.snapshot("p"), scores.snapshot("q")])
    assert m.sample("op_node_default_peer_scores_count", {"type": "total"}) == 2
    assert m.sample("op_node_default_peer_scores_bucket", {"type": "total", "le": "-100.0"}) == 1  # -112.4
    assert m.sample("op_node_default_peer_scores_count", {"type": "blocksInvalidMessageDeliveries"}) == 2
    g.record_peer_unban()
    g.record_ip_unban()
    g.record_ip_unban()
    assert m.sample("op_node_default_p2p_peer_unbans") == 1 and m.sample("op_node_default_p2p_ip_unbans") == 2
    assert b"op_node_default_p2p_peer_unbans 1.0" in m.exposition()  # Go's counter name, no _total
