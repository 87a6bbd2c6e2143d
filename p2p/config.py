"""P2P settings from op-node's flags (op-node/flags/p2p_flags.go, p2p/cli/load_config.go).

:func:`P2PConfig.from_flags` takes the flag values by op-node name (``p2p.listen.tcp`` …) as strings or native
values, so the CLI and ``OP_NODE_P2P_*`` environment handling stay in ``opnode``; it is the one P2P configuration:
the node's configuration holds it and the gossip service reads it. Nothing heavy is imported here (the node key
helpers load libp2p), so parsing the node's flags stays fast. Defaults are op-node's: listen on
0.0.0.0:9222, peers low/high tide 20/30, key file ``opnode_p2p_priv.txt``. A port of 0 picks a free port; ports
below 1024 are refused as op-node refuses them.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from derivation.protocol.errors import ParseError
from p2p.enr import NodeRecord, parse_bootnodes
from p2p.signing import LocalSigner

if TYPE_CHECKING:
    from multiaddr import Multiaddr

DEFAULT_KEY_FILE = "opnode_p2p_priv.txt"  # op-node's --p2p.priv.path default


class P2PConfigError(ParseError):
    """A p2p flag value that op-node would refuse."""


@dataclass(frozen=True, slots=True)
class P2PConfig:
    disabled: bool = False
    listen_ip: str = "0.0.0.0"
    listen_tcp: int = 9222
    advertise_ip: str | None = None
    advertise_tcp: int | None = None
    static_peers: tuple[str, ...] = ()  # multiaddrs with /p2p/<peer id>
    bootnodes: tuple[NodeRecord, ...] = ()
    no_discovery: bool = False
    priv_path: str = DEFAULT_KEY_FILE
    priv_raw: bytes | None = None  # --p2p.priv.raw (hidden flag): the key itself, not persisted
    peers_lo: int = 20
    peers_hi: int = 30
    peers_grace: float = 30.0
    sequencer_key: LocalSigner | None = dataclasses.field(default=None, repr=False)
    mesh_d: int = 8
    mesh_d_lo: int = 6
    mesh_d_hi: int = 12
    flood_publish: bool = False
    gossip_timestamp_threshold: float = 60.0  # --p2p.gossip.timestamp.threshold: older blocks are REJECTed
    static_redial_seconds: float = 60.0  # op-node monitorStaticPeers ticks every minute
    # peer management (op-node p2p/config.go BanningEnabled/Threshold/Duration, ScoringParams, NetRestrict, Store):
    # "light" or "none" gossip peer scoring; peers scoring below ban_threshold are banned for ban_duration seconds;
    # netrestrict: CIDRs every dialed or accepted peer must be in (empty: any); the sqlite peerstore file or "memory"
    scoring: str = "light"
    ban_peers: bool = True
    ban_threshold: float = -100.0
    ban_duration: float = 3600.0
    netrestrict: tuple[str, ...] = ()
    peerstore_path: str = "opnode_peerstore_db"
    peer_monitor_seconds: float = 1.0  # op-node monitor/peer_monitor.go checkInterval: one peer per tick
    # op-node settings kept as given (so the node's configuration is complete) that the gossip service does not
    # act on: discv5 (UDP, NAT), its store, req-resp sync, transport tuning
    listen_udp: int = 0
    advertise_udp: int = 0
    nat: bool = False
    discovery_path: str = "opnode_discovery_db"
    sync_req_resp: bool = True
    sync_only_req_to_static: bool = False
    mesh_d_lazy: int = 6
    mux: str = "yamux,mplex"
    security: str = "noise"
    user_agent: str = "optimism"
    timeout_negotiation: float = 10.0
    timeout_accept: float = 10.0
    timeout_dial: float = 10.0
    ping: bool = True

    @classmethod
    def from_flags(cls, flags: Mapping[str, object]) -> P2PConfig:
        """``flags`` maps op-node flag names (without ``--``) to values, as strings or parsed (lists, numbers,
        booleans); absent names keep the defaults. The settings the service does not act on are kept as given
        (:data:`KEPT`), the peer-management ones parsed (:data:`PEER_MANAGEMENT`); op-node's remaining ``p2p.*`` flags are accepted and ignored."""
        foreign = sorted(k for k in flags if not k.startswith("p2p."))
        if foreign:
            raise P2PConfigError(f"not a p2p flag: {', '.join(foreign)}")
        v = {k: ",".join(map(str, x)) if isinstance(x, (list, tuple)) else x for k, x in flags.items()}
        out: dict = {}
        if _bool(v.get("p2p.disable", False)):
            return cls(disabled=True)
        if v.get("p2p.listen.ip") not in (None, ""):
            out["listen_ip"] = _ip(v["p2p.listen.ip"], "p2p.listen.ip")
        if v.get("p2p.listen.tcp") is not None:
            out["listen_tcp"] = _port(v["p2p.listen.tcp"], "p2p.listen.tcp")
        if v.get("p2p.advertise.ip") not in (None, ""):
            out["advertise_ip"] = _ip(v["p2p.advertise.ip"], "p2p.advertise.ip")
        if v.get("p2p.advertise.tcp") not in (None, 0, "0", ""):
            out["advertise_tcp"] = _port(v["p2p.advertise.tcp"], "p2p.advertise.tcp")
        if v.get("p2p.static"):
            out["static_peers"] = tuple(_static_peers(str(v["p2p.static"])))
        if v.get("p2p.bootnodes"):
            out["bootnodes"] = tuple(parse_bootnodes(str(v["p2p.bootnodes"])))
        out["no_discovery"] = _bool(v.get("p2p.no-discovery", False))
        if v.get("p2p.priv.path"):
            out["priv_path"] = str(v["p2p.priv.path"])
        if v.get("p2p.priv.raw"):
            from p2p.keys import parse_node_key

            try:
                out["priv_raw"] = parse_node_key(str(v["p2p.priv.raw"]))
            except ValueError as e:
                raise P2PConfigError(f"--p2p.priv.raw: {e}") from None
        for name, key in (("p2p.peers.lo", "peers_lo"), ("p2p.peers.hi", "peers_hi"),
                          ("p2p.gossip.mesh.d", "mesh_d"), ("p2p.gossip.mesh.lo", "mesh_d_lo"),
                          ("p2p.gossip.mesh.dhi", "mesh_d_hi")):
            if v.get(name) is not None:
                out[key] = _int(v[name], name)
        out["flood_publish"] = _bool(v.get("p2p.gossip.mesh.floodpublish", False))
        if v.get("p2p.gossip.timestamp.threshold") is not None:
            out["gossip_timestamp_threshold"] = _seconds(v["p2p.gossip.timestamp.threshold"],
                                                         "p2p.gossip.timestamp.threshold")
        if v.get("p2p.peers.grace") is not None:
            out["peers_grace"] = _seconds(v["p2p.peers.grace"], "p2p.peers.grace")
        if v.get("p2p.sequencer.key"):
            try:
                out["sequencer_key"] = LocalSigner.from_hex(str(v["p2p.sequencer.key"]))
            except ValueError as e:
                raise P2PConfigError(f"--p2p.sequencer.key: {e}") from None
        for name, (key, parse) in (PEER_MANAGEMENT | KEPT).items():
            if v.get(name) is not None:
                out[key] = parse(v[name], name)
        cfg = cls(**out)
        if cfg.peers_lo > cfg.peers_hi:
            raise P2PConfigError(f"--p2p.peers.lo ({cfg.peers_lo}) is above --p2p.peers.hi ({cfg.peers_hi})")
        return cfg

    @property
    def listen_multiaddr(self) -> Multiaddr:
        from multiaddr import Multiaddr  # py-libp2p's, in the opnode[p2p] extra: a node without gossip needs none

        family = "ip6" if ipaddress.ip_address(self.listen_ip).version == 6 else "ip4"
        return Multiaddr(f"/{family}/{self.listen_ip}/tcp/{self.listen_tcp}")


