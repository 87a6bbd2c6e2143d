"""The connection gate (op-node p2p/gating: ``blocking.go`` go-libp2p's basic gater with the ``opp2p_block*`` lists,
``expiry.go`` ``ExpiryConnectionGater`` with peer and IP bans that lift themselves, and the ``--p2p.netrestrict``
network list op-node gives discv5, here applied to every dial and accept).

Where it is asked (py-libp2p 0.8.1):

- accept: the swarm asks its ``connection_gate`` about the remote address of each inbound TCP connection before
  the security handshake (go-libp2p ``InterceptAccept``); :class:`SwarmGate` answers with :meth:`allow_ip`, so a
  refused connection is closed unsecured;
- dial: :meth:`p2p.peers.PeerControl._dial` asks :meth:`dial_refusal` first (``InterceptPeerDial`` /
  ``InterceptAddrDial``) and the swarm filters each address through :class:`SwarmGate` again;
- secured: a peer id is known only after the handshake; a banned or blocked peer is disconnected as soon as its
  connection opens (``InterceptSecured``; py-libp2p has no hook in between).

Followed: the optimism git snapshot of 2024-10-25 (d317e96) and the 2026 file index (gating/expiry.go,
scoring.go, p2p/host.go, p2p/node.go ``BanPeer``). Bans expire as op-node's: the first check after the expiry
lifts the ban (and counts an unban). Permanent blocks and bans are written to the
:class:`~p2p.peerstore.PeerStore`, so they outlive a restart with a file peerstore.
"""

from __future__ import annotations

import ipaddress
import logging
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING

from libp2p.abc import INetConn
from libp2p.network.connection_gate import ConnectionGate, extract_ip_from_multiaddr
from libp2p.peer.id import ID
from multiaddr import Multiaddr

from p2p.peerstore import PeerStore

if TYPE_CHECKING:
    from p2p.metrics import GossipMetrics

log = logging.getLogger("opnode.p2p")

IP = ipaddress.IPv4Address | ipaddress.IPv6Address
Net = ipaddress.IPv4Network | ipaddress.IPv6Network


class ConnectionGater:
    def __init__(self, store: PeerStore, netrestrict: tuple[str, ...], clock: Callable[[], float],
                 metrics: GossipMetrics):
        self.store = store
        self.netrestrict: tuple[Net, ...] = tuple(ipaddress.ip_network(n, strict=False) for n in netrestrict)
        self._clock = clock
        self._metrics = metrics
        self.blocked_peers: set[ID] = {ID.from_base58(p) for p in store.blocked("peer")}
        self.blocked_addrs: set[IP] = {ipaddress.ip_address(a) for a in store.blocked("addr")}
        self.blocked_subnets: set[Net] = {ipaddress.ip_network(n) for n in store.blocked("subnet")}
        self.refused: Counter[str] = Counter()  # why connections were refused: netrestrict, blocked, banned, ...

    # ------------------------------------------------------------------------------------------ questions

    def ip_refusal(self, ip: IP) -> str | None:
        """Why a connection to or from ``ip`` is refused, None when it is allowed."""
        if self.netrestrict and not any(ip in net for net in self.netrestrict):
            return "netrestrict"
        if ip in self.blocked_addrs or any(ip in net for net in self.blocked_subnets):
            return "blocked"
        if self._ban_active(self.store.ip_bans, str(ip), self.store.set_ip_ban, self._metrics.record_ip_unban):
            return "banned"
        return None

    def peer_refusal(self, peer: ID) -> str | None:
        if peer in self.blocked_peers:
            return "blocked"
        if self._ban_active(self.store.peer_bans, peer.to_base58(), self.store.set_peer_ban,
                            self._metrics.record_peer_unban):
            return "banned"
        return None

    def allow_ip(self, ip: IP) -> bool:
        why = self.ip_refusal(ip)
        if why is not None:
            self.refused[why] += 1
            log.debug("refused a connection with %s: %s", ip, why)
        return why is None

    def allow_peer(self, peer: ID) -> bool:
        why = self.peer_refusal(peer)
        if why is not None:
            self.refused[why] += 1
            log.debug("refused peer %s: %s", peer, why)
        return why is None

    def dial_refusal(self, peer: ID, addrs: list[Multiaddr]) -> str | None:
        """Why dialing ``peer`` at ``addrs`` is refused: the peer, or every one of its IP addresses."""
        why = self.peer_refusal(peer)
        if why is None:
            reasons = [self.ip_refusal(ip) for ip in (_ip_of(a) for a in addrs) if ip is not None]
            if reasons and all(reasons):
                why = reasons[0]
        if why is not None:
            self.refused[why] += 1
        return why

    def _ban_active(self, bans: dict[str, float], key: str, lift: Callable[[str, float | None], None],
                    count_unban: Callable[[], None]) -> bool:
        expiry = bans.get(key)
        if expiry is None:
            return False
        if self._clock() < expiry:
            return True
        log.info("ban expired, unbanning %s", key)
        lift(key, None)
        count_unban()
        return False

    # ------------------------------------------------------------------------------------------ changes

    def ban_peer(self, peer: ID, expiry: float) -> None:
        self.store.set_peer_ban(peer.to_base58(), expiry)

    def ban_ip(self, ip: IP, expiry: float) -> None:
        self.store.set_ip_ban(str(ip), expiry)

    def set_peer_blocked(self, peer: ID, blocked: bool) -> None:
        (self.blocked_peers.add if blocked else self.blocked_peers.discard)(peer)
        self.store.set_blocked("peer", peer.to_base58(), blocked)

    def set_addr_blocked(self, ip: IP, blocked: bool) -> None:
        (self.blocked_addrs.add if blocked else self.blocked_addrs.discard)(ip)
        self.store.set_blocked("addr", str(ip), blocked)

    def set_subnet_blocked(self, net: Net, blocked: bool) -> None:
        (self.blocked_subnets.add if blocked else self.blocked_subnets.discard)(net)
        self.store.set_blocked("subnet", str(net), blocked)


class SwarmGate(ConnectionGate):
    """py-libp2p's swarm gate (asked for every inbound connection's address and every dialed address) answering
    with the :class:`ConnectionGater`; its own allow/deny lists stay empty, so its connection pruner treats no
    peer as allow-listed."""

    def __init__(self, gater: ConnectionGater):
        super().__init__()
        self.gater = gater

    async def is_allowed(self, remote_addr: Multiaddr) -> bool:
        ips = [ipaddress.ip_address(a) for a in await extract_ip_from_multiaddr(remote_addr)]
        return not ips or any(self.gater.allow_ip(ip) for ip in ips)


def _ip_of(addr: Multiaddr) -> IP | None:
    for proto in ("ip4", "ip6"):
        try:
            return ipaddress.ip_address(addr.value_for_protocol(proto))
        except Exception:  # multiaddr raises its own lookup error for an absent protocol
            continue
    return None


def remote_ip(conn: INetConn) -> IP | None:
    """The remote IP of a py-libp2p connection, None when it has none."""
    try:
        addr = conn.muxed_conn.get_remote_address()  # type: ignore[attr-defined]  # yamux's and mplex's
        return ipaddress.ip_address(addr[0]) if addr else None
    except (AttributeError, ValueError, TypeError):
        return None
