"""What the batcher reads from L2: the sequencer's blocks (from the L2 execution client's ``eth_getBlockByNumber``)
as the batches derivation must reproduce, and the rollup node's sync status and rollup config.

A block's batch is op-batcher's ``BlockToSingularBatch``: parent hash, the L1 origin read from the block's L1-info
deposit, the timestamp, and every transaction except deposits, as raw EIP-2718 bytes (derivation.md §Batch
Format). Each raw transaction is checked against the hash the EL reports for it, so a JSON round trip that lost a
field cannot post a different transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from derivation.protocol.batches import SingularBatch
from derivation.protocol.errors import ParseError
from derivation.protocol.hexutil import from_hex, parse_quantity
from derivation.protocol.l2_refs import block_ref
from derivation.protocol.rollup_config import RollupConfig
from derivation.protocol.transactions import DEPOSIT
from derivation.protocol.tx_json import tx_from_json
from derivation.protocol.types import BlockID, L2BlockRef
from opnode.jsonrpc.client import RpcClient


class L2BlockError(ParseError):
    """An L2 block the batcher cannot turn into a batch (not an OP block, or inconsistent JSON)."""


@dataclass(frozen=True, slots=True)
class L2Block:
    ref: L2BlockRef
    txs: tuple[bytes, ...]  # the non-deposit transactions, raw

    @property
    def number(self) -> int:
        return self.ref.number

    @property
    def hash(self) -> bytes:
        return self.ref.hash

    @property
    def id(self) -> BlockID:
        return self.ref.id

    def batch(self) -> SingularBatch:
        r = self.ref
        return SingularBatch(r.parent_hash, r.l1_origin.number, r.l1_origin.hash, r.time, self.txs)


def block_from_json(cfg: RollupConfig, block: dict) -> L2Block:
    """An ``eth_getBlockByNumber(n, true)`` result as the batcher's block."""
    try:
        txs = [tx_from_json(t) for t in block["transactions"]]
        for t, j in zip(txs, block["transactions"], strict=True):
            if t.hash != from_hex(j["hash"], 32):
                raise L2BlockError(f"transaction {j['hash']} re-encodes to 0x{t.hash.hex()}")
        ref = block_ref(cfg, from_hex(block["hash"], 32), parse_quantity(block["number"]),
                        from_hex(block["parentHash"], 32), parse_quantity(block["timestamp"]),
                        txs[0].raw if txs else None)
    except ParseError as e:
        raise L2BlockError(str(e)) from None
    except (KeyError, TypeError, ValueError) as e:
        raise L2BlockError(f"malformed L2 block JSON: {e}") from None
    return L2Block(ref, tuple(t.raw for t in txs if t.type != DEPOSIT))


async def fetch_block(rpc: RpcClient, cfg: RollupConfig, number: int) -> L2Block | None:
    block = await rpc.call("eth_getBlockByNumber", hex(number), True)
    return None if block is None else block_from_json(cfg, block)


@dataclass(frozen=True, slots=True)
class NodeStatus:
    """The parts of ``optimism_syncStatus`` the batcher acts on."""

    current_l1: int  # L1 block number derivation has read up to
    unsafe: L2BlockRef
    safe: L2BlockRef
    current_l1_hash: bytes | None = None

    @classmethod
    def from_json(cls, d: dict) -> NodeStatus:
        if not isinstance(d, dict):
            raise ParseError("optimism_syncStatus did not return an object")
        current = d.get("current_l1") or {}
        if not isinstance(current, dict):
            raise ParseError("optimism_syncStatus current_l1 is not an object")
        h = current.get("hash")
        return cls(parse_quantity(current.get("number", 0)), L2BlockRef.from_json(d.get("unsafe_l2") or {}),
                   L2BlockRef.from_json(d.get("safe_l2") or {}), from_hex(h, 32) if h else None)


async def sync_status(rpc: RpcClient) -> NodeStatus:
    return NodeStatus.from_json(await rpc.call("optimism_syncStatus"))


async def rollup_config(rpc: RpcClient) -> RollupConfig:
    return RollupConfig.from_json(await rpc.call("optimism_rollupConfig"))