def _text(value, name: str) -> str:
    return str(value)


def _float(value, name: str) -> float:
    try:
        return float(str(value).strip())
    except ValueError:
        raise P2PConfigError(f"--{name}: not a number: {value!r}") from None


def _scoring(value, name: str) -> str:
    s = str(value).strip().lower()
    if s not in ("light", "none"):
        raise P2PConfigError(f"--{name}: unknown peer scoring {value!r} (light or none)")
    return s


def _netlist(value, name: str) -> tuple[str, ...]:
    """go-ethereum ``netutil.ParseNetlist``: CIDRs separated by commas or spaces, each ``address/prefix`` (host bits
    may be set: Go's ``ParseCIDR`` masks them)."""
    out = []
    for item in str(value).replace(",", " ").split():
        if "/" not in item:
            raise P2PConfigError(f"--{name}: invalid CIDR address {item!r} (want address/prefix, e.g. 10.0.0.0/8)")
        try:
            out.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise P2PConfigError(f"--{name}: invalid CIDR address {item!r}") from None
    return tuple(out)


def _peerstore_path(value, name: str) -> str:
    path = str(value).strip()
    if not path:  # op-node p2p/cli/load_config.go
        raise P2PConfigError(f"--{name}: peerstore path must be specified, use 'memory' to explicitly not persist "
                             "peer records")
    return path


