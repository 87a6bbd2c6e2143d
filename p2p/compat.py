"""py-libp2p 0.8.1's pubsub, adjusted to gossip the way op-node's go-libp2p-pubsub does.

Every difference between py-libp2p's defaults and what op-node expects is handled here and nowhere else:

- Signature policy: op-node runs ``StrictNoSign`` with ``WithNoAuthor`` (rollup-node-p2p.md §Content-based message
  identification): messages carry no ``from``, ``seqno``, ``signature`` or ``key``, and go-libp2p-pubsub rejects
  messages that do. py-libp2p stamps ``from``/``seqno`` on every publish, so :meth:`OpPubsub.publish` builds bare
  messages and :meth:`OpPubsub.push_msg` rejects messages with author fields.
- Equivocation: py-libp2p's gossipsub drops a second message with the same ``from ‖ seqno`` and different data as
  equivocation. Without authors every message has the empty key, so every block after the first would be dropped;
  ids here are content-addressed and equivocation is not a concept (:class:`OpGossipSub`).
- Message cache: py-libp2p keys its IHAVE/IWANT cache by ``from ‖ seqno`` too; keyed by the op-node message id
  here, otherwise gossip about unauthored messages collapses to one id (:class:`_MessageCache`).
- Rate limit: py-libp2p drops more than 10 messages per second per topic and peer ("spam protection"); a catching-up
  network or a 1-second chain can exceed that, and op-node has no such limit: off.
- Eclipse protection: it grafts for IP diversity; every devnet peer is on 127.0.0.1: off, as op-node has none.
  Adaptive gossip rewrites D/D_lo/D_hi at run time: off, op-node uses fixed mesh parameters.
- Subscription queues: py-libp2p hands messages to subscribers through 32-slot channels that drop silently when full.
  Validated blocks are delivered here straight to one callback (the service counts what it cannot queue).
- Size: py-libp2p caps RPCs at 1 MiB in and out; op-node allows 10 MiB (``maxGossipSize``). Its per-peer outbound
  queue holds 32 RPCs; op-node's holds 256 (``maxOutboundQueue``).
- Seen cache: op-node remembers message ids for 130 heartbeats (65 s) from first sight, and marks a message seen
  *before* validating it, so an invalid message is validated once; py-libp2p refreshes expiry on every lookup and
  marks only after validation.
- Validation: op-node's extended validators answer ACCEPT, IGNORE or REJECT and only REJECT costs the forwarder
  score (:class:`p2p.scoring.PeerScores`, op-node's "light" parameters; py-libp2p's own scorer, which counts
  invalid messages linearly and forgets a peer when it disconnects, keeps its all-zero defaults and gates nothing);
  messages from a peer below the graylist threshold are dropped unvalidated; py-libp2p's validators are booleans, and caches results by id for 5 minutes (a block ignored while no
  signer was known would stay ignored). The validator here returns a :class:`~p2p.validation.Verdict`.
- A peer's RPC that is not protobuf resets its stream and drops the peer; py-libp2p lets the error kill the node.
  RPCs are written whole, one at a time per stream (py-libp2p's writers could interleave yamux frames).
- Protocols: only ``/meshsub/1.1.0`` and ``/meshsub/1.0.0`` are offered, as go-libp2p-pubsub of op-node's era
  speaks; py-libp2p would also offer 1.2-2.0 whose extension messages op-node does not expect.

Gossip events are reported with op-node's trace names (``p2p_gossip_events_total{type}``: PUBLISH_MESSAGE,
DELIVER_MESSAGE, REJECT_MESSAGE, DUPLICATE_MESSAGE, UNDELIVERABLE_MESSAGE, ADD_PEER, REMOVE_PEER, JOIN); IGNOREd
messages are traced as REJECT_MESSAGE like go-libp2p-pubsub does (with reason "validation ignored").
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable

import libp2p.pubsub.pubsub as _py_pubsub
import trio
from google.protobuf.message import DecodeError
from libp2p.abc import IHost
from libp2p.peer.id import ID
from libp2p.pubsub.gossipsub import PROTOCOL_ID, PROTOCOL_ID_V11, GossipSub
from libp2p.pubsub.mcache import CacheEntry, MessageCache
from libp2p.pubsub.pb import rpc_pb2
from libp2p.pubsub.pubsub import Pubsub
from libp2p.pubsub.rpc_queue import RpcQueue
from libp2p.tools.timed_cache.first_seen_cache import FirstSeenCache

from p2p.scoring import PeerScores
from p2p.validation import Outcome, Verdict
from p2p.wire import MAX_GOSSIP_SIZE, message_id

log = logging.getLogger("opnode.p2p")

# op-node p2p/gossip.go
MESH_D, MESH_D_LO, MESH_D_HI, MESH_D_LAZY = 8, 6, 12, 6
HEARTBEAT_SECONDS = 0.5
FANOUT_TTL_SECONDS = 24
HISTORY_LENGTH = 12  # mcache_len
HISTORY_GOSSIP = 3  # mcache_gossip
SEEN_TTL_SECONDS = 65  # 130 heartbeats
MAX_OUTBOUND_QUEUE = 256
MAX_VALIDATE_CONCURRENCY = 4  # op-node WithValidatorConcurrency(4) per topic; validation here is synchronous
MESHSUB_PROTOCOLS = (PROTOCOL_ID_V11, PROTOCOL_ID)

Trace = Callable[[str], None]
Validate = Callable[[str, bytes, ID], Verdict]
Deliver = Callable[[Verdict, ID, str], None]


class _OutboundQueue(RpcQueue):
    def __init__(self, max_size: int = MAX_OUTBOUND_QUEUE, max_message_size: int = MAX_GOSSIP_SIZE):
        super().__init__(max_size=max_size, max_message_size=max_message_size)


# Pubsub creates each peer's queue as ``RpcQueue()`` inside a long method; the defaults are bound at class
# definition, so the module-level name is replaced (py-libp2p offers no parameter for it).
_py_pubsub.RpcQueue = _OutboundQueue


def gossip_message_id(msg: rpc_pb2.Message) -> bytes:
    """op-node's message id: the topic is hashed in; a message has exactly one topic."""
    return message_id(msg.topicIDs[0] if len(msg.topicIDs) == 1 else "", msg.data)


