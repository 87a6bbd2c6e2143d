"""Derived payload attributes against the real L2 block: which fields differ, and what the difference means.

The fields are those op-node's ``AttributesMatchBlock`` checks when it consolidates (specs: derivation.md
"L1-consolidation"; holocene/ and jovian/ exec-engine.md): parent hash, timestamp, prevRandao, fee recipient, gas
limit, the transactions byte for byte, withdrawals (an empty list from Canyon), the parent beacon block root (from
Ecotone) and, from Holocene, the extraData the engine derives from ``eip1559Params`` (and Jovian's ``minBaseFee``).

Holocene (holocene/derivation.md "Engine Queue"): when the engine rejects a payload, the node replaces it with the
same attributes holding only the deposits and flushes the rest of the channel. Replay cannot execute transactions,
so a real block that equals the deposit-only form of the derived attributes is read as that replacement
(:attr:`Outcome.DEPOSITS_ONLY`). Before Holocene a rejected payload shows as a mismatch.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from derivation.protocol.attributes import PayloadAttributes
from derivation.protocol.hexutil import to_hex
from derivation.protocol.rollup_config import Fork, RollupConfig
from derivation.protocol.transactions import decode as decode_tx
from derivation.protocol.types import L2BlockRef
from engine.consolidation import expected_extra_data
from opnode.tools.replay.store import L2Block


class Outcome(Enum):
    MATCH = "match"
    DEPOSITS_ONLY = "deposits_only"
    MISMATCH = "mismatch"


@dataclass(frozen=True, slots=True)
class FieldDiff:
    field: str
    derived: str
    recorded: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Comparison:
    outcome: Outcome
    diffs: tuple[FieldDiff, ...] = ()


def _tx_summary(raw: bytes) -> str:
    try:
        tx = decode_tx(raw)
    except ValueError:
        return f"undecodable ({len(raw)} bytes)"
    return f"{tx.type_name} {to_hex(tx.hash)} ({len(raw)} bytes)"


def _tx_diff(derived: tuple[bytes, ...], recorded: tuple[bytes, ...]) -> FieldDiff | None:
    if derived == recorded:
        return None
    i = next((k for k, (a, b) in enumerate(zip(derived, recorded, strict=False)) if a != b), min(len(derived),
                                                                                                len(recorded)))
    left = _tx_summary(derived[i]) if i < len(derived) else "(none)"
    right = _tx_summary(recorded[i]) if i < len(recorded) else "(none)"
    return FieldDiff("transactions", f"{len(derived)} txs", f"{len(recorded)} txs",
                     f"first difference at index {i}: derived {left}, recorded {right}")


def _extra_diffs(cfg: RollupConfig, attrs: PayloadAttributes, block: L2Block) -> list[FieldDiff]:
    want = expected_extra_data(cfg, attrs)
    got = block.extra_data
    if want is None or want == got:
        return []
    if len(got) == len(want) and got[:1] == want[:1]:
        out = []
        if got[1:9] != want[1:9]:
            out.append(FieldDiff("eip1559_params", to_hex(want[1:9]), to_hex(got[1:9]),
                                 "denominator ‖ elasticity, from extraData"))
        if got[9:] != want[9:]:
            out.append(FieldDiff("min_base_fee", str(int.from_bytes(want[9:], "big")), str(int.from_bytes(got[9:], "big")),
                                 "from extraData"))
        return out
    return [FieldDiff("extra_data", to_hex(want), to_hex(got))]


def diff_fields(cfg: RollupConfig, attrs: PayloadAttributes, parent: L2BlockRef, block: L2Block) -> list[FieldDiff]:
    t = attrs.timestamp
    out: list[FieldDiff] = []

    def check(name, derived, recorded, fmt=str):
        if derived != recorded:
            out.append(FieldDiff(name, fmt(derived), fmt(recorded)))

    def hexfmt(v):
        return "null" if v is None else to_hex(v)

    check("parent_hash", parent.hash, block.parent_hash, hexfmt)
    check("timestamp", t, block.timestamp)
    check("prev_randao", attrs.prev_randao, block.prev_randao, hexfmt)
    check("fee_recipient", attrs.suggested_fee_recipient, block.fee_recipient, hexfmt)
    check("gas_limit", attrs.gas_limit, block.gas_limit)
    tx = _tx_diff(attrs.transactions, block.transactions)
    if tx is not None:
        out.append(tx)
    if cfg.is_active(Fork.CANYON, t):
        check("withdrawals", 0, block.withdrawals, lambda v: "none" if v is None else f"{v} withdrawals")
    if cfg.is_active(Fork.ECOTONE, t):
        check("parent_beacon_root", attrs.parent_beacon_block_root or bytes(32), block.parent_beacon_root, hexfmt)
    out += _extra_diffs(cfg, attrs, block)
    return out


def compare(cfg: RollupConfig, attrs: PayloadAttributes, parent: L2BlockRef, block: L2Block) -> Comparison:
    diffs = diff_fields(cfg, attrs, parent, block)
    if not diffs:
        return Comparison(Outcome.MATCH)
    if (cfg.is_active(Fork.HOLOCENE, attrs.timestamp) and not attrs.is_deposits_only
            and not diff_fields(cfg, attrs.deposits_only(), parent, block)):
        return Comparison(Outcome.DEPOSITS_ONLY, tuple(diffs))
    return Comparison(Outcome.MISMATCH, tuple(diffs))
