"""The ``opp2p_*`` JSON-RPC methods as plain functions over a :class:`~p2p.service.GossipService` (op-node
p2p/rpc_server.go ``APIBackend``, JSON shapes of p2p/rpc_api.go). The RPC server maps ``METHODS[name](service,
*params)`` (awaiting coroutines) and turns :class:`P2PApiError` into a JSON-RPC error with op-node's message.

Shapes follow op-node's Go JSON: ``connectedness`` and ``direction`` are go-libp2p's integers (0 not connected /
1 connected; 0 unknown / 1 inbound / 2 outbound), ``latency`` is nanoseconds, ``nodeID`` is the discovery id in
hex without ``0x``. Peer scores are :meth:`p2p.scoring.PeerScores.snapshot` in op-node's ``store.PeerScores``
shape (the block-topic counters summed over the block topics; the parts opnode does not score read 0).
"""

from __future__ import annotations

import base64
import binascii
import inspect
import ipaddress

from coincurve import PublicKey
from libp2p.peer.id import ID

from derivation.protocol.crypto import keccak256
from p2p.errors import P2PError
from p2p.service import GossipService
from p2p.topics import BlockVersion


class P2PApiError(Exception):
    """An ``opp2p_*`` call op-node would answer with an error; ``str()`` is op-node's message, ``code`` its
    JSON-RPC error code (go-ethereum's default for a handler's error)."""

    code = -32000


class P2PInvalidParams(P2PApiError):
    """A parameter op-node's JSON decoding would refuse (go-ethereum answers ``-32602 invalid argument N: …``)."""

    code = -32602

    def __init__(self, index: int, why: str):
        super().__init__(f"invalid argument {index}: {why}")


ERR_INVALID_REQUEST = "invalid request"
ERR_DISABLED_DISCOVERY = "discovery disabled"
_GO_DIRECTION = {"INBOUND": 1, "OUTBOUND": 2}  # go-libp2p network.Direction; py-libp2p numbers them -1/0/1


def _peer(value) -> ID:
    if not isinstance(value, str):  # peer.ID decodes from a JSON string only
        raise P2PInvalidParams(0, f"json: cannot unmarshal {_go_type(value)} into Go value of type string")
    try:
        return ID.from_base58(value)
    except Exception:  # base58/multihash raise several unrelated types
        raise P2PApiError(ERR_INVALID_REQUEST) from None


