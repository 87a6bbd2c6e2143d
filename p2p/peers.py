"""The peers side of :class:`~p2p.service.GossipService` (op-node p2p/host.go, node.go, ``opp2p_*`` peer methods;
optimism git snapshot 2024-10-25, d317e96): connected, topic and mesh peers, protection, blocking and banning through
the connection gate (:mod:`p2p.gating`), the peer monitor that bans peers whose score fell below
``--p2p.ban.threshold`` (op-node p2p/monitor/peer_monitor.go: one connected peer checked per second, static peers
never banned), this node's ENR, and dialing the static peers, the bootnodes and the peers the peerstore knows from
earlier runs. It runs on the service's host and state.
"""

from __future__ import annotations

import ipaddress
import logging

import trio
from libp2p.abc import INetConn, INetStream, INetwork, INotifee
from libp2p.peer.id import ID
from libp2p.peer.peerinfo import PeerInfo, info_from_p2p_addr
from multiaddr import Multiaddr

from p2p.enr import NodeRecord, encode_record
from p2p.errors import P2PError
from p2p.gating import remote_ip
from p2p.keys import peer_id_of_public_key
from p2p.topics import BlockVersion, blocks_topic

log = logging.getLogger("opnode.p2p")

DIAL_TIMEOUT = 30.0  # op-node dials static peers with a 30 s context
API_TAG = "api-protected"
PEER_SCORE_INSPECT_SECONDS = 60.0  # op-node peerScoreInspectFrequency: scores to metrics and the peerstore


