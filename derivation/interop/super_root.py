"""Super root v1 over a dependency set and the ``superroot_atTimestamp`` response.

The super root itself (``keccak256(0x01 ‖ u64(timestamp) ‖ (u256(chain_id) ‖ output_root) by ascending chain id)``,
specs ``fault-proof/stage-one/optimism-portal.md`` §Super Output and ``interop/superroot.md``) is
:mod:`derivation.protocol.output_root` (``SuperRootV1``, ``super_root_v1``): this module only adds what a supernode
serves.

JSON (specs ``interop/superroot.md`` @21561d70 2026-04-09; op-service ``eth/superroot_at_timestamp.go`` @e47ab875
2026-04-05 and ``eth/super_root.go``, karlfloersch/optimism @f0b2b80e):

- ``SuperV1``: ``{"timestamp": HexUint64, "chains": [{"ChainID": "<decimal>", "Output": Hash}]}`` — Go marshals the
  untagged ``ChainIDAndOutput`` fields by their Go names and ``ChainID`` as decimal text;
- the response: ``current_l1`` (BlockID), ``safe_timestamp``, ``local_safe_timestamp``, ``finalized_timestamp``
  (JSON numbers: the minimum over chains), ``optimistic_at_timestamp`` (decimal chain id -> ``{output: OutputV0,
  output_root, required_l1}``; chains without a derived block there are absent; a replaced block shows the
  *original* block's output), ``chain_ids`` (decimal strings, ascending) and ``data`` (``{verified_required_l1,
  super, super_root}``, or absent until every chain is verified at that timestamp: Go's ``omitempty``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from derivation.protocol.hexutil import from_hex, parse_quantity, quantity, to_hex
from derivation.protocol.jsonutil import JSONObject, JSONValue
from derivation.protocol.output_root import OutputRootError, OutputV0, SuperRootV1, super_root_v1
from derivation.protocol.types import BlockID

__all__ = ["OptimisticOutput", "SuperRootV1", "super_root_v1", "super_v1_from_json", "super_v1_json",
           "superroot_at_timestamp_json"]


def super_v1_json(sr: SuperRootV1) -> JSONObject:
    return {"timestamp": quantity(sr.timestamp),
            "chains": [{"ChainID": str(c.chain_id), "Output": to_hex(c.output_root)} for c in sr.chains]}


def super_v1_from_json(d: JSONValue) -> SuperRootV1:
    """A ``SuperV1`` JSON object (chain ids as decimal or 0x-hex text, as Go's ``ChainID.UnmarshalText``)."""
    try:
        if not isinstance(d, dict) or not isinstance(chains := d["chains"], list):
            raise TypeError
        pairs = []
        for c in chains:
            if not isinstance(c, dict):
                raise TypeError
            pairs.append((parse_quantity(c["ChainID"]), from_hex(c["Output"], 32)))
        ts = parse_quantity(d["timestamp"])
    except (KeyError, TypeError):
        raise OutputRootError("SuperV1 JSON needs timestamp and chains of {ChainID, Output}") from None
    sr = super_root_v1(ts, pairs)
    if [c.chain_id for c in sr.chains] != [cid for cid, _ in pairs]:
        raise OutputRootError("SuperV1 chains must be sorted by chain id")
    return sr


@dataclass(frozen=True, slots=True)
class OptimisticOutput:
    """A chain's block at the requested timestamp as if verification succeeds, and the L1 block it needs."""

    output: OutputV0
    required_l1: BlockID


def superroot_at_timestamp_json(current_l1: BlockID, safe_timestamp: int, local_safe_timestamp: int,
                                finalized_timestamp: int, chain_ids: Iterable[int],
                                optimistic: Mapping[int, OptimisticOutput],
                                verified: tuple[SuperRootV1, BlockID] | None) -> JSONObject:
    """The ``superroot_atTimestamp`` result; ``verified`` is the verified super root and its required L1 block."""
    out: JSONObject = {
        "current_l1": current_l1.to_json(),
        "safe_timestamp": safe_timestamp,
        "local_safe_timestamp": local_safe_timestamp,
        "finalized_timestamp": finalized_timestamp,
        "optimistic_at_timestamp": {
            str(cid): {"output": o.output.to_json(), "output_root": to_hex(o.output.root()),
                       "required_l1": o.required_l1.to_json()}
            for cid, o in sorted(optimistic.items())},
        "chain_ids": [str(c) for c in sorted(chain_ids)],
    }
    if verified is not None:
        sr, required_l1 = verified
        out["data"] = {"verified_required_l1": required_l1.to_json(), "super": super_v1_json(sr),
                       "super_root": to_hex(sr.root())}
    return out
