"""L2 block → L2BlockRef: the L1 origin and sequence number come from the block's first transaction, the L1-info
deposit; the genesis block's origin is the rollup config's (op-node ``L2BlockToBlockRef``)."""

from __future__ import annotations

from derivation.protocol.errors import ParseError
from derivation.protocol.l1_info import decode_l1_info
from derivation.protocol.rollup_config import RollupConfig
from derivation.protocol.transactions import DEPOSIT
from derivation.protocol.transactions import decode as decode_tx
from derivation.protocol.types import BlockID, L2BlockRef


def block_ref(cfg: RollupConfig, hash_: bytes, number: int, parent_hash: bytes, timestamp: int,
              first_tx: bytes | None) -> L2BlockRef:
    g = cfg.genesis
    if number == g.l2.number:
        if hash_ != g.l2.hash:
            raise ParseError(f"L2 block {number} is {hash_.hex()[:16]}, but the rollup's genesis is "
                             f"{g.l2.hash.hex()[:16]}: wrong chain")
        return L2BlockRef(hash_, number, parent_hash, timestamp, g.l1, 0)
    if not first_tx or first_tx[0] != DEPOSIT:
        raise ParseError(f"L2 block {number} does not start with the L1-info deposit")
    info = decode_l1_info(decode_tx(first_tx).data)
    return L2BlockRef(hash_, number, parent_hash, timestamp, BlockID(info.block_hash, info.number),
                      info.sequence_number)
