"""The block gossip service the node runs in its trio nursery (op-node p2p/node.go, host.go, gossip.go).

What the node does with it::

    service = GossipService(rollup_cfg, P2PConfig.from_flags(flags), unsafe_block_signer=signer_address,
                            deliver=driver.submit_unsafe, metrics=metrics)
    await nursery.start(service.run)          # returns once listening; runs until cancelled
    sequencer = Sequencer(..., on_sealed=service.submit)   # sequencer only: publish each sealed block
    service.set_unsafe_block_signer(addr)     # when the SystemConfig's signer changes (L1 ConfigUpdate)

``deliver`` receives a :class:`GossipedPayload` for each block a peer sent that the validator accepted; it is an
``ExecutionPayloadEnvelope`` (:mod:`derivation.protocol.payload`), so it goes to the driver's unsafe queue and on
to ``engine_newPayload`` as is. Without ``deliver`` they queue on :attr:`GossipService.payloads`.

The host is py-libp2p on trio: TCP, noise (secp256k1 identity), yamux and mplex, gossipsub v1.1 with op-node's
parameters (:mod:`p2p.compat`). Peers come from ``--p2p.static`` (dialed at start and re-dialed every
``static_redial_seconds`` while disconnected, as op-node's ``monitorStaticPeers``) and ``--p2p.bootnodes`` (dialed
directly over TCP when their record carries an address and, for ENRs, this chain's ``opstack`` entry). There is no
discv5: peers are not discovered beyond those lists, and ``opp2p_discoveryTable`` reports discovery as disabled.
Connection tides (``--p2p.peers.lo/.hi/.grace``) are py-libp2p's connection manager's watermarks, as op-node uses
go-libp2p's; static peers are protected from pruning.

Peer management as op-node's: ``--p2p.scoring`` (:mod:`p2p.scoring`, fed by the pubsub's validation verdicts),
``--p2p.ban.*`` (the peer monitor in :mod:`p2p.peers`), ``--p2p.netrestrict`` and the block lists and bans
(:mod:`p2p.gating`), all kept in ``--p2p.peerstore.path`` (:mod:`p2p.peerstore`). The peerstore is opened with the
service and closed when :meth:`GossipService.run` ends: a service runs once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import trio
from libp2p import create_yamux_muxer_option, new_host
from libp2p.crypto.x25519 import create_new_key_pair as create_x25519_key_pair
from libp2p.network.config import ConnectionConfig
from libp2p.peer.id import ID
from libp2p.peer.peerinfo import info_from_p2p_addr
from libp2p.security.noise.transport import PROTOCOL_ID as NOISE_PROTOCOL_ID
from libp2p.security.noise.transport import Transport as NoiseTransport
from libp2p.tools.anyio_service import background_trio_service
from multiaddr import Multiaddr

from derivation.protocol.payload import ExecutionPayloadEnvelope
from derivation.protocol.rollup_config import RollupConfig
from p2p.compat import OpGossipSub, OpPubsub
from p2p.config import P2PConfig
from p2p.enr import NodeRecord
from p2p.errors import P2PError
from p2p.gating import ConnectionGater, SwarmGate
from p2p.keys import key_pair, load_or_create_node_key, peer_id_of_public_key
from p2p.metrics import GossipMetrics, NoMetrics
from p2p.peers import DIAL_TIMEOUT, PeerControl, PeerNotifee
from p2p.peerstore import PeerStore
from p2p.scoring import LightParams, PeerScores
from p2p.topics import BlockVersion, all_blocks_topics, blocks_topic, version_for_timestamp
from p2p.validation import BlockValidator, Outcome, Verdict, guarded
from p2p.wire import encode_block_message, message_id

log = logging.getLogger("opnode.p2p")

PAYLOAD_QUEUE = 256  # received blocks waiting for the node; op-node's unsafe queue is the engine's business
PUBLISH_QUEUE = 64
CLOSE_TIMEOUT = 5.0
STATIC_TAG = "static"


@dataclass(frozen=True, slots=True)
class GossipedPayload(ExecutionPayloadEnvelope):
    """A block a peer gossiped and the validator accepted: the envelope, with where and when it came from."""

    peer_id: str = ""
    topic: str = ""
    received_at: float = 0.0

    @classmethod
    def of(cls, env: ExecutionPayloadEnvelope, peer_id: str, topic: str, received_at: float) -> GossipedPayload:
        return cls(env.payload, env.parent_beacon_block_root, peer_id, topic, received_at)

    @property
    def envelope(self) -> ExecutionPayloadEnvelope:
        """The block without where it came from (equal to the envelope its sequencer published)."""
        return ExecutionPayloadEnvelope(self.payload, self.parent_beacon_block_root)


class GossipService(PeerControl):
    def __init__(self, rollup: RollupConfig, config: P2PConfig, *, unsafe_block_signer: bytes | None = None,
                 deliver: Callable[[GossipedPayload], None] | None = None, metrics: GossipMetrics | None = None,
                 clock: Callable[[], float] = time.time):
        if config.disabled:
            raise P2PError("p2p is disabled (--p2p.disable)")
        self.rollup = rollup
        self.config = config
        self.chain_id = rollup.l2_chain_id
        self.metrics = metrics or NoMetrics()
        self._clock = clock
        self._unsafe_signer = unsafe_block_signer
        self._streams = 0  # open libp2p streams, from the notifee
        self._key = config.priv_raw or load_or_create_node_key(config.priv_path)
        self.key_pair = key_pair(self._key)
        self.peer_id = ID.from_pubkey(self.key_pair.public_key)
        self.topics = all_blocks_topics(self.chain_id)
        self.validator = BlockValidator(rollup, lambda: self._unsafe_signer, clock,
                                        max_past_seconds=config.gossip_timestamp_threshold)
        self._validate = guarded(self._validate_message)
        send, self.payloads = trio.open_memory_channel[GossipedPayload](PAYLOAD_QUEUE)
        self._payload_send = send
        self._deliver_fn = deliver or self._enqueue
        self._publish_send, self._publish_recv = trio.open_memory_channel[ExecutionPayloadEnvelope](PUBLISH_QUEUE)
        self.host = None
        self.pubsub: OpPubsub | None = None
        self.router: OpGossipSub | None = None
        self.started = trio.Event()
        self.scores = PeerScores(rollup.block_time, self.topics, clock, enabled=config.scoring == "light")
        self.peerstore = PeerStore(config.peerstore_path, now=clock(),
                                   score_retention=LightParams.for_block_time(rollup.block_time).retain)
        records, saved_at = self.peerstore.load_scores()
        if saved_at is not None:
            self.scores.load(records, saved_at)
        self.gater = ConnectionGater(self.peerstore, config.netrestrict, clock, self.metrics)
        self._static = [info_from_p2p_addr(Multiaddr(a)) for a in config.static_peers]
        self._static = [p for p in self._static if p.peer_id != self.peer_id]  # op-node ignores itself
        self._bootnodes = [r for r in config.bootnodes if r.matches_chain(self.chain_id) and r.ip and r.tcp]
        self._records: dict[ID, NodeRecord] = {peer_id_of_public_key(r.public_key): r for r in config.bootnodes}
        self._nursery: trio.Nursery | None = None
        self.published = 0
        self.received = 0

    # ------------------------------------------------------------------------------------------ running

    async def run(self, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        """Listen, join the block topics and keep peers connected until cancelled."""
        kp = self.key_pair
        secure = {NOISE_PROTOCOL_ID: NoiseTransport(kp, noise_privkey=create_x25519_key_pair().private_key)}
        announce = None
        if self.config.advertise_ip or self.config.advertise_tcp:
            ip = self.config.advertise_ip or self.config.listen_ip
            announce = [Multiaddr(f"/ip4/{ip}/tcp/{self.config.advertise_tcp or self.config.listen_tcp}")]
        host = new_host(key_pair=kp, sec_opt=secure, muxer_opt=create_yamux_muxer_option(),
                        listen_addrs=[self.config.listen_multiaddr], announce_addrs=announce,
                        connection_config=self._connection_config())
        router = OpGossipSub(d=self.config.mesh_d, d_lo=self.config.mesh_d_lo, d_hi=self.config.mesh_d_hi,
                             flood_publish=self.config.flood_publish, trace=self.metrics.record_gossip_event)
        pubsub = OpPubsub(host, router, topics=set(self.topics), validate=self._validate, deliver=self._on_accepted,
                          trace=self.metrics.record_gossip_event, scores=self.scores)
        host.get_network().register_notifee(PeerNotifee(self))
        host.get_network().connection_gate = SwarmGate(self.gater)
        try:
            async with host.run([self.config.listen_multiaddr]):
                try:
                    async with background_trio_service(pubsub), background_trio_service(router):
                        await pubsub.wait_until_ready()
                        for topic in self.topics:
                            await pubsub.subscribe(topic)
                        self.host, self.pubsub, self.router = host, pubsub, router
                        for p in self._static:
                            host.get_network().protect(p.peer_id, STATIC_TAG)
                        async with trio.open_nursery() as nursery:
                            self._nursery = nursery
                            nursery.start_soon(self._publish_loop)
                            nursery.start_soon(self._static_peers_loop)
                            nursery.start_soon(self._dial_bootnodes)
                            nursery.start_soon(self._inspect_scores)
                            if self.config.ban_peers and self.scores.enabled:
                                nursery.start_soon(self._peer_monitor)
                            log.info("p2p listening on %s as %s", ", ".join(str(a) for a in host.get_addrs()),
                                     self.peer_id.pretty())
                            task_status.started(self)
                            await trio.sleep_forever()
                finally:
                    with trio.move_on_after(CLOSE_TIMEOUT, shield=True):
                        await _close_host(host)
        finally:
            self._nursery = None
            self.host = self.pubsub = self.router = None
            self.metrics.set_peer_count(0)
            pubsub.close_caches()
            self._save_scores()
            self.peerstore.close()

    def _connection_config(self) -> ConnectionConfig:
        """op-node's tides on py-libp2p's connection manager: above ``peers.hi`` unprotected peers past their
        grace period are pruned, below ``peers.lo`` known peers are redialed."""
        c = self.config
        return ConnectionConfig(min_connections=c.peers_lo, low_watermark=c.peers_lo, high_watermark=c.peers_hi,
                                max_connections=c.peers_hi + c.peers_lo, grace_period=c.peers_grace,
                                dial_timeout=DIAL_TIMEOUT)

    def _require_running(self):
        if self.host is None or self.pubsub is None:
            raise P2PError("p2p is not running")
        return self.host, self.pubsub

    # ------------------------------------------------------------------------------------------ publishing

    def set_unsafe_block_signer(self, address: bytes | None) -> None:
        """The SystemConfig's unsafe block signer; gossip from any other key is rejected, none known = ignored."""
        self._unsafe_signer = address

    @property
    def unsafe_block_signer(self) -> bytes | None:
        return self._unsafe_signer

    async def publish(self, env: ExecutionPayloadEnvelope) -> bytes:
        """Sign and publish a sealed block on its fork's topic; returns the message id."""
        signer = self.config.sequencer_key
        if signer is None:
            raise P2PError("no --p2p.sequencer.key: this node cannot sign blocks")
        version = version_for_timestamp(self.rollup, env.timestamp)
        data = encode_block_message(env, version, signer, self.chain_id)
        topic = blocks_topic(self.chain_id, version)
        verdict = await self.publish_raw(topic, data)
        if verdict is not None and not verdict.accepted:
            raise P2PError(f"own block {env.number} not gossiped: {verdict.outcome.value} "
                           f"({verdict.reason.value}: {verdict.detail})")
        self.published += 1
        return message_id(topic, data)

    def submit(self, env: ExecutionPayloadEnvelope) -> None:
        """Queue a sealed block for :meth:`publish` without waiting (the sequencer's ``on_sealed`` hook)."""
        try:
            self._publish_send.send_nowait(env)
        except trio.WouldBlock:
            log.warning("p2p publish queue full: block %d not gossiped", env.number)

    async def publish_raw(self, topic: str, data: bytes) -> Verdict | None:
        """Publish bytes as they are (tests and benchmarks send malformed messages through this); returns this
        node's own verdict on them, None if it had seen them already."""
        _, pubsub = self._require_running()
        return await pubsub.publish(topic, data)

    async def _publish_loop(self) -> None:
        async for env in self._publish_recv:
            try:
                await self.publish(env)
            except Exception as e:  # a block that cannot be gossiped must not stop the sequencer's later blocks
                log.warning("failed to gossip block %d: %s", env.number, e)

    # ------------------------------------------------------------------------------------------ receiving

    def _validate_message(self, topic: str, data: bytes, forwarder: ID) -> Verdict:
        version = self.topics.get(topic)
        verdict = self.validator.validate(version if version is not None else BlockVersion.V1, data)
        self.metrics.record_gossip_validation(verdict.outcome.value, verdict.reason.value)
        if verdict.outcome is Outcome.REJECT and forwarder != self.peer_id:
            log.warning("rejected block from %s on %s: %s", forwarder.pretty(), topic, verdict.detail)
        elif verdict.outcome is Outcome.IGNORE:
            log.debug("ignored block from %s on %s: %s", forwarder.pretty(), topic, verdict.detail)
        return verdict

    def _on_accepted(self, verdict: Verdict, forwarder: ID, topic: str) -> None:
        self.received += 1
        item = GossipedPayload.of(verdict.envelope, forwarder.pretty(), topic, self._clock())
        try:
            self._deliver_fn(item)
        except Exception as e:  # the node's queue is not the network's problem
            log.error("delivering gossiped block %d failed: %s", item.number, e)

    def _enqueue(self, item: GossipedPayload) -> None:
        try:
            self._payload_send.send_nowait(item)
        except trio.WouldBlock:
            self.metrics.record_gossip_event("UNDELIVERABLE_MESSAGE")
            log.warning("gossiped block %d dropped: the node is not reading payloads", item.number)

async def _close_host(host) -> None:
    """Close the host and every connection's muxer. Cancellation interrupts py-libp2p's own connection close
    half-way (the connection is marked closed, its socket is not), and the peer would keep a dead connection, so
    muxers still open after ``host.close()`` are closed here."""
    conns = [c for cs in host.get_network().connections.values() for c in cs]
    await host.close()
    for conn in conns:
        muxed = getattr(conn, "muxed_conn", None)
        if muxed is not None and not muxed.is_closed:
            try:
                await muxed.close()
            except Exception as e:  # best effort: the process may be going away anyway
                log.debug("closing a connection to %s failed: %s", muxed.peer_id, e)
