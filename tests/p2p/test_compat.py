"""OpGossipSub's choice of peers for a message: its mesh, and with flood publish (``--p2p.gossip.mesh.floodpublish``)
every gossipsub peer on the topic for a message this node publishes itself, as go-libp2p-pubsub does."""

from types import SimpleNamespace

from libp2p.peer.id import ID

from p2p.compat import MESHSUB_PROTOCOLS, OpGossipSub

TOPIC = "/optimism/901/3/blocks"
ME, A, B, C = (ID(bytes([i]) * 34) for i in range(1, 5))


def _router(flood: bool) -> OpGossipSub:
    r = OpGossipSub(flood_publish=flood)
    r.pubsub = SimpleNamespace(my_id=ME, peer_topics={TOPIC: {A, B, C}})
    r.peer_protocol = {A: MESHSUB_PROTOCOLS[0], B: MESHSUB_PROTOCOLS[0]}  # C: no gossipsub stream (yet)
    r.mesh = {TOPIC: {A}}
    return r


def test_without_flood_publish_own_messages_go_to_the_mesh():
    assert set(_router(False)._get_peers_to_send([TOPIC], ME, ME)) == {A}


def test_flood_publish_sends_own_messages_to_every_gossipsub_peer_on_the_topic():
    assert set(_router(True)._get_peers_to_send([TOPIC], ME, ME)) == {A, B}


def test_flood_publish_does_not_apply_to_forwarded_messages():
    r = _router(True)
    r.mesh = {TOPIC: {A, B}}
    assert set(r._get_peers_to_send([TOPIC], A, A)) == {B}
