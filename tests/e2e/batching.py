"""A test batcher: reads the sequencer engine's blocks and posts them to anvil as channels (calldata or blobs)."""

from __future__ import annotations

import os

from derivation.protocol.batches import SingularBatch
from derivation.protocol.hexutil import from_hex, parse_quantity
from derivation.protocol.l1_info import decode_l1_info
from derivation.protocol.rollup_config import RollupConfig
from derivation.protocol.tx_json import tx_from_json
from opnode.tools.batcher.channel_out import ChannelOut
from opnode.tools.l1_traffic import L1Traffic


def singular_batch(block: dict) -> tuple[SingularBatch, int]:
    txs = [tx_from_json(t) for t in block["transactions"]]
    info = decode_l1_info(txs[0].data)
    user = tuple(t.raw for t in txs if t.type != 0x7E)
    return (SingularBatch(from_hex(block["parentHash"], 32), info.number, info.block_hash,
                          parse_quantity(block["timestamp"]), user), info.sequence_number)


class L1Poster:
    def __init__(self, stack, cfg: RollupConfig):
        self.stack = stack
        self.cfg = cfg
        self.traffic = L1Traffic(stack.anvil, inbox=cfg.batch_inbox_address)
        self.posted = 0  # highest L2 block number posted

    def post_new_blocks(self, *, blobs: bool = False, max_blocks: int = 60) -> int:
        """Post the sequencer's blocks after the last posted one, as one span-batch channel. Returns the count."""
        seq = self.stack.node("sequencer")
        head = parse_quantity(self.stack.rpc(seq.engine_rpc, "eth_blockNumber"))
        numbers = list(range(self.posted + 1, min(head, self.posted + max_blocks) + 1))
        if not numbers:
            return 0
        ch = ChannelOut(os.urandom(16), span=True, chain_id=self.cfg.l2_chain_id, genesis_time=self.cfg.genesis.l2_time)
        for n in numbers:
            ch.add_block(*singular_batch(self.stack.rpc(seq.engine_rpc, "eth_getBlockByNumber", hex(n), True)))
        frames = ch.frames(100_000 if blobs else 120_000)
        for f in frames:
            data = b"\x00" + f.encode()
            h = self.traffic.send_blobs([data])[0] if blobs else self.traffic.send_calldata(data)
            self.traffic.receipt(h)
        self.posted = numbers[-1]
        return len(numbers)