class _MessageCache(MessageCache):
    def put(self, msg: rpc_pb2.Message) -> None:
        mid = gossip_message_id(msg)
        if mid in self.msgs:
            return
        self.msgs[mid] = msg
        self.history[0].append(CacheEntry(mid, msg.topicIDs))


class OpGossipSub(GossipSub):
    """GossipSub v1.1 with op-node's mesh parameters (rollup-node-p2p.md §Heartbeat and parameters). py-libp2p
    has no separate D_lazy: it gossips to D peers."""

    def __init__(self, *, d: int = MESH_D, d_lo: int = MESH_D_LO, d_hi: int = MESH_D_HI,
                 heartbeat_interval: float = HEARTBEAT_SECONDS, flood_publish: bool = False,
                 trace: Trace = lambda event: None):
        super().__init__(list(MESHSUB_PROTOCOLS), d, d_lo, d_hi, time_to_live=FANOUT_TTL_SECONDS,
                         gossip_window=HISTORY_GOSSIP, gossip_history=HISTORY_LENGTH,
                         heartbeat_interval=heartbeat_interval, do_px=False, adaptive_gossip_enabled=False,
                         spam_protection_enabled=False, eclipse_protection_enabled=False)
        self.mcache = _MessageCache(HISTORY_GOSSIP, HISTORY_LENGTH)
        self.flood_publish = flood_publish
        self._trace = trace

    def _get_peers_to_send(self, topic_ids, msg_forwarder: ID, origin: ID, msg_id: bytes | None = None):
        """Mesh peers (py-libp2p's choice); with ``flood_publish`` (``--p2p.gossip.mesh.floodpublish``, off by
        default as in op-node) a message this node publishes itself goes to every gossipsub peer on the topic, as
        go-libp2p-pubsub's floodPublish does, so it is not lost before the first heartbeat has built the mesh."""
        peers = set(super()._get_peers_to_send(topic_ids, msg_forwarder, origin, msg_id))
        if self.flood_publish and self.pubsub is not None and msg_forwarder == self.pubsub.my_id:
            for topic in topic_ids:
                peers |= {p for p in self.pubsub.peer_topics.get(topic, ()) if p in self.peer_protocol}
            peers.discard(msg_forwarder)
        return peers

    def _check_equivocation(self, msg: rpc_pb2.Message) -> bool:
        return True

    def add_peer(self, peer_id: ID, protocol_id) -> None:
        super().add_peer(peer_id, protocol_id)
        self._trace("ADD_PEER")

    def remove_peer(self, peer_id: ID) -> None:
        super().remove_peer(peer_id)
        self._trace("REMOVE_PEER")


