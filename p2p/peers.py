"""The peers side of :class:`~p2p.service.GossipService` (op-node p2p/host.go, gating.go, ``opp2p_*`` peer methods):
connected, topic and mesh peers, protection, the connection gate (blocked peers, addresses and subnets; py-libp2p has
no pre-upgrade gater, so a gated connection is closed as soon as it opens), this node's ENR, and dialing the static
peers and bootnodes. It runs on the service's host and state.
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
from p2p.keys import peer_id_of_public_key
from p2p.topics import BlockVersion, blocks_topic

log = logging.getLogger("opnode.p2p")

DIAL_TIMEOUT = 30.0  # op-node dials static peers with a 30 s context
API_TAG = "api-protected"


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

    def block_peer(self, peer: ID) -> None:
        """Refuse the peer's connections and drop its messages; an open connection is closed."""
        self.blocked_peers.add(peer)
        if self.pubsub is not None:
            self.pubsub.add_to_blacklist(peer)
        if self._nursery is not None and self.host is not None:
            self._nursery.start_soon(self.host.disconnect, peer)

    def unblock_peer(self, peer: ID) -> None:
        self.blocked_peers.discard(peer)
        if self.pubsub is not None:
            self.pubsub.remove_from_blacklist(peer)

    def block_addr(self, ip: str) -> None:
        self.blocked_addrs.add(ipaddress.ip_address(ip))

    def unblock_addr(self, ip: str) -> None:
        self.blocked_addrs.discard(ipaddress.ip_address(ip))

    def block_subnet(self, cidr: str) -> None:
        self.blocked_subnets.add(ipaddress.ip_network(cidr, strict=False))

    def unblock_subnet(self, cidr: str) -> None:
        self.blocked_subnets.discard(ipaddress.ip_network(cidr, strict=False))

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
        """Whether a new connection may stay open."""
        if peer in self.blocked_peers:
            return False
        if not (self.blocked_addrs or self.blocked_subnets):
            return True
        ip = _remote_ip(conn)
        if ip is None:
            return True
        return ip not in self.blocked_addrs and not any(ip in net for net in self.blocked_subnets)

    def _peer_connected(self, peer: ID, conn: INetConn) -> None:
        if not self._gate(peer, conn):
            if self._nursery is not None and self.host is not None:
                self._nursery.start_soon(self.host.disconnect, peer)
            return
        self.metrics.set_peer_count(len(self.connected_peers()))

    def _streams_changed(self, delta: int) -> None:
        self._streams = max(0, self._streams + delta)
        self.metrics.set_stream_count(self._streams)

    def _peer_disconnected(self, peer: ID) -> None:
        self.metrics.set_peer_count(len(self.connected_peers()))

    async def _dial(self, info: PeerInfo) -> None:
        host, _ = self._require_running()
        host.get_network().unblock_peer(info.peer_id)  # py-libp2p keeps failed peers undialable for 60 s
        with trio.fail_after(DIAL_TIMEOUT):
            await host.connect(info)

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
                    if info.peer_id not in connected and info.peer_id not in self.blocked_peers:
                        n.start_soon(self._try_dial, info, "static peer")
            await trio.sleep(self.config.static_redial_seconds)

    async def _dial_bootnodes(self) -> None:
        """Dial the bootnodes whenever fewer than ``peers.lo`` peers are connected (a stand-in for discovery)."""
        infos = [PeerInfo(peer_id_of_public_key(r.public_key), [Multiaddr(f"/ip4/{r.ip}/tcp/{r.tcp}")])
                 for r in self._bootnodes]
        while infos:
            connected = set(self.connected_peers())
            if len(connected) < self.config.peers_lo:
                async with trio.open_nursery() as n:
                    for info in infos:
                        if info.peer_id not in connected and info.peer_id != self.peer_id:
                            n.start_soon(self._try_dial, info, "bootnode")
            await trio.sleep(self.config.static_redial_seconds)


def _remote_ip(conn: INetConn):
    try:
        addr = conn.muxed_conn.get_remote_address()
        return ipaddress.ip_address(addr[0]) if addr else None
    except (AttributeError, ValueError, TypeError):
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
