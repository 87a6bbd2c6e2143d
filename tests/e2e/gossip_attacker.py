"""A hostile gossip peer for the devnet e2e tests: a py-libp2p host in the test process that dials one node, keeps
every block message that node relays to it (raw bytes, as on the wire) and publishes crafted messages to it.

It is a :class:`p2p.service.GossipService` whose own validator accepts everything and which publishes through the
gossipsub router directly, past its own seen-cache: a replay of bytes it has already received must still go out.
The messages are built with the node's own encoders (:mod:`p2p.wire`, :mod:`p2p.ssz`, :mod:`p2p.signing`), so
each one differs from a valid block in exactly the way a test names.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import trio
from libp2p.pubsub.pb import rpc_pb2

from derivation.protocol.crypto import keccak256
from derivation.protocol.errors import ParseError
from derivation.protocol.payload import ExecutionPayloadEnvelope
from derivation.protocol.rollup_config import RollupConfig
from p2p.config import P2PConfig
from p2p.service import GossipService
from p2p.signing import LocalSigner
from p2p.ssz import decode_envelope
from p2p.topics import BlockVersion, all_blocks_topics, blocks_topic
from p2p.validation import Outcome, Reason, Verdict
from p2p.wire import MAX_GOSSIP_SIZE, compress, decompress, encode_block_message

FORGER = LocalSigner(keccak256(b"opnode e2e gossip attacker: not the unsafe block signer"))


@dataclass(frozen=True, slots=True)
class Captured:
    """A block message as a node relayed it."""

    topic: str
    data: bytes
    version: BlockVersion
    envelope: ExecutionPayloadEnvelope
    received_at: float


class GossipAttacker:
    """``identity`` seeds the peer key: the target ignores a peer whose message it rejected (op-node's light
    scoring graylists it), so each hostile message is sent by a peer of its own."""

    def __init__(self, rollup: RollupConfig, target: str, identity: bytes = b"opnode e2e gossip attacker identity"):
        self.rollup = rollup
        self.chain_id = rollup.l2_chain_id
        self.topics = all_blocks_topics(self.chain_id)
        config = P2PConfig(listen_ip="127.0.0.1", listen_tcp=0, priv_raw=keccak256(identity), static_peers=(target,),
                           static_redial_seconds=0.5, peers_lo=1, peers_hi=4, peerstore_path="memory")
        self.service = GossipService(rollup, config, unsafe_block_signer=None)
        self.captured: list[Captured] = []
        self._arrived = trio.Event()

    async def run(self, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        async with trio.open_nursery() as n:
            await n.start(self.service.run)
            self.service.pubsub._validate = self._capture
            self.service.pubsub._deliver = lambda verdict, forwarder, topic: None  # kept by _capture instead
            task_status.started(self)

    def _capture(self, topic: str, data: bytes, forwarder) -> Verdict:
        version = self.topics.get(topic)
        try:
            env = decode_envelope(decompress(data)[65:], version)
        except (ParseError, TypeError):  # not a block of this topic: nothing to keep, but relayed all the same
            return Verdict(Outcome.ACCEPT, Reason.ACCEPTED)
        self.captured.append(Captured(topic, data, version, env, time.monotonic()))
        self._arrived.set()
        return Verdict(Outcome.ACCEPT, Reason.ACCEPTED)

    async def wait_meshed(self, version: BlockVersion, timeout: float = 30) -> None:
        """Until the target is in our mesh for the topic, so a publish goes to it."""
        with trio.fail_after(timeout):
            while not self.service.mesh_peers(version):
                await trio.sleep(0.05)

    async def next_block(self, timeout: float = 30) -> Captured:
        """The next block message the target relays to us."""
        seen = len(self.captured)
        with trio.fail_after(timeout):
            while len(self.captured) == seen:
                self._arrived = trio.Event()
                await self._arrived.wait()
        return self.captured[seen]

    async def publish(self, topic: str, data: bytes) -> None:
        """Send bytes on a topic to our peers, whatever they are and whether or not we sent them before."""
        msg = rpc_pb2.Message(data=data, topicIDs=[topic])
        await self.service.router.publish(self.service.pubsub.my_id, msg)

    # ------------------------------------------------------------------------------------------ hostile messages

    def forged(self, block: Captured) -> tuple[str, bytes]:
        """The same block on its own topic, signed by a key that is not the unsafe block signer."""
        return block.topic, encode_block_message(block.envelope, block.version, FORGER, self.chain_id)

    def wrong_topic(self, block: Captured, version: BlockVersion) -> tuple[str, bytes]:
        """The sequencer's message, byte for byte, on the topic of another payload version."""
        assert version != block.version
        return blocks_topic(self.chain_id, version), block.data

    def oversized(self, block: Captured) -> tuple[str, bytes]:
        """A snappy block that decompresses to one byte more than op-node's 10 MiB limit (it is small on the
        wire: zeros compress well)."""
        return block.topic, compress(bytes(MAX_GOSSIP_SIZE + 1))

    @staticmethod
    def replayed(block: Captured) -> tuple[str, bytes]:
        """A message the target already relayed, sent back to it unchanged."""
        return block.topic, block.data