def _ban_threshold(value, name: str) -> float:
    t = _float(value, name)
    if t != t:  # NaN: every comparison false, nobody would ever be banned or kept
        raise P2PConfigError(f"--{name}: not a number: {value!r}")
    return t


def _ban_duration(value, name: str) -> float:
    d = _seconds(value, name)
    if d < 0:
        raise P2PConfigError(f"--{name} must not be negative")
    return d


def _flag(value, name: str) -> bool:
    return _bool(value)


def _bool(value) -> bool:
    if isinstance(value, bool):
        return value
    s = str(value).strip().lower()
    if s in ("true", "1", "yes"):
        return True
    if s in ("false", "0", "no", ""):
        return False
    raise P2PConfigError(f"not a boolean: {value!r}")


def _int(value, name: str) -> int:
    try:
        n = int(str(value).strip(), 10)
    except ValueError:
        raise P2PConfigError(f"--{name}: not an integer: {value!r}") from None
    if n < 0:
        raise P2PConfigError(f"--{name} must not be negative")
    return n


def _seconds(value, name: str) -> float:
    s = str(value).strip()
    units = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    for suffix in ("ms", "s", "m", "h"):
        if s.endswith(suffix):
            try:
                return float(s[: -len(suffix)]) * units[suffix]
            except ValueError:
                break
    try:
        return float(s)
    except ValueError:
        raise P2PConfigError(f"--{name}: not a duration: {value!r}") from None


def _port(value, name: str) -> int:
    p = _int(value, name)
    if p == 0:
        return 0
    if p >= 1 << 16:
        raise P2PConfigError(f"--{name}: port out of range: {p}")
    if p < 1024:
        raise P2PConfigError(f"--{name}: port is reserved for system: {p}")
    return p


def _ip(value, name: str) -> str:
    try:
        return str(ipaddress.ip_address(str(value).strip()))
    except ValueError:
        raise P2PConfigError(f"--{name}: failed to parse IP {value!r}") from None


def _static_peers(value: str) -> list[str]:
    try:
        from multiaddr import Multiaddr
    except ImportError:
        raise P2PConfigError("--p2p.static needs block gossip, which needs the opnode[p2p] extra: "
                             "pip install 'opnode[p2p]'") from None
    out = []
    items = value.split(",")
    for i, item in enumerate(items):
        addr = item.strip()
        if not addr:
            continue
        try:
            m = Multiaddr(addr)
            m.value_for_protocol("p2p")
        except Exception as e:  # multiaddr raises several unrelated types for bad input
            raise P2PConfigError(f"failed to parse multi addr of static peer {i} (out of {len(items)}): {addr!r} "
                                 f"({e})") from None
        out.append(addr)
    return out


PEER_MANAGEMENT = {  # flag -> (field, parser) of the peer scoring, banning, network restriction and peerstore
    "p2p.scoring": ("scoring", _scoring), "p2p.ban.peers": ("ban_peers", _flag),
    "p2p.ban.threshold": ("ban_threshold", _ban_threshold), "p2p.ban.duration": ("ban_duration", _ban_duration),
    "p2p.netrestrict": ("netrestrict", _netlist), "p2p.peerstore.path": ("peerstore_path", _peerstore_path),
}

KEPT = {  # flag -> (field, parser) of the op-node settings kept without effect
    "p2p.listen.udp": ("listen_udp", _port), "p2p.advertise.udp": ("advertise_udp", _port),
    "p2p.nat": ("nat", _flag), "p2p.discovery.path": ("discovery_path", _text),
    "p2p.sync.req-resp": ("sync_req_resp", _flag), "p2p.sync.onlyreqtostatic": ("sync_only_req_to_static", _flag),
    "p2p.gossip.mesh.dlazy": ("mesh_d_lazy", _int), "p2p.mux": ("mux", _text), "p2p.security": ("security", _text),
    "p2p.useragent": ("user_agent", _text), "p2p.timeout.negotiation": ("timeout_negotiation", _seconds),
    "p2p.timeout.accept": ("timeout_accept", _seconds), "p2p.timeout.dial": ("timeout_dial", _seconds),
    "p2p.ping": ("ping", _flag),
}
