"""OpGossipSub's choice of peers for a message: its mesh, and with flood publish (``--p2p.gossip.mesh.floodpublish``)
every gossipsub peer on the topic for a message this node publishes itself, as go-libp2p-pubsub does."""

import weakref
from types import SimpleNamespace

import trio
from libp2p.peer.id import ID
from libp2p.pubsub.pb import rpc_pb2

from derivation.protocol.varint import read_uvarint
from p2p.compat import MESHSUB_PROTOCOLS, OpGossipSub, OpPubsub

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


class _ChunkingStream:
    """A stream that sends a write as small frames with a scheduling point between them, as py-libp2p's yamux does."""

    def __init__(self):
        self.wire = bytearray()

    async def write(self, data: bytes) -> None:
        for i in range(0, len(data), 1000):
            self.wire += data[i:i + 1000]
            await trio.sleep(0)


async def test_concurrent_rpcs_on_one_stream_go_out_whole():
    pubsub = object.__new__(OpPubsub)
    pubsub._write_locks = weakref.WeakKeyDictionary()
    stream = _ChunkingStream()
    rpcs = [rpc_pb2.RPC(publish=[rpc_pb2.Message(data=bytes([i]) * 5000, topicIDs=[TOPIC])]) for i in range(3)]
    async with trio.open_nursery() as nursery:
        for rpc in rpcs:
            nursery.start_soon(pubsub.write_msg, stream, rpc)
    got, pos = [], 0
    while pos < len(stream.wire):
        size, pos = read_uvarint(bytes(stream.wire), pos)
        got.append(rpc_pb2.RPC.FromString(bytes(stream.wire[pos:pos + size])))
        pos += size
    assert sorted(r.publish[0].data for r in got) == sorted(r.publish[0].data for r in rpcs)
