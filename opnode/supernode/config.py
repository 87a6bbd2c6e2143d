"""The supernode's configuration: its own flags and one :class:`~opnode.node.config.NodeConfig` per chain built
from the cloned op-node flags, as op-supernode takes them (ethereum-optimism/optimism ``op-supernode/flags/``:
``flags.go`` @01718b54 with ``--dependency-set`` and ``ExcludedVNFlags``, ``vn_flags.go`` @40a686e7
``ExtractVNFlags``, ``virtual_cli.go`` @30e38b48 ``VirtualCLI``; file index, 2026).

- Every op-node flag ``X`` is accepted as ``--vn.all.X`` and ``--vn.<chainID>.X``; env ``OP_SUPERNODE_VN_ALL_<S>``
  and ``OP_SUPERNODE_VN_<chainID>_<S>`` where ``<S>`` is the op-node env name without ``OP_NODE_``. A chain's
  value is its own (flag, then env) before the ``all`` one (flag, then env): ``VirtualCLI`` asks the per-chain flag
  first and urfave reads each flag's env var as part of it.
- ``--vn.X value``: the next argument is the value unless it starts with ``-``; a flag without one is ``true``
  (``ExtractVNFlags``).
- Not cloned (the supernode owns them; ``ExcludedVNFlags``): the data paths (``safedb.path`` is forced on, under
  ``<data-dir>/<chainID>/``, because verification needs every local-safe block's L1 inclusion), the P2P key and
  listen ports, ``l1``, ``l1.beacon``, ``l1.http-poll-interval``; giving one is an error (op-supernode: unknown flag).
  ``interop.dependency-set`` is owned too: ``--dependency-set`` overrides it for every chain.
- Stricter than op-supernode: a chain's rollup config must name the chain id it is configured under, every chain of
  the dependency set must be hosted, the chains must agree on the interop activation time unless
  ``--interop.activation-timestamp`` is given, and unknown or malformed ``--vn.*`` input is one line, exit 2.
- The one shared L1 client takes the first chain's other ``l1.*`` settings (give them as ``--vn.all.l1.*``); its
  caches hold at least a sequencing window of L1 blocks (issue 16; op-supernode's hold 100).
- Per-chain gossip is not run by this version: the chains start with P2P disabled (a notice says so).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import click

from derivation.interop.dependency_set import DependencySetError, common_activation_time, from_chain_ids
from derivation.protocol.errors import ParseError
from derivation.protocol.rollup_config import DependencySet, Fork
from opnode.node.config import MetricsConfig, NodeConfig, node_config_from
from opnode.node.flags import BY_NAME, FLAGS, GoBool, StringList
from opnode.node.l1.config import BeaconConfig, L1Config
from opnode.node.logs import LogConfig
from opnode.node.networks import ConfigError, load_dependency_set
from opnode.node.rpc.server import RPCConfig

ENV_PREFIX = "OP_SUPERNODE_"
VN_PREFIX = "vn."
VN_ALL = "all"
EXCLUDED = frozenset({"safedb.path", "p2p.peerstore.path", "p2p.discovery.path", "p2p.priv.path", "p2p.priv.raw",
                      "p2p.listen.tcp", "p2p.listen.udp", "l1", "l1.beacon", "l1.http-poll-interval"})
OWNED = frozenset({"interop.dependency-set"})
# Per-chain op-node flags of what the supernode has once for all chains (its RPC port, metrics server, log) or does
# not run (per-chain P2P): accepted as op-supernode accepts them, with a WARN that they have no effect.
NOT_PER_CHAIN = ("rpc.", "metrics.", "pprof.", "log.", "p2p.")
_BY_ALIAS = {a: f for f in FLAGS for a in (f.name, *f.aliases)}
_BY_ENV = {e: f for f in FLAGS for e in f.env}


@dataclass(frozen=True, slots=True)
class SupernodeConfig:
    chain_ids: tuple[int, ...]
    l1: L1Config
    beacon: BeaconConfig
    data_dir: Path
    chains: Mapping[int, NodeConfig]
    dependency_set: DependencySet
    activation_time: int | None  # None: interop not scheduled, cross-safe follows local-safe (op-supernode #20191)
    rpc: RPCConfig = RPCConfig(addr="0.0.0.0", port=8545)
    metrics: MetricsConfig = MetricsConfig()
    log: LogConfig = LogConfig()
    notices: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()  # logged as WARN at start: settings given that have no effect

    def chain_dir(self, chain_id: int) -> Path:
        return self.data_dir / str(chain_id)

    @property
    def interop_db(self) -> Path:
        return self.data_dir / "interop.sqlite"


@dataclass
class VNArgs:
    """The ``--vn.*`` arguments by scope (``all`` or a chain id) and op-node flag name, as given."""

    values: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    def add(self, scope: str, name: str, value: str) -> None:
        self.values.setdefault(scope, {}).setdefault(name, []).append(value)


def _usage(msg: str) -> click.UsageError:
    return click.UsageError(msg.replace("\n", " "))


def parse_chains(values: Sequence[str]) -> tuple[int, ...]:
    """``--chains 901,902`` or repeated: unique decimal chain ids (op-supernode ``appendChains``)."""
    out: list[int] = []
    for part in (p.strip() for v in values for p in v.split(",")):
        if not part:
            continue
        if not part.isdigit():
            raise _usage(f"--chains: invalid chain id {part!r}")
        cid = int(part)
        if cid == 0 or cid >= 1 << 64:
            raise _usage(f"--chains: chain id {part} is out of range")
        if cid in out:
            raise _usage(f"--chains: chain {cid} is given twice")
        out.append(cid)
    if not out:
        raise _usage("flag --chains / OP_SUPERNODE_CHAINS is required")
    return tuple(out)


def _flag_of(name: str, where: str):
    f = _BY_ALIAS.get(name)
    if f is None:
        raise _usage(f"{where}: no op-node flag --{name}")
    if f.name in EXCLUDED:
        raise _usage(f"{where}: --{f.name} is set by the supernode for every chain and cannot be given per chain")
    return f


def extract_vn_args(args: Sequence[str], chain_ids: Sequence[int]) -> VNArgs:
    """The ``--vn.<scope>.<flag>`` arguments (op-supernode ``ExtractVNFlags``); anything else is an error."""
    out = VNArgs()
    scopes = {VN_ALL, *map(str, chain_ids)}
    i = 0
    while i < len(args):
        arg = args[i]
        if not arg.startswith("-") or not arg.lstrip("-").startswith(VN_PREFIX):
            raise _usage(f"no such option: {arg}" if arg.startswith("-") else f"unexpected argument {arg!r}")
        body = arg.lstrip("-")
        if "=" in body:
            body, value = body.split("=", 1)
        elif i + 1 < len(args) and not args[i + 1].startswith("-"):
            value = args[i + 1]
            i += 1
        else:
            value = "true"
        scope, _, name = body[len(VN_PREFIX):].partition(".")
        if scope not in scopes:
            raise _usage(f"--{body}: {scope!r} is neither 'all' nor one of --chains")
        f = _flag_of(name, f"--{body}")
        out.add(scope, f.name, value)
        i += 1
    return out


def vn_env(environ: Mapping[str, str], chain_ids: Sequence[int]) -> VNArgs:
    """``OP_SUPERNODE_VN_<ALL|chainID>_<op-node env suffix>`` (op-supernode ``upgradeEnvVarPrefixes``)."""
    out = VNArgs()
    scopes = {"ALL": VN_ALL, **{str(c): str(c) for c in chain_ids}}
    for key, value in environ.items():
        if not key.startswith(ENV_PREFIX + "VN_"):
            continue
        rest = key[len(ENV_PREFIX) + 3:]
        scope, _, suffix = rest.partition("_")
        f = _BY_ENV.get(suffix)
        if scope not in scopes or f is None:
            raise _usage(f"{key}: not a supernode per-chain setting (OP_SUPERNODE_VN_<ALL|chainID>_<op-node env>)")
        if f.name in EXCLUDED:
            raise _usage(f"{key}: --{f.name} is set by the supernode for every chain and cannot be given per chain")
        out.add(scopes[scope], f.name, value)
    return out


def _convert(name: str, values: list[str], where: str):
    f = BY_NAME[name]
    try:
        if isinstance(f.type, StringList):
            return tuple(f.type.convert(v, None, None) for v in values)
        if isinstance(f.type, GoBool):
            return f.type.convert(values[-1], None, None)
        return f.type.convert(values[-1], None, None)
    except click.BadParameter as e:
        raise _usage(f"{where} --{name}: {e.format_message()}") from None


def chain_flag_values(chain_id: int, flags: VNArgs, env: VNArgs) -> dict[str, object]:
    """One chain's op-node flag values (``Flag.dest`` → value): per-chain flag, per-chain env, ``all`` flag,
    ``all`` env, in that order (:class:`VirtualCLI`)."""
    out: dict[str, object] = {}
    sources = ((flags, str(chain_id), f"--vn.{chain_id}"), (env, str(chain_id), f"OP_SUPERNODE_VN_{chain_id}"),
               (flags, VN_ALL, "--vn.all"), (env, VN_ALL, "OP_SUPERNODE_VN_ALL"))
    for args, scope, where in sources:
        for name, values in args.values.get(scope, {}).items():
            dest = BY_NAME[name].dest
            if dest not in out:
                out[dest] = _convert(name, values, where)
    return out


def chain_node_config(chain_id: int, values: dict[str, object], *, l1_url: str, beacon_url: str,
                      poll_interval: float | None, dependency_set_path: str | None,
                      safedb_path: Path, notices: list[str]) -> NodeConfig:
    """The chain's NodeConfig from its flag values and what the supernode owns (the shared L1 endpoints, the safe
    DB path, the dependency set)."""
    kwargs = dict(values)
    if kwargs.get("interop_dependency_set") is not None and dependency_set_path is not None:
        notices.append(f"chain {chain_id}: interop.dependency-set is owned by --dependency-set and ignored")
    if dependency_set_path is not None:
        kwargs["interop_dependency_set"] = dependency_set_path
    kwargs.update(l1=l1_url, l1_beacon=beacon_url or None, safedb_path=str(safedb_path), p2p_disable=True,
                  l1_http_poll_interval=poll_interval)
    try:
        cfg = node_config_from(kwargs)
    except click.UsageError as e:  # name the flags as given to the supernode
        msg = e.format_message().replace("--", f"--vn.{chain_id}.").replace("OP_NODE_", f"OP_SUPERNODE_VN_{chain_id}_")
        raise _usage(f"chain {chain_id}: {msg}") from None
    if cfg.follow_source is not None or cfg.sequencer.enabled:
        raise _usage(f"chain {chain_id}: a supernode chain derives from L1: no --l2.follow.source or sequencer")
    if cfg.rollup.l2_chain_id != chain_id:
        raise _usage(f"chain {chain_id}: its rollup config is for chain {cfg.rollup.l2_chain_id}")
    return cfg


def supernode_config_from(own: Mapping[str, object], extra_args: Sequence[str],
                          environ: Mapping[str, str] | None = None) -> SupernodeConfig:
    """The whole configuration from the command's own options (``own``: click keyword arguments), the ``--vn.*``
    arguments and the environment."""
    environ = os.environ if environ is None else environ
    notices: list[str] = []
    chain_ids = parse_chains(own.get("chains") or ())
    if not own.get("l1"):
        raise _usage("flag --l1 / OP_SUPERNODE_L1_ETH_RPC is required")
    flags = extract_vn_args(extra_args, chain_ids)
    env = vn_env(environ, chain_ids)
    data_dir = Path(str(own.get("data_dir") or "./datadir"))
    ds_path = own.get("dependency_set")
    poll = own.get("l1_http_poll_interval")
    if poll is not None and poll <= 0:
        raise _usage("--l1.http-poll-interval must be positive")
    chains: dict[int, NodeConfig] = {}
    for cid in chain_ids:
        values = chain_flag_values(cid, flags, env)
        chains[cid] = chain_node_config(cid, values, l1_url=str(own["l1"]), beacon_url=str(own.get("l1_beacon") or ""),
                                        poll_interval=poll, dependency_set_path=ds_path,
                                        safedb_path=data_dir / str(cid) / "safedb.sqlite", notices=notices)
    first = chains[chain_ids[0]]
    if len({c.rollup.l1_chain_id for c in chains.values()}) > 1:
        raise _usage("the chains' rollup configs name different L1 chains: one supernode has one L1")
    ds = _dependency_set(ds_path, chains, chain_ids)
    activation = _activation(own.get("interop_activation_timestamp"), ds, chains)
    if own.get("interop_log_backfill_depth"):
        notices.append("--interop.log-backfill-depth is accepted and has no effect (logs are sealed as verified)")
    notices.append("per-chain P2P gossip is not run by the supernode: light nodes take unsafe blocks from the "
                   "sequencer's gossip")
    beacon = first.beacon
    if own.get("l1_beacon_fallbacks"):
        beacon = BeaconConfig(url=beacon.url, fallbacks=tuple(own["l1_beacon_fallbacks"]), header=beacon.header,
                              ignore=beacon.ignore, fetch_all_sidecars=beacon.fetch_all_sidecars)
    port = own.get("rpc_port")
    if port is not None and not 0 <= port <= 65535:
        raise _usage(f"--rpc.port must be a port number (0-65535), got {port}")
    rpc = RPCConfig(addr=str(own.get("rpc_addr") or "0.0.0.0"), port=8545 if port is None else port,
                    enable_admin=bool(own.get("rpc_enable_admin")))
    mport = own.get("metrics_port")
    if mport is not None and not 0 <= mport <= 65535:
        raise _usage(f"--metrics.port must be a port number (0-65535), got {mport}")
    metrics = MetricsConfig(enabled=bool(own.get("metrics_enabled")), addr=str(own.get("metrics_addr") or "0.0.0.0"),
                            port=7300 if mport is None else mport)
    log = LogConfig(level=own.get("log_level") or "info", format=own.get("log_format") or "text")
    # one cache for every chain: at least a sequencing window of L1 blocks (what one chain's reset walks back)
    window = max(c.rollup.seq_window_size for c in chains.values())
    l1 = first.l1 if first.l1.cache_size >= window else dataclasses.replace(first.l1, cache_size=window)
    return SupernodeConfig(chain_ids=chain_ids, l1=l1, beacon=beacon, data_dir=data_dir, chains=chains,
                           dependency_set=ds, activation_time=activation, rpc=rpc, metrics=metrics, log=log,
                           notices=tuple(notices) + tuple(n for c in chains.values() for n in c.notices),
                           warnings=no_effect(flags, env))


def no_effect(flags: VNArgs, env: VNArgs) -> tuple[str, ...]:
    """A WARN for each per-chain flag given (as a flag or env) that the supernode does not use per chain."""
    out = []
    for args, fmt in ((flags, "--vn.{scope}.{name}"), (env, "OP_SUPERNODE_VN_{scope}_* for {name}")):
        for scope, names in sorted(args.values.items()):
            for name in sorted(names):
                if name.startswith(NOT_PER_CHAIN):
                    out.append(fmt.format(scope=scope.upper() if args is env else scope, name=name)
                               + " has no effect: the supernode has one RPC port, metrics server and log for every "
                               "chain (its own --rpc.*, --metrics.*, --log.*) and runs no per-chain P2P")
    return tuple(out)


def _dependency_set(path, chains: Mapping[int, NodeConfig], chain_ids: Sequence[int]) -> DependencySet:
    if path is not None:
        try:
            ds = load_dependency_set(path)
        except ConfigError as e:
            raise _usage(f"--dependency-set: {e}") from None
    else:
        sets = {c.rollup.dependency_set for c in chains.values()}
        if None in sets or len(sets) > 1:
            if len(chain_ids) == 1 and sets == {None}:  # a set of one: nothing to check across chains
                return from_chain_ids(chain_ids)
            raise _usage("give --dependency-set FILE: the chains' configs do not name one dependency set")
        ds = next(iter(sets))
    missing = sorted(set(ds.chain_ids) - set(chain_ids))
    extra = sorted(set(chain_ids) - set(ds.chain_ids))
    if missing or extra:
        raise _usage(f"--chains must be the dependency set's chains: not hosted {missing}, not in the set {extra}")
    return ds


def _activation(given, ds: DependencySet, chains: Mapping[int, NodeConfig]) -> int | None:
    """``--interop.activation-timestamp``, else the chains' common ``lagoon_time`` (op-supernode refuses chains that
    disagree); None when no chain schedules interop."""
    if given is not None:
        return int(given)
    configs = {cid: c.rollup for cid, c in chains.items()}
    if all(c.fork_time(Fork.LAGOON) is None for c in configs.values()):
        return None
    try:
        return common_activation_time(ds, configs)
    except (DependencySetError, ParseError) as e:
        raise _usage(f"interop activation: {e} (or give --interop.activation-timestamp)") from None
