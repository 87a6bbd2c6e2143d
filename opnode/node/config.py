"""The node's configuration as one frozen value, built from the ``opnode node`` flags (:mod:`opnode.node.flags`).

:func:`node_config_from` applies op-node's defaults to flags that were not given, loads the files the flags name
(rollup config or named network, L1 chain config, JWT secret) and checks what op-node checks at start-up
(op-node/service.go ``NewConfig``, ``flags.CheckRequired``, ``config.Check``). Every problem is a one-line
``click.UsageError`` naming the flag (exit code 2 through ``opnode``'s CLI).

Where opnode is stricter than op-node, on purpose:
- ``--network`` together with ``--rollup.config`` is an error (op-node logs an error and uses the network);
- ``--safedb.path`` with ``--l2.follow.source`` is an error (a light node derives nothing; op-node's later
  ``ErrSafeDBWithFollowSource``);
- the flags of :attr:`opnode.node.flags.Flag.refuse` are refused with any value but their default
  (``--conductor.enabled=true``, ``--altda.enabled=true``, ``--signer.endpoint``, …).

Wiring (``opnode node``)::

    @click.command("node", cls=NodeCommand)
    @node_options
    def node_command(**kwargs):
        cfg = node_config_from(kwargs)
        setup_logging(cfg.log)
        for notice in cfg.notices:
            get_logger("opnode").warn(notice)
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field

import click

from derivation.protocol.errors import ParseError
from derivation.protocol.l1_chain_config import BUILTIN as BUILTIN_L1_CHAIN_CONFIGS
from derivation.protocol.l1_chain_config import L1ChainConfig
from derivation.protocol.rollup_config import Fork, RollupConfig
from engine.el_sync import DEFAULT_ENGINE_KIND
from engine.finality import FINALITY_DELAY
from opnode.node.admin_state import AdminState, AdminStateError
from opnode.node.flags import BY_NAME, FLAGS, REQUIRED, flag_label
from opnode.node.l1.config import BeaconConfig, L1Config
from opnode.node.logs import LogConfig
from opnode.node.networks import ConfigError, load_dependency_set, load_rollup_config
from opnode.node.rpc.server import RPCConfig
from p2p.config import KEPT, PEER_MANAGEMENT, P2PConfig, P2PConfigError


@dataclass(frozen=True, slots=True)
class EngineConfig:
    url: str  # --l2
    jwt_secret: bytes = field(repr=False)  # contents of --l2.jwt-secret
    jwt_secret_path: str = ""
    kind: str = DEFAULT_ENGINE_KIND  # --l2.enginekind (engine.el_sync: whether EL sync goes past finality)
    rpc_timeout: float = 10.0  # --l2.engine-rpc-timeout


@dataclass(frozen=True, slots=True)
class SyncConfig:
    mode: str = "consensus-layer"  # --syncmode
    req_resp: bool = False  # --syncmode.req-resp
    offset_el_safe: float = 0.0  # --syncmode.offset-el-safe, seconds (0 unless execution-layer)

    @property
    def el_sync(self) -> bool:
        return self.mode == "execution-layer"


@dataclass(frozen=True, slots=True)
class FollowSourceConfig:
    url: str  # --l2.follow.source, used verbatim (an op-supernode route keeps its /<chainID> path)
    rpc_timeout: float = 10.0  # --l2.follow.source.rpc-timeout


@dataclass(frozen=True, slots=True)
class SequencerConfig:
    enabled: bool = False
    stopped: bool = False
    max_safe_lag: int = 0
    l1_confs: int = 4
    recover: bool = False
    sealing_duration: float = 0.05  # --sequencer.sealing-duration (<= 0 → 50ms, op-node driver.Config)


@dataclass(frozen=True, slots=True)
class MetricsConfig:
    enabled: bool = False
    addr: str = "0.0.0.0"
    port: int = 7300


@dataclass(frozen=True, slots=True)
class NodeConfig:
    rollup: RollupConfig
    l1_chain_config: L1ChainConfig
    l1: L1Config
    beacon: BeaconConfig
    l2: EngineConfig
    network: str | None = None  # --network, when given
    rollup_config_path: str | None = None  # --rollup.config, when given
    sync: SyncConfig = SyncConfig()
    follow_source: FollowSourceConfig | None = None  # set: light node (no derivation)
    sequencer: SequencerConfig = SequencerConfig()
    rpc: RPCConfig = RPCConfig()
    metrics: MetricsConfig = MetricsConfig()
    log: LogConfig = LogConfig()
    p2p: P2PConfig = P2PConfig()
    safedb_path: str = ""  # --safedb.path; "" disables the safe-head DB
    runtime_config_reload_interval: float = 600.0  # --l1.runtime-config-reload-interval
    fetch_withdrawal_root_from_state: bool = False
    finality_lookback: int = 0  # --finality.lookback; 0: engine.finality.FINALITY_LOOKBACK
    finality_delay: int = FINALITY_DELAY  # --finality.delay (given: used as is, 0 too, as op-node)
    notices: tuple[str, ...] = ()  # things to log once at start (deprecated flags, generated JWT secret, …)


# ------------------------------------------------------------------------------------------------ building


class _Values:
    """The flag values with defaults applied; ``given(name)`` is op-node's ``ctx.IsSet``."""

    def __init__(self, kwargs: dict):
        unknown = set(kwargs) - {f.dest for f in FLAGS}
        if unknown:
            raise TypeError(f"not node flags: {', '.join(sorted(unknown))}")
        self.raw = kwargs

    def given(self, name: str) -> bool:
        v = self.raw.get(BY_NAME[name].dest)
        return v is not None and v != ()

    def __getitem__(self, name: str):
        f = BY_NAME[name]
        v = self.raw.get(f.dest)
        if v is None or v == ():
            return f.default
        if isinstance(v, tuple) and v and isinstance(v[0], tuple):  # repeated list flag
            return tuple(x for part in v for x in part)
        return v


