"""op-node's interop dependency-set JSON, the message expiry window, and interop activation per chain.

Format (op-core ``interop/depset/static_depset.go`` @4dc2bfae and ``json.go`` @91b50b86, ethereum-optimism/optimism
file index, 2026; the same ``StaticConfigDependencySet`` op-node reads with ``--interop.dependency-set`` and
op-supernode with ``--dependency-set``)::

    {"dependencies": {"901": {}, "902": {}}, "overrideMessageExpiryWindow": 3600}

- keys of ``dependencies`` are decimal chain ids (``eth.ParseDecimalChainID``: uint256); values are objects (their
  fields are ignored, ``null`` is accepted as Go decodes it into a nil pointer); other top-level keys are ignored;
- ``overrideMessageExpiryWindow`` is a uint64, absent or 0 meaning the protocol window of 604800 s (7 days,
  derivation.md §Expiry Window); an override *above* 604800 is refused, never clamped (``hydrate``, specs#960, and
  the shared vectors ``contracts-bedrock/test/formal/expiry/window-differential/vectors.json``);
- a missing ``dependencies`` key is refused here: kona's serde ``DependencySet`` requires it, Go would load an empty
  set that no chain can message in, which is only ever a typo.

The set reuses :class:`derivation.protocol.rollup_config.DependencySet` (the type the rollup config carries).

Activation (op-core ``depset/links.go`` ``LinkCheckerImpl.CanExecute``; kona ``rules.rs``
``interop_active_for_full_block``): a chain may initiate or execute messages at ``t`` only when Lagoon (interop) is
active at ``t`` and ``t`` is not its activation block ("active for at least one full block"; the activation block is
deposits-only, derivation.md §Activation Block). op-supernode additionally requires every hosted chain to share one
activation time (``--interop.activation-timestamp``): :func:`common_activation_time`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from derivation.protocol.errors import ParseError
from derivation.protocol.jsonutil import JSONObject
from derivation.protocol.rollup_config import MESSAGE_EXPIRY_WINDOW, DependencySet, Fork, RollupConfig

_U64, _U256 = 1 << 64, 1 << 256


class DependencySetError(ParseError):
    """A dependency set (or the rollup configs beside it) that cannot be used."""


def from_chain_ids(chain_ids: Iterable[int], override_message_expiry_window: int = 0) -> DependencySet:
    """A set over ``chain_ids``; ``override_message_expiry_window`` as in the JSON (0 = the protocol window)."""
    ids = sorted(set(chain_ids))
    if any(isinstance(c, bool) or not isinstance(c, int) or not 0 <= c < _U256 for c in ids):
        raise DependencySetError("dependency set chain ids must be uint256 integers")
    w = override_message_expiry_window
    if isinstance(w, bool) or not isinstance(w, int) or not 0 <= w < _U64:
        raise DependencySetError(f"overrideMessageExpiryWindow must be a uint64, got {w!r}")
    if w > MESSAGE_EXPIRY_WINDOW:
        raise DependencySetError(f"overrideMessageExpiryWindow {w}s exceeds the protocol window {MESSAGE_EXPIRY_WINDOW}s")
    return DependencySet(tuple(ids), w or MESSAGE_EXPIRY_WINDOW)


def _chain_id(key: str, where: str) -> int:
    if not key or not key.isascii() or not key.isdigit():
        raise DependencySetError(f"{where}: invalid chain ID {key!r} (a decimal integer)")
    v = int(key)
    if v >= _U256:
        raise DependencySetError(f"{where}: chain ID {key} does not fit in 256 bits")
    return v


def parse_dependency_set(source: str | bytes | Mapping[str, object], where: str = "dependency set") -> DependencySet:
    """Parse op-node's dependency-set JSON (text or an already-decoded object) with a one-line error naming ``where``."""
    if isinstance(source, str | bytes):
        try:
            d = json.loads(source)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise DependencySetError(f"{where} is not valid JSON: {e}") from None
    else:
        d = source
    if not isinstance(d, Mapping):
        raise DependencySetError(f"{where} must be a JSON object")
    deps = d.get("dependencies")
    if not isinstance(deps, Mapping):
        raise DependencySetError(f"{where} needs a \"dependencies\" object mapping chain IDs to objects")
    ids = []
    for k, v in deps.items():
        cid = _chain_id(k, where)
        if v is not None and not isinstance(v, Mapping):
            raise DependencySetError(f"{where}: dependency {k} must be an object, got {type(v).__name__}")
        ids.append(cid)
    window = d.get("overrideMessageExpiryWindow")
    window = 0 if window is None else window
    if isinstance(window, bool) or not isinstance(window, int) or not 0 <= window < _U64:
        raise DependencySetError(f"{where}: overrideMessageExpiryWindow must be a uint64, got {window!r}")
    try:
        return from_chain_ids(ids, window)
    except DependencySetError as e:
        raise DependencySetError(f"{where}: {e}") from None


def dependency_set_json(ds: DependencySet) -> JSONObject:
    """op-node's JSON for ``ds`` (``StaticConfigDependencySet.MarshalJSON``, served by ``optimism_dependencySet``):
    the override is omitted when it is the protocol window."""
    out: JSONObject = {"dependencies": {str(c): {} for c in ds.chain_ids}}
    if ds.message_expiry_window != MESSAGE_EXPIRY_WINDOW:
        out["overrideMessageExpiryWindow"] = ds.message_expiry_window
    return out


def _config(configs: Mapping[int, RollupConfig], chain_id: int) -> RollupConfig:
    cfg = configs.get(chain_id)
    if cfg is None:
        raise DependencySetError(f"no rollup config for chain {chain_id} of the dependency set")
    return cfg


def interop_active_for_full_block(configs: Mapping[int, RollupConfig], chain_id: int, timestamp: int) -> bool:
    """Chain ``chain_id`` may initiate or execute messages at L2 time ``timestamp``: Lagoon is active and this is not
    its activation block."""
    cfg = _config(configs, chain_id)
    return cfg.is_active(Fork.LAGOON, timestamp) and not cfg.is_activation_block(Fork.LAGOON, timestamp)


def common_activation_time(ds: DependencySet, configs: Mapping[int, RollupConfig]) -> int:
    """The interop activation time every chain of ``ds`` shares (op-supernode refuses to start otherwise)."""
    times = {c: _config(configs, c).fork_time(Fork.LAGOON) for c in ds.chain_ids}
    if not times:
        raise DependencySetError("the dependency set holds no chain")
    unscheduled = sorted(c for c, t in times.items() if t is None)
    if unscheduled:
        raise DependencySetError(f"interop (lagoon_time) is not scheduled on chain(s) {unscheduled}")
    if len(set(times.values())) > 1:
        raise DependencySetError("chains of the dependency set disagree on the interop activation time: "
                                 + ", ".join(f"{c}={t}" for c, t in sorted(times.items())))
    first = next(iter(times.values()))
    assert first is not None  # unscheduled chains were refused above
    return first