class OpPubsub(Pubsub):
    """Pubsub with op-node's message policy. ``validate(topic, data, forwarder)`` decides every message, local ones
    included; ``deliver(verdict, forwarder, topic)`` receives each accepted message from a peer once."""

    def __init__(self, host: IHost, router: OpGossipSub, *, topics: set[str], validate: Validate, deliver: Deliver,
                 trace: Trace = lambda event: None, scores: PeerScores | None = None):
        super().__init__(host, router, strict_signing=False, msg_id_constructor=gossip_message_id,
                         seen_ttl=SEEN_TTL_SECONDS, max_inbound_rpc_size=MAX_GOSSIP_SIZE, allowed_topics=topics)
        self.seen_messages.stop()  # replaced: a sweeper thread per cache, first-seen expiry wanted
        self.seen_messages = FirstSeenCache(SEEN_TTL_SECONDS, sweep_interval=SEEN_TTL_SECONDS)
        self._validate = validate
        self._deliver = deliver
        self._write_locks: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._trace = trace
        self._scores = scores

    def close_caches(self) -> None:
        """Stop the seen cache's sweeper thread (py-libp2p starts one per cache and never stops it)."""
        self.seen_messages.stop()

    async def subscribe(self, topic_id: str):
        sub = await super().subscribe(topic_id)
        self._trace("JOIN")
        return sub

    async def write_msg(self, stream, rpc_msg: rpc_pb2.RPC) -> bool:
        """One RPC at a time per stream. py-libp2p writes to a peer's stream from its outbound queue, the publish
        path and the heartbeat's control path, and its yamux sends a write as window-sized frames, each under its own
        lock: two large RPCs could interleave on the wire, and the peer read garbage (a light node on the devnet got
        a ``DecodeError`` from its source). go-msgio writes each message whole under the stream's lock."""
        lock = self._write_locks.get(stream)
        if lock is None:
            lock = self._write_locks[stream] = trio.Lock()
        async with lock:
            return await super().write_msg(stream, rpc_msg)

    async def stream_handler(self, stream) -> None:
        """A peer's RPC that is not protobuf (py-libp2p lets ``DecodeError`` escape here, which takes the swarm and
        the node down) resets that stream and forgets the peer, as go-libp2p-pubsub does on a read error (comm.go
        ``handleNewStream``)."""
        try:
            await super().stream_handler(stream)
        except DecodeError as e:
            peer = stream.muxed_conn.peer_id
            log.warning("gossip: dropping a peer that sent an RPC that does not decode", extra={"peer": str(peer),
                                                                                              "err": str(e)})
            await stream.reset()
            self._handle_dead_peer(peer)

    def notify_subscriptions(self, publish_message: rpc_pb2.Message) -> None:
        """Accepted messages reach the application through ``deliver`` in :meth:`push_msg`, not through
        py-libp2p's 32-slot subscription channels."""

    async def publish(self, topic_id: str | list[str], data: bytes) -> Verdict | None:
        """Publish an unauthored message; returns the local validator's verdict (None for a duplicate), which
        go-libp2p-pubsub also applies to local messages before sending them."""
        topics = [topic_id] if isinstance(topic_id, str) else list(topic_id)
        if len(topics) != 1:
            raise ValueError("block gossip publishes on exactly one topic")
        self._trace("PUBLISH_MESSAGE")
        return await self.push_msg(self.my_id, rpc_pb2.Message(data=data, topicIDs=topics))

    async def push_msg(self, msg_forwarder: ID, msg: rpc_pb2.Message) -> Verdict | None:
        if self.is_peer_blacklisted(msg_forwarder):
            return None
        if self._scores is not None and msg_forwarder != self.my_id and \
                self._scores.graylisted(msg_forwarder.to_base58()):
            return None  # go-libp2p-pubsub drops a graylisted peer's RPCs whole
        topics = list(msg.topicIDs)
        if msg.from_id or msg.seqno or msg.signature or msg.key or len(topics) != 1:
            self._trace("REJECT_MESSAGE")
            self._penalize(msg_forwarder, topics)
            log.debug("rejected a message with author fields or %d topics from %s", len(topics), msg_forwarder)
            return None
        topic = topics[0]
        mid = self._msg_id_constructor(msg)
        if not self.seen_messages.add(mid):
            self._trace("DUPLICATE_MESSAGE")
            return None
        verdict = self._validate(topic, msg.data, msg_forwarder)
        if verdict.outcome is not Outcome.ACCEPT:
            self._trace("REJECT_MESSAGE")
            if verdict.outcome is Outcome.REJECT:
                self._penalize(msg_forwarder, topics)
            return verdict
        if self._scores is not None and msg_forwarder != self.my_id:
            self._scores.on_first_delivery(msg_forwarder.to_base58(), topic)
        self._trace("DELIVER_MESSAGE")
        if msg_forwarder != self.my_id:
            self._deliver(verdict, msg_forwarder, topic)
        await self.router.publish(msg_forwarder, msg)
        return verdict

    def _penalize(self, peer: ID, topics: list[str]) -> None:
        if self._scores is not None and peer != self.my_id:
            for topic in topics:
                self._scores.on_invalid(peer.to_base58(), topic)