def _usage(msg: str) -> click.UsageError:
    return click.UsageError(msg.replace("\n", " "))


def node_config_from(kwargs: dict) -> NodeConfig:
    """The node's configuration from the keyword arguments :func:`opnode.node.flag_options.node_options` gives a command."""
    v = _Values(kwargs)
    notices: list[str] = []
    for name in REQUIRED:
        if not v.given(name):
            raise _usage(f"flag {flag_label(name)} is required")
    for f in FLAGS:
        if f.refuse and v.given(f.name) and v[f.name] not in (f.default, False, "", (), None):
            raise _usage(f"--{f.name}: {f.refuse}")
        if f.no_effect and v.given(f.name):
            notices.append(f"--{f.name} is accepted for compatibility and has no effect")

    rollup = _rollup_config(v)
    l1_chain = _l1_chain_config(v, rollup, notices)
    l1, beacon = _l1_configs(v)
    blobs = any(rollup.fork_time(f) is not None for f in Fork if f >= Fork.ECOTONE)
    # A light node (--l2.follow.source) derives nothing, so it reads no blobs and needs no beacon node.
    if blobs and not beacon.url and not beacon.ignore and not v["l2.follow.source"]:
        raise _usage("flag --l1.beacon is required: this chain has Ecotone (blobs); pass --l1.beacon.ignore to start "
                     "without a beacon node")
    secret, generated = _jwt_secret(v["l2.jwt-secret"])
    if generated:
        notices.append(f"generated a new JWT secret in {v['l2.jwt-secret']}: configure the engine with it")
    engine = EngineConfig(url=v["l2"], jwt_secret=secret, jwt_secret_path=v["l2.jwt-secret"],
                          kind=v["l2.enginekind"], rpc_timeout=_positive(v, "l2.engine-rpc-timeout"))
    sync = _sync_config(v, notices)
    follow = None
    if v["l2.follow.source"]:
        follow = FollowSourceConfig(v["l2.follow.source"], _positive(v, "l2.follow.source.rpc-timeout"))
        if v["safedb.path"]:
            raise _usage("--safedb.path cannot be used with --l2.follow.source: a light node derives no safe heads")
    sequencer = SequencerConfig(enabled=v["sequencer.enabled"], stopped=_sequencer_stopped(v, notices),
                                max_safe_lag=v["sequencer.max-safe-lag"], l1_confs=v["sequencer.l1-confs"],
                                recover=v["sequencer.recover"],
                                sealing_duration=v["sequencer.sealing-duration"] if v["sequencer.sealing-duration"] > 0
                                else 0.05)
    rpc = RPCConfig(addr=v["rpc.addr"], port=_port(v, "rpc.port"), enable_admin=v["rpc.enable-admin"],
                    admin_state=v["rpc.admin-state"])
    metrics = MetricsConfig(enabled=v["metrics.enabled"], addr=v["metrics.addr"], port=_port(v, "metrics.port"))
    log = LogConfig(level=v["log.level"], format=v["log.format"], color=v["log.color"], pid=v["log.pid"])
    return NodeConfig(
        rollup=rollup, l1_chain_config=l1_chain, l1=l1, beacon=beacon, l2=engine,
        network=v["network"] if v.given("network") else None,
        rollup_config_path=v["rollup.config"] if v.given("rollup.config") else None,
        sync=sync, follow_source=follow, sequencer=sequencer, rpc=rpc, metrics=metrics, log=log,
        p2p=_p2p_config(v), safedb_path=v["safedb.path"],
        runtime_config_reload_interval=v["l1.runtime-config-reload-interval"],
        fetch_withdrawal_root_from_state=v["fetch-withdrawal-root-from-state"],
        finality_lookback=v["finality.lookback"], finality_delay=v["finality.delay"], notices=tuple(notices))


