"""Named networks bundled with opnode (rollup.json files built from the superchain registry) and config loading.

Beside each bundled rollup.json, ``network_configs/networks.json`` holds what rollup.json cannot: the network's
interop dependency set (the registry's ``[interop.dependencies]``) and, for a chain that left the OP Stack fork
schedule (Base, 2026), the time from which the bundled config no longer describes it. Both are attached to the
loaded :class:`RollupConfig`. Dependency-set files (``--interop.dependency-set``) use op-node's JSON format
(``op-core/interop/depset/static_depset.go``: ``{"dependencies": {"<decimal chain id>": {}, ...},
"overrideMessageExpiryWindow": N}``; other keys are ignored, as Go's decoder does).
"""

from __future__ import annotations

import dataclasses
import json
from functools import cache
from importlib import resources
from pathlib import Path

from derivation.interop.dependency_set import DependencySetError
from derivation.interop.dependency_set import parse_dependency_set as _parse_dependency_set
from derivation.protocol.errors import ParseError
from derivation.protocol.rollup_config import DependencySet, DerivationLimit, Fork, RollupConfig

NETWORKS = ("op-mainnet", "op-sepolia", "base-mainnet", "base-sepolia", "unichain-mainnet", "unichain-sepolia")
# op-node accepts both "<chain>-<superchain>" and the registry's own names.
_ALIASES = {"op-mainnet": "op-mainnet", "optimism": "op-mainnet", "op-sepolia": "op-sepolia",
            "base": "base-mainnet", "unichain": "unichain-mainnet"}


class ConfigError(Exception):
    """A rollup config that cannot be loaded; the message is one line for the user."""


def _network_key(name: str) -> str:
    key = _ALIASES.get(name, name)
    if key not in NETWORKS:
        raise ConfigError(f"unknown network {name!r}; known networks: {', '.join(NETWORKS)}")
    return key


def network_json(name: str) -> dict:
    return json.loads(resources.files("opnode.node.network_configs").joinpath(f"{_network_key(name)}.json").read_text())


@dataclasses.dataclass(frozen=True)
class NetworkInfo:
    name: str
    registry: str
    dependency_set: DependencySet | None
    derivation_limit: DerivationLimit | None


@cache
def _networks_meta() -> dict:
    return json.loads(resources.files("opnode.node.network_configs").joinpath("networks.json").read_text())["networks"]


def network_info(name: str) -> NetworkInfo:
    key = _network_key(name)
    m = _networks_meta()[key]
    ds = m.get("dependency_set")
    lim = m.get("derivation_limit")
    return NetworkInfo(key, m["registry"], None if ds is None else DependencySet(tuple(sorted(ds))),
                       None if lim is None else DerivationLimit(lim["time"], lim["reason"]))


def parse_dependency_set(text: str, where: str = "dependency set") -> DependencySet:
    """op-node's dependency-set JSON (the rules: :mod:`derivation.interop.dependency_set`), as a config error."""
    try:
        return _parse_dependency_set(text, where)
    except DependencySetError as e:
        raise ConfigError(str(e)) from None


def load_dependency_set(path: str | Path) -> DependencySet:
    try:
        text = Path(path).read_text()
    except OSError as e:
        raise ConfigError(f"cannot read dependency set {path}: {e.strerror}") from None
    return parse_dependency_set(text, f"dependency set {path}")


def load_rollup_config(network: str | None = None, path: str | Path | None = None,
                       overrides: dict[Fork, int] | None = None) -> RollupConfig:
    """Exactly one of ``network`` and ``path``; ``overrides`` are ``--override.<fork>`` activation times."""
    if bool(network) == bool(path):
        raise ConfigError("exactly one of --network and --rollup.config is required")
    if network:
        raw = network_json(network)
        where = f"network {network}"
    else:
        where = str(path)
        try:
            raw = json.loads(Path(path).read_text())
        except OSError as e:
            raise ConfigError(f"cannot read rollup config {path}: {e.strerror}") from None
        except json.JSONDecodeError as e:
            raise ConfigError(f"rollup config {path} is not valid JSON: {e}") from None
    try:
        cfg = RollupConfig.from_json(raw)
    except ParseError as e:
        raise ConfigError(f"{where}: {e}") from None
    if network:
        info = network_info(network)
        cfg = dataclasses.replace(cfg, dependency_set=info.dependency_set, derivation_limit=info.derivation_limit)
    return cfg.with_fork_times(overrides) if overrides else cfg