def _go_type(value) -> str:
    """The JSON type name encoding/json uses in its unmarshal errors."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return {dict: "object", list: "array", type(None): "null"}.get(type(value), "string")


def _ip(value) -> str:
    if not isinstance(value, str):
        raise P2PInvalidParams(0, f"json: cannot unmarshal {_go_type(value)} into Go value of type net.IP")
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise P2PApiError(ERR_INVALID_REQUEST) from None


def _subnet(value) -> str:
    """A subnet as ``a.b.c.d/n`` text, or Go's ``net.IPNet`` JSON ``{"IP": "...", "Mask": "<base64>"}``.

    The mask must be strict base64 of 4 (IPv4) or 16 bytes with contiguous ones: Go refuses bad base64 while decoding
    the request, and a mask of another length matches no address in ``IPNet.Contains``. Python's lenient base64 once
    turned the mask "!!" into zero bytes, i.e. ``0.0.0.0/0``, and one call blocked every peer.
    """
    if isinstance(value, dict):
        ip, mask_b64 = value.get("IP"), value.get("Mask")
        if not isinstance(ip, str) or not isinstance(mask_b64, str):
            raise P2PInvalidParams(0, "an IPNet needs string fields IP and Mask")
        try:
            mask = base64.b64decode(mask_b64, validate=True)
            addr = ipaddress.ip_address(ip)
        except (binascii.Error, ValueError) as e:
            raise P2PInvalidParams(0, str(e)) from None
        bits = int.from_bytes(mask, "big")
        size = len(mask) * 8
        prefix = bits.bit_count()
        if len(mask) != addr.max_prefixlen // 8 or bits != ((1 << size) - 1) ^ ((1 << (size - prefix)) - 1):
            raise P2PInvalidParams(0, f"mask {mask.hex()} is not a contiguous IPv{addr.version} netmask")
        value = f"{addr}/{prefix}"
    elif not isinstance(value, str):
        raise P2PInvalidParams(0, f"json: cannot unmarshal {_go_type(value)} into Go value of type net.IPNet")
    try:
        return str(ipaddress.ip_network(value, strict=False))
    except ValueError:
        raise P2PApiError(ERR_INVALID_REQUEST) from None


def _node_id(peer: ID) -> str:
    try:
        pub = peer.extract_public_key()
        return keccak256(PublicKey(pub.to_bytes()).format(compressed=False)[1:]).hex()
    except Exception:  # ids without an embedded secp256k1 key have no discovery id
        return "00" * 32


def _peer_info(service: GossipService, peer: ID, gossip_peers: set[ID]) -> dict:
    host = service.host
    store = host.get_peerstore() if host is not None else None
    network = host.get_network() if host is not None else None
    conns = network.connections.get(peer, []) if network is not None else []
    addrs, protocols, agent, version = [], [], "", ""
    if store is not None:
        try:
            addrs = [f"{a}/p2p/{peer.pretty()}" for a in store.addrs(peer)]
        except Exception:  # unknown peers have no record
            addrs = []
        try:
            protocols = [str(p) for p in store.get_protocols(peer)]
        except Exception:
            protocols = []
        for key, target in (("AgentVersion", "agent"), ("ProtocolVersion", "version")):
            try:
                val = store.get(peer, key)
            except Exception:
                val = None
            if isinstance(val, str):
                if target == "agent":
                    agent = val
                else:
                    version = val
    record = service.record_of(peer)
    direction = _GO_DIRECTION.get(getattr(getattr(conns[0], "direction", None), "name", ""), 0) if conns else 0
    return {"peerID": peer.pretty(), "nodeID": _node_id(peer), "userAgent": agent, "protocolVersion": version,
            "ENR": record.text if record and record.text.startswith("enr:") else "",
            "addresses": addrs, "protocols": protocols or None, "connectedness": 1 if conns else 0,
            "direction": direction, "protected": service.is_protected(peer),
            "chainID": record.opstack[0] if record and record.opstack else 0, "latency": 0,
            "gossipBlocks": peer in gossip_peers, "scores": service.scores.snapshot(peer.to_base58())}


def _gossip_peers(service: GossipService) -> set[ID]:
    return {p for v in BlockVersion for p in service.topic_peers(v)}


def self_info(service: GossipService) -> dict:
    """``opp2p_self``."""
    info = _peer_info(service, service.peer_id, set())
    if service.host is not None:
        info["addresses"] = [str(a) for a in service.host.get_addrs()]
    info["gossipBlocks"] = True
    info["latency"] = 0
    info["connectedness"] = 0
    info["ENR"] = service.local_record()
    return info


def peers(service: GossipService, connected: bool = True) -> dict:
    """``opp2p_peers``: connected peers, or every peer the peerstore knows when ``connected`` is false."""
    if not isinstance(connected, bool):
        raise P2PApiError(ERR_INVALID_REQUEST)
    ids = service.connected_peers()
    if not connected and service.host is not None:
        ids = [p for p in service.host.get_peerstore().peer_ids() if p != service.peer_id]
    gossip = _gossip_peers(service)
    dump = {p.pretty(): _peer_info(service, p, gossip) for p in ids}
    return {"totalConnected": sum(1 for d in dump.values() if d["connectedness"] == 1), "peers": dump,
            "bannedPeers": [p.pretty() for p in sorted(service.blocked_peers, key=str)],
            "bannedIPS": sorted(str(a) for a in service.blocked_addrs),
            "bannedSubnets": sorted(str(n) for n in service.blocked_subnets)}


def peer_stats(service: GossipService) -> dict:
    """``opp2p_peerStats`` (op-node adds no V4 counter: ``blocksTopicV4`` is this node's addition)."""
    known = len(service.host.get_peerstore().peer_ids()) - 1 if service.host is not None else 0
    return {"connected": len(service.connected_peers()), "table": 0,
            "blocksTopic": len(service.topic_peers(BlockVersion.V1)),
            "blocksTopicV2": len(service.topic_peers(BlockVersion.V2)),
            "blocksTopicV3": len(service.topic_peers(BlockVersion.V3)),
            "blocksTopicV4": len(service.topic_peers(BlockVersion.V4)),
            "banned": len(service.blocked_peers), "known": max(known, 0)}


def discovery_table(service: GossipService) -> list:
    """``opp2p_discoveryTable``: there is no discv5 here, answered as op-node does with discovery off."""
    raise P2PApiError(ERR_DISABLED_DISCOVERY)


def block_peer(service: GossipService, peer_id: str) -> None:
    service.block_peer(_peer(peer_id))


def unblock_peer(service: GossipService, peer_id: str) -> None:
    service.unblock_peer(_peer(peer_id))


def list_blocked_peers(service: GossipService) -> list[str]:
    return [p.pretty() for p in sorted(service.blocked_peers, key=str)]


def block_addr(service: GossipService, ip: str) -> None:
    service.block_addr(_ip(ip))


def unblock_addr(service: GossipService, ip: str) -> None:
    service.unblock_addr(_ip(ip))


def list_blocked_addrs(service: GossipService) -> list[str]:
    return sorted(str(a) for a in service.blocked_addrs)


def block_subnet(service: GossipService, subnet) -> None:
    service.block_subnet(_subnet(subnet))


def unblock_subnet(service: GossipService, subnet) -> None:
    service.unblock_subnet(_subnet(subnet))


def list_blocked_subnets(service: GossipService) -> list[str]:
    return sorted(str(n) for n in service.blocked_subnets)


def protect_peer(service: GossipService, peer_id: str) -> None:
    _call(service.protect, _peer(peer_id))


def unprotect_peer(service: GossipService, peer_id: str) -> None:
    _call(service.unprotect, _peer(peer_id))


async def connect_peer(service: GossipService, addr: str) -> None:
    try:
        await service.connect(str(addr))
    except P2PError as e:
        raise P2PApiError(str(e)) from None
    except Exception as e:  # dial failures come in many types; op-node returns the dial error text
        raise P2PApiError(f"failed to connect: {e}") from None


async def disconnect_peer(service: GossipService, peer_id: str) -> None:
    try:
        await service.disconnect(_peer(peer_id))
    except P2PError as e:
        raise P2PApiError(str(e)) from None


def _call(fn, *args) -> None:
    try:
        fn(*args)
    except P2PError as e:
        raise P2PApiError(str(e)) from None


METHODS = {
    "opp2p_self": self_info,
    "opp2p_peers": peers,
    "opp2p_peerStats": peer_stats,
    "opp2p_discoveryTable": discovery_table,
    "opp2p_blockPeer": block_peer,
    "opp2p_unblockPeer": unblock_peer,
    "opp2p_listBlockedPeers": list_blocked_peers,
    "opp2p_blockAddr": block_addr,
    "opp2p_unblockAddr": unblock_addr,
    "opp2p_listBlockedAddrs": list_blocked_addrs,
    "opp2p_blockSubnet": block_subnet,
    "opp2p_unblockSubnet": unblock_subnet,
    "opp2p_listBlockedSubnets": list_blocked_subnets,
    "opp2p_protectPeer": protect_peer,
    "opp2p_unprotectPeer": unprotect_peer,
    "opp2p_connectPeer": connect_peer,
    "opp2p_disconnectPeer": disconnect_peer,
}


async def call(service: GossipService, method: str, *params):
    """Dispatch one ``opp2p_*`` call (for servers that prefer one entry point)."""
    fn = METHODS.get(method)
    if fn is None:
        raise P2PApiError(f"the method {method} does not exist/is not available")
    try:
        result = fn(service, *params)
    except TypeError:
        raise P2PApiError(ERR_INVALID_REQUEST) from None
    if inspect.isawaitable(result):
        result = await result
    return result
