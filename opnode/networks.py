"""Named networks bundled with opnode (rollup.json files built from the superchain registry) and config loading."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from derivation.errors import ParseError
from derivation.rollup_config import Fork, RollupConfig

NETWORKS = ("op-mainnet", "op-sepolia", "base-mainnet", "base-sepolia", "unichain-mainnet", "unichain-sepolia")
# op-node accepts both "<chain>-<superchain>" and the registry's own names.
_ALIASES = {"op-mainnet": "op-mainnet", "optimism": "op-mainnet", "op-sepolia": "op-sepolia",
            "base": "base-mainnet", "unichain": "unichain-mainnet"}


class ConfigError(Exception):
    """A rollup config that cannot be loaded; the message is one line for the user."""


def network_json(name: str) -> dict:
    key = _ALIASES.get(name, name)
    if key not in NETWORKS:
        raise ConfigError(f"unknown network {name!r}; known networks: {', '.join(NETWORKS)}")
    return json.loads(resources.files("opnode.network_configs").joinpath(f"{key}.json").read_text())


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
    return cfg.with_fork_times(overrides) if overrides else cfg
