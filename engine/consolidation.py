"""L1 consolidation: do derived payload attributes describe an existing unsafe block exactly?
(specs: derivation.md "L1-consolidation"; op-node ``AttributesMatchBlock``, kona's checks for
Holocene/Jovian extraData.)"""

from __future__ import annotations

from derivation.protocol.attributes import PayloadAttributes
from derivation.protocol.hexutil import from_hex, parse_quantity
from derivation.protocol.rollup_config import Fork, RollupConfig
from derivation.protocol.trie import EMPTY_TRIE_ROOT as EMPTY_ROOT
from derivation.protocol.tx_json import tx_from_json


def expected_extra_data(cfg: RollupConfig, attrs: PayloadAttributes) -> bytes | None:
    """The extraData the engine writes for ``attrs`` (zero Holocene params mean Canyon's constants)."""
    t = attrs.timestamp
    if not cfg.is_active(Fork.HOLOCENE, t):
        return None
    params = attrs.eip1559_params or bytes(8)
    if params == bytes(8):
        c = cfg.chain_op_config
        params = c.eip1559_denominator_canyon.to_bytes(4, "big") + c.eip1559_elasticity.to_bytes(4, "big")
    if cfg.is_active(Fork.JOVIAN, t):
        return b"\x01" + params + (attrs.min_base_fee or 0).to_bytes(8, "big")
    return b"\x00" + params


def mismatch(cfg: RollupConfig, attrs: PayloadAttributes, parent_hash: bytes, block: dict) -> str | None:
    """None when ``block`` (eth_getBlockBy* JSON with full transaction objects) matches ``attrs`` on ``parent_hash``;
    otherwise the first difference, for the log."""
    if from_hex(block["parentHash"], 32) != parent_hash:
        return "parent hash differs"
    if parse_quantity(block["timestamp"]) != attrs.timestamp:
        return f"timestamp {parse_quantity(block['timestamp'])} != {attrs.timestamp}"
    if from_hex(block["mixHash"], 32) != attrs.prev_randao:
        return "prevRandao differs"
    txs = [tx_from_json(t).raw for t in block["transactions"]]
    if len(txs) != len(attrs.transactions):
        return f"{len(txs)} transactions in the block, {len(attrs.transactions)} derived"
    for i, (a, b) in enumerate(zip(txs, attrs.transactions, strict=True)):
        if a != b:
            return f"transaction {i} differs"
    if parse_quantity(block["gasLimit"]) != attrs.gas_limit:
        return f"gas limit {parse_quantity(block['gasLimit'])} != {attrs.gas_limit}"
    if from_hex(block["miner"], 20) != attrs.suggested_fee_recipient:
        return "fee recipient differs"
    t = attrs.timestamp
    if cfg.is_active(Fork.CANYON, t):
        if block.get("withdrawals") != []:
            return "withdrawals must be an empty list from Canyon"
        if not cfg.is_active(Fork.ISTHMUS, t) and from_hex(block.get("withdrawalsRoot") or "0x" + "00" * 32) != EMPTY_ROOT:
            return "withdrawalsRoot must be the empty root before Isthmus"
    if cfg.is_active(Fork.ECOTONE, t):
        root = block.get("parentBeaconBlockRoot")
        if root is None or from_hex(root, 32) != (attrs.parent_beacon_block_root or bytes(32)):
            return "parent beacon block root differs"
    extra = expected_extra_data(cfg, attrs)
    if extra is not None and from_hex(block["extraData"]) != extra:
        return "extraData (EIP-1559 parameters / min base fee) differs"
    return None