class PeerControl:
    """Mixed into :class:`~p2p.service.GossipService`, whose ``host``, ``pubsub``, ``router``, ``config`` and block
    lists these methods use."""

    def connected_peers(self) -> list[ID]:
        """Peers with an open connection that the gate lets stay: a blocked peer that redials is connected for a
        moment before the gate closes it (py-libp2p has no pre-upgrade gater), and is not reported meanwhile."""
        if self.host is None:
            return []
        return [p for p, conns in self.host.get_network().connections.items()
                if conns and self._gate(p, next(iter(conns)))]

    def topic_peers(self, version: BlockVersion) -> list[ID]:
        if self.pubsub is None:
            return []
        return sorted(self.pubsub.peer_topics.get(blocks_topic(self.chain_id, version), ()), key=str)

    def mesh_peers(self, version: BlockVersion) -> list[ID]:
        """The peers this node sends its own messages on the topic to (without flood publish): its mesh, which
        the gossipsub heartbeat builds from ``topic_peers``."""
        if self.router is None:
            return []
        return sorted(self.router.mesh.get(blocks_topic(self.chain_id, version), ()), key=str)

    def is_protected(self, peer: ID) -> bool:
        return self.host is not None and self.host.get_network().is_protected(peer)

    async def connect(self, addr: str) -> ID:
        """Dial a ``/ip4/…/tcp/…/p2p/<id>`` address and wait for the connection (``opp2p_connectPeer``)."""
        host, _ = self._require_running()
        try:
            info = info_from_p2p_addr(Multiaddr(addr))
        except Exception as e:  # multiaddr raises several unrelated types
            raise P2PError(f"bad peer address: {e}") from None
        await self._dial(info)
        return info.peer_id

    async def disconnect(self, peer: ID) -> None:
        host, _ = self._require_running()
        await host.disconnect(peer)

    def protect(self, peer: ID) -> None:
        host, _ = self._require_running()
        host.get_network().protect(peer, API_TAG)

    def unprotect(self, peer: ID) -> None:
        host, _ = self._require_running()
        host.get_network().unprotect(peer, API_TAG)

    @property
    def blocked_peers(self) -> set[ID]:
        return self.gater.blocked_peers

    @property
    def blocked_addrs(self) -> set[ipaddress.IPv4Address | ipaddress.IPv6Address]:
        return self.gater.blocked_addrs

    @property
    def blocked_subnets(self) -> set[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        return self.gater.blocked_subnets

    def block_peer(self, peer: ID) -> None:
        """Refuse the peer's connections and drop its messages; an open connection is closed."""
        self.gater.set_peer_blocked(peer, True)
        if self.pubsub is not None:
            self.pubsub.add_to_blacklist(peer)
        self._close_peer(peer)

    def unblock_peer(self, peer: ID) -> None:
        self.gater.set_peer_blocked(peer, False)
        if self.pubsub is not None:
            self.pubsub.remove_from_blacklist(peer)

    def block_addr(self, ip: str) -> None:
        self.gater.set_addr_blocked(ipaddress.ip_address(ip), True)

    def unblock_addr(self, ip: str) -> None:
        self.gater.set_addr_blocked(ipaddress.ip_address(ip), False)

    def block_subnet(self, cidr: str) -> None:
        self.gater.set_subnet_blocked(ipaddress.ip_network(cidr, strict=False), True)

    def unblock_subnet(self, cidr: str) -> None:
        self.gater.set_subnet_blocked(ipaddress.ip_network(cidr, strict=False), False)

    def ban_peer(self, peer: ID, expiry: float) -> None:
        """op-node ``BanPeer``: refuse the peer until ``expiry`` (unix seconds) and close its connections."""
        self.gater.ban_peer(peer, expiry)
        self._close_peer(peer)

    def peer_score(self, peer: ID) -> float:
        return self.scores.score(peer.to_base58())

    def _close_peer(self, peer: ID) -> None:
        if self._nursery is not None and self.host is not None:
            self._nursery.start_soon(self.host.disconnect, peer)

    def record_of(self, peer: ID) -> NodeRecord | None:
        return self._records.get(peer)

    def local_record(self) -> str:
        """This node's ENR (with the ``opstack`` entry), built from the advertised or listen address."""
        ip = self.config.advertise_ip or self.config.listen_ip
        tcp = self.config.advertise_tcp or self._bound_tcp_port() or self.config.listen_tcp
        if ipaddress.ip_address(ip).version != 4 or ipaddress.ip_address(ip).is_unspecified:
            ip = "127.0.0.1"
        return encode_record(self._key, ip=ip, tcp=tcp, udp=None, chain_id=self.chain_id)

    def _bound_tcp_port(self) -> int | None:
        if self.host is None:
            return None
        for a in self.host.get_addrs():
            port = a.value_for_protocol("tcp")
            if port:
                return int(port)
        return None

    def _gate(self, peer: ID, conn: INetConn) -> bool:
        """Whether a connection may stay open (read-only: a connection already refused is not counted again)."""
        if self.gater.peer_refusal(peer) is not None:
            return False
        ip = remote_ip(conn)
        return ip is None or self.gater.ip_refusal(ip) is None

    def _peer_connected(self, peer: ID, conn: INetConn) -> None:
        ip = remote_ip(conn)
        if not self.gater.allow_peer(peer) or (ip is not None and not self.gater.allow_ip(ip)):
            self._close_peer(peer)
            return
        self.metrics.set_peer_count(len(self.connected_peers()))

    def _streams_changed(self, delta: int) -> None:
        self._streams = max(0, self._streams + delta)
        self.metrics.set_stream_count(self._streams)

    def _peer_disconnected(self, peer: ID) -> None:
        self.metrics.set_peer_count(len(self.connected_peers()))

    async def _dial(self, info: PeerInfo) -> None:
        host, _ = self._require_running()
        why = self.gater.dial_refusal(info.peer_id, list(info.addrs))
        if why is not None:  # go-libp2p's swarm error for a gated dial, with the reason
            raise P2PError(f"gater disallows connection to peer ({why})")
        host.get_network().unblock_peer(info.peer_id)  # py-libp2p keeps failed peers undialable for 60 s
        with trio.fail_after(DIAL_TIMEOUT):
            await host.connect(info)
        self.peerstore.add_addrs(info.peer_id.to_base58(), [str(a) for a in info.addrs], self._clock())

    async def _try_dial(self, info: PeerInfo, what: str) -> None:
        try:
            await self._dial(info)
            log.debug("connected to %s %s", what, info.peer_id.pretty())
        except Exception as e:  # any dial failure is retried on the next round
            log.info("could not connect to %s %s: %s", what, info.peer_id.pretty(), e)

    async def _static_peers_loop(self) -> None:
        while True:
            connected = set(self.connected_peers())
            async with trio.open_nursery() as n:
                for info in self._static:
                    if info.peer_id not in connected and self.gater.dial_refusal(info.peer_id, info.addrs) is None:
                        n.start_soon(self._try_dial, info, "static peer")
            await trio.sleep(self.config.static_redial_seconds)

    async def _dial_bootnodes(self) -> None:
        """Dial the bootnodes and the peers the peerstore knows from earlier runs whenever fewer than ``peers.lo``
        peers are connected (a stand-in for discovery, which op-node feeds from the same peerstore); peers the gate
        refuses (banned, blocked, outside ``--p2p.netrestrict``) are skipped."""
        infos = [PeerInfo(peer_id_of_public_key(r.public_key), [Multiaddr(f"/ip4/{r.ip}/tcp/{r.tcp}")])
                 for r in self._bootnodes]
        static = {p.peer_id for p in self._static}
        for peer, addrs in self.peerstore.known_peers().items():
            info = _known_peer(peer, addrs)
            if info is not None and info.peer_id not in static and all(i.peer_id != info.peer_id for i in infos):
                infos.append(info)
        while infos:
            connected = set(self.connected_peers())
            if len(connected) < self.config.peers_lo:
                async with trio.open_nursery() as n:
                    for info in infos:
                        if (info.peer_id not in connected and info.peer_id != self.peer_id
                                and self.gater.dial_refusal(info.peer_id, info.addrs) is None):
                            n.start_soon(self._try_dial, info, "known peer")
            await trio.sleep(self.config.static_redial_seconds)

    async def _peer_monitor(self) -> None:
        """op-node ``PeerMonitor.checkNextPeer`` once per ``peer_monitor_seconds``: the next connected peer whose
        score is below ``--p2p.ban.threshold`` and that is not a static peer is banned for ``--p2p.ban.duration``
        and disconnected."""
        static = {p.peer_id for p in self._static}
        peers: list[ID] = []
        i = 0
        while True:
            await trio.sleep(self.config.peer_monitor_seconds)
            if i >= len(peers):
                peers, i = self.connected_peers(), 0
            if not peers:
                continue
            peer = peers[i]
            i += 1
            score = self.peer_score(peer)
            if score >= self.config.ban_threshold or peer in static:
                continue
            log.warning("banning peer %s for %.0f s: score %.2f is below %.2f", peer.pretty(),
                        self.config.ban_duration, score, self.config.ban_threshold)
            self.ban_peer(peer, self._clock() + self.config.ban_duration)
            self._save_scores()

    async def _inspect_scores(self) -> None:
        """op-node's score inspection (``peerScoreInspectFrequency``): the connected peers' scores to the
        ``peer_scores`` histogram, every score to the peerstore."""
        while True:
            await trio.sleep(PEER_SCORE_INSPECT_SECONDS)
            self.metrics.set_peer_scores([self.scores.snapshot(p.to_base58()) for p in self.connected_peers()])
            self._save_scores()

    def _save_scores(self) -> None:
        try:
            self.peerstore.save_scores(self.scores.records(), self._clock())
        except Exception as e:  # a full disk must not stop gossip; the next inspection tries again
            log.warning("could not save peer scores: %s", e)


def _known_peer(peer: str, addrs: list[str]) -> PeerInfo | None:
    try:
        return PeerInfo(ID.from_base58(peer), [Multiaddr(a) for a in addrs])
    except Exception:  # a record this version cannot read is skipped, not fatal
        return None


class PeerNotifee(INotifee):
    """py-libp2p's connection and stream events, handed to the service (gate, peer and stream counts)."""

    def __init__(self, service: PeerControl):
        self.service = service

    async def connected(self, network: INetwork, conn: INetConn) -> None:
        self.service._peer_connected(conn.muxed_conn.peer_id, conn)

    async def disconnected(self, network: INetwork, conn: INetConn) -> None:
        self.service._peer_disconnected(conn.muxed_conn.peer_id)

    async def opened_stream(self, network: INetwork, stream: INetStream) -> None:
        self.service._streams_changed(+1)

    async def closed_stream(self, network: INetwork, stream: INetStream) -> None:
        self.service._streams_changed(-1)

    async def listen(self, network: INetwork, multiaddr) -> None:
        pass

    async def listen_close(self, network: INetwork, multiaddr) -> None:
        pass