def _sequencer_stopped(v: _Values, notices: list[str]) -> bool:
    """op-node ``Config.LoadPersisted``: a sequencer's state persisted by ``--rpc.admin-state`` wins over
    ``--sequencer.stopped``."""
    stopped = v["sequencer.stopped"]
    if not v["sequencer.enabled"] or not v["rpc.admin-state"]:
        return stopped
    try:
        started = AdminState(v["rpc.admin-state"]).sequencer_started()
    except AdminStateError as e:
        raise _usage(f"--rpc.admin-state: {e}") from None
    if started is None:
        return stopped
    if started == stopped:
        notices.append(f"Overriding sequencer.stopped with persisted state: stopped={str(not started).lower()} "
                       f"(--rpc.admin-state {v['rpc.admin-state']})")
    return not started


def _rollup_config(v: _Values) -> RollupConfig:
    overrides: dict[Fork, int] = {}
    for name in BY_NAME:
        if name.startswith("override.") and name != "override.pectrablobschedule" and v.given(name):
            overrides[Fork.parse(name.removeprefix("override."))] = v[name]
    try:
        cfg = load_rollup_config(v["network"] if v.given("network") else None,
                                 v["rollup.config"] if v.given("rollup.config") else None, overrides)
    except ConfigError as e:
        raise _usage(str(e)) from None
    if v.given("override.pectrablobschedule"):
        cfg = dataclasses.replace(cfg, pectra_blob_schedule_time=v["override.pectrablobschedule"])
    if v["interop.dependency-set"]:
        try:
            cfg = dataclasses.replace(cfg, dependency_set=load_dependency_set(v["interop.dependency-set"]))
        except ConfigError as e:
            raise _usage(f"--interop.dependency-set: {e}") from None
    lagoon = cfg.fork_time(Fork.LAGOON)
    if lagoon is not None and cfg.dependency_set is None:
        # op-node config.Check: a Lagoon activation block cannot be derived without the set.
        raise _usage(f"the Lagoon upgrade is scheduled (lagoon_time = {lagoon}) but no interop dependency set is "
                     "configured: give --interop.dependency-set FILE")
    try:
        cfg.check()
    except ParseError as e:
        raise _usage(f"{e} (after --override.* flags)" if overrides else str(e)) from None
    return cfg


def _l1_chain_config(v: _Values, rollup: RollupConfig, notices: list[str]) -> L1ChainConfig:
    """op-node ``NewL1ChainConfig``: a built-in config for a known L1 chain id wins; other L1s need the file."""
    path = v["rollup.l1-chain-config"]
    builtin = BUILTIN_L1_CHAIN_CONFIGS.get(rollup.l1_chain_id)
    if builtin is not None:
        if path:
            notices.append(f"--rollup.l1-chain-config ignored: L1 chain {rollup.l1_chain_id} has a built-in config")
        return builtin
    if not path:
        raise _usage(f"flag --rollup.l1-chain-config is required: L1 chain {rollup.l1_chain_id} has no built-in "
                     "config (give the L1 geth genesis or its config object)")
    try:
        with open(path) as fh:
            raw = json.load(fh)
    except OSError as e:
        raise _usage(f"--rollup.l1-chain-config: cannot read {path}: {e.strerror}") from None
    except ValueError as e:
        raise _usage(f"--rollup.l1-chain-config: {path} is not valid JSON: {e}") from None
    try:
        cfg = L1ChainConfig.from_genesis_config(raw)
    except ParseError as e:
        raise _usage(f"--rollup.l1-chain-config: {path}: {e}") from None
    if cfg.chain_id != rollup.l1_chain_id:
        raise _usage(f"--rollup.l1-chain-config: chain id {cfg.chain_id} does not match the rollup's l1_chain_id "
                     f"{rollup.l1_chain_id}")
    return cfg


