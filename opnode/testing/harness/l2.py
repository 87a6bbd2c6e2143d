"""An in-memory L2 with a stand-in execution engine: a block's hash commits to its parent and its payload
attributes, its header fields follow the engine rules derivation reads back (gas limit, Holocene/Jovian extraData),
and its L2BlockRef and SystemConfig are read back the way the node reads them from a real engine."""

from __future__ import annotations

from dataclasses import dataclass

from derivation.protocol import rlp
from derivation.protocol.attributes import PayloadAttributes
from derivation.protocol.crypto import keccak256
from derivation.protocol.l1_info import decode_l1_info, system_config_from_l2_block
from derivation.protocol.rollup_config import Fork, RollupConfig
from derivation.protocol.system_config import SystemConfig
from derivation.protocol.transactions import decode as decode_tx
from derivation.protocol.types import BlockID, L2BlockRef
from derivation.providers import DataKind, DataRequest, NeedData


@dataclass(frozen=True)
class L2Block:
    ref: L2BlockRef
    attributes: PayloadAttributes | None  # None for genesis
    extra_data: bytes
    l1_info_data: bytes = b""  # the L1-info deposit's calldata, decoded once when the block is built

    @property
    def transactions(self) -> tuple[bytes, ...]:
        return self.attributes.transactions if self.attributes else ()


def extra_data(cfg: RollupConfig, attrs: PayloadAttributes) -> bytes:
    """The engine's extraData: Holocene ``0x00 ‖ denominator ‖ elasticity`` (zero params → Canyon constants),
    Jovian ``0x01 ‖ ... ‖ minBaseFee``."""
    if not cfg.is_active(Fork.HOLOCENE, attrs.timestamp):
        return b""
    params = attrs.eip1559_params or bytes(8)
    if params == bytes(8):
        c = cfg.chain_op_config
        params = c.eip1559_denominator_canyon.to_bytes(4, "big") + c.eip1559_elasticity.to_bytes(4, "big")
    if cfg.is_active(Fork.JOVIAN, attrs.timestamp):
        return b"\x01" + params + (attrs.min_base_fee or 0).to_bytes(8, "big")
    return b"\x00" + params


class MemoryL2:
    def __init__(self, cfg: RollupConfig):
        self.cfg = cfg
        g = cfg.genesis
        genesis = L2Block(L2BlockRef(g.l2.hash, g.l2.number, bytes(32), g.l2_time, g.l1, 0), None, b"")
        self.canonical: list[L2Block] = [genesis]
        self.by_hash: dict[bytes, L2Block] = {genesis.ref.hash: genesis}

    @property
    def head(self) -> L2BlockRef:
        return self.canonical[-1].ref

    def execute(self, parent: L2BlockRef, attrs: PayloadAttributes) -> L2BlockRef:
        """Build the block for ``attrs`` on ``parent`` and make it canonical (dropping anything above parent)."""
        if self.canonical[parent.number - self.cfg.genesis.l2.number].ref != parent:
            raise ValueError(f"unknown parent {parent}")
        info_data = decode_tx(attrs.transactions[0]).data
        info = decode_l1_info(info_data)
        extra = extra_data(self.cfg, attrs)
        txs = rlp.encode_list_payload(b"".join([rlp.encode_bytes(tx) for tx in attrs.transactions]))
        h = keccak256(rlp.encode([parent.hash, attrs.timestamp, attrs.prev_randao, attrs.gas_limit, extra])
                      + txs + rlp.encode_bytes(attrs.parent_beacon_block_root or b""))
        ref = L2BlockRef(h, parent.number + 1, parent.hash, attrs.timestamp, BlockID(info.block_hash, info.number),
                         info.sequence_number)
        block = L2Block(ref, attrs, extra, info_data)
        del self.canonical[parent.number - self.cfg.genesis.l2.number + 1:]
        self.canonical.append(block)
        self.by_hash[h] = block
        return ref

    def rewind(self, to: L2BlockRef) -> None:
        del self.canonical[to.number - self.cfg.genesis.l2.number + 1:]

    # -------------------------------------------------------------------------------------------- L2Source

    def _idx(self, number: int) -> L2Block:
        i = number - self.cfg.genesis.l2.number
        if not 0 <= i < len(self.canonical):
            raise NeedData(DataRequest(DataKind.L2_BLOCK_BY_NUMBER, number))
        return self.canonical[i]

    def block_ref_by_number(self, number: int) -> L2BlockRef:
        return self._idx(number).ref

    def block_ref_by_hash(self, block_hash: bytes) -> L2BlockRef:
        b = self.by_hash.get(block_hash)
        if b is None:
            raise NeedData(DataRequest(DataKind.L2_BLOCK_BY_HASH, block_hash))
        return b.ref

    def system_config(self, block_hash: bytes) -> SystemConfig:
        b = self.by_hash.get(block_hash)
        if b is None:
            raise NeedData(DataRequest(DataKind.L2_SYSTEM_CONFIG, block_hash))
        if b.attributes is None:
            return self.cfg.genesis.system_config
        return system_config_from_l2_block(self.cfg, b.l1_info_data, b.attributes.gas_limit, b.extra_data, b.ref.time)

    def transactions(self, number: int) -> list[bytes]:
        return list(self._idx(number).transactions)