def _l1_configs(v: _Values) -> tuple[L1Config, BeaconConfig]:
    try:
        l1 = L1Config(rpc_url=v["l1"], trust_rpc=v["l1.trustrpc"], rpc_kind=v["l1.rpckind"],
                      max_concurrency=v["l1.max-concurrency"], rpc_rate_limit=v["l1.rpc-rate-limit"],
                      rpc_max_batch_size=v["l1.rpc-max-batch-size"], http_poll_interval=v["l1.http-poll-interval"],
                      epoch_poll_interval=v["l1.epoch-poll-interval"], cache_size=v["l1.cache-size"],
                      verifier_l1_confs=v["verifier.l1-confs"])
        beacon = BeaconConfig(url=v["l1.beacon"], fallbacks=v["l1.beacon-fallbacks"], header=v["l1.beacon-header"],
                              ignore=v["l1.beacon.ignore"], fetch_all_sidecars=v["l1.beacon.fetch-all-sidecars"],
                              slot_duration_override=v["l1.beacon.slot-duration-override"])
        beacon.header_pair()
    except ValueError as e:
        raise _usage(str(e)) from None
    if l1.http_poll_interval <= 0:
        raise _usage("--l1.http-poll-interval must be positive")
    return l1, beacon


def _sync_config(v: _Values, notices: list[str]) -> SyncConfig:
    mode = v["syncmode"]
    if v.given("l2.engine-sync"):
        if v.given("syncmode"):
            raise _usage("cannot set both --l2.engine-sync and --syncmode at the same time")
        notices.append("--l2.engine-sync is deprecated: use --syncmode=execution-layer")
        if v["l2.engine-sync"]:
            mode = "execution-layer"
    if v["syncmode.req-resp"] and not v["p2p.sync.req-resp"]:
        raise _usage("cannot set --p2p.sync.req-resp=false and --syncmode.req-resp=true at the same time")
    # op-node NewSyncConfig and sync.Config.Check (op-node/service.go, op-node/rollup/sync/config.go, 2026)
    offset = v["syncmode.offset-el-safe"]
    if offset < 0:
        raise _usage("--syncmode.offset-el-safe must be >= 0")
    if offset > 0 and mode != "execution-layer":
        notices.append(f"--syncmode.offset-el-safe is ineffective unless --syncmode=execution-layer; ignoring "
                       f"configured value (syncmode={mode}, configured_offset={v['syncmode.offset-el-safe']}s)")
        offset = 0.0
    return SyncConfig(mode=mode, req_resp=v["syncmode.req-resp"], offset_el_safe=offset)


# The --p2p.* flags of the one P2P configuration (p2p.config.P2PConfig.from_flags).
P2P_FLAGS = ("p2p.disable", "p2p.listen.ip", "p2p.listen.tcp", "p2p.advertise.ip", "p2p.advertise.tcp", "p2p.static",
             "p2p.bootnodes", "p2p.no-discovery", "p2p.priv.path", "p2p.priv.raw", "p2p.peers.lo", "p2p.peers.hi",
             "p2p.peers.grace", "p2p.sequencer.key", "p2p.gossip.mesh.d", "p2p.gossip.mesh.lo", "p2p.gossip.mesh.dhi",
             "p2p.gossip.mesh.floodpublish", "p2p.gossip.timestamp.threshold", *PEER_MANAGEMENT, *KEPT)


def _p2p_config(v: _Values) -> P2PConfig:
    """The one P2P configuration (``p2p.config.P2PConfig``), parsed once from the flags."""
    for name in ("p2p.listen.tcp", "p2p.listen.udp", "p2p.advertise.tcp", "p2p.advertise.udp"):
        _port(v, name)
    if v["p2p.peers.lo"] > v["p2p.peers.hi"]:
        raise _usage("--p2p.peers.lo must not be above --p2p.peers.hi")
    try:
        return P2PConfig.from_flags({name: v[name] for name in P2P_FLAGS if v[name] not in ("", None)})
    except P2PConfigError as e:
        raise _usage(f"p2p: {e}") from None


def _port(v: _Values, name: str) -> int:
    p = v[name]
    if not 0 <= p <= 65535:
        raise _usage(f"--{name} must be a port number (0-65535), got {p}")
    return p


def _positive(v: _Values, name: str) -> float:
    t = v[name]
    if t <= 0:
        raise _usage(f"--{name} must be a positive duration")
    return t


def _jwt_secret(path: str) -> tuple[bytes, bool]:
    """op-node ``ObtainJWTSecret``: read 32 hex bytes; a missing or empty file gets a new random secret (0600)."""
    from opnode.jsonrpc.jwt import read_secret, write_secret

    path = path.strip()
    if not path:
        raise _usage("flag --l2.jwt-secret is required (file-name of jwt secret is empty)")
    try:
        if not os.path.exists(path) or os.path.getsize(path) == 0:
            return write_secret(path), True
        return read_secret(path), False
    except ValueError as e:
        raise _usage(f"--l2.jwt-secret: {e}") from None
    except OSError as e:
        raise _usage(f"--l2.jwt-secret: cannot create {path}: {e.strerror}") from None
