"""``superroot_atTimestamp`` on a single-chain node: op-node serves it always, so dispute tooling (op-challenger,
op-dispute-mon ``--supernode-rpc``) can point at an op-node and read a super root over the one chain
(op-node/node/superroot_api.go @0f287d47, 2026; the response shape is op-supernode's,
:func:`derivation.interop.super_root.superroot_at_timestamp_json`).

- without ``--safedb.path``: an error up front ("safedb not enabled: …", op-node's text), never a half answer;
- the chain's block at the timestamp (the highest with time <= it, op-node ``TargetBlockNumber``) past local-safe, or
  the timestamp before genesis: the status fields only (no ``optimistic_at_timestamp`` entry, no ``data``);
- otherwise the block's output and the L1 block at which it became safe (the safe-head DB, walked as op-supernode's
  ``L1AtSafeHead``: L2 genesis is safe at L1 block 0; not safe yet → no entry and no ``data``; the crossing older than
  the DB's first row (a node bootstrapped by EL sync) → the "history unavailable" error, as op-node).
"""

from __future__ import annotations

from derivation.interop.super_root import OptimisticOutput, super_root_v1, superroot_at_timestamp_json
from derivation.protocol.errors import ParseError
from derivation.protocol.types import BlockID, L2BlockRef
from opnode.jsonrpc.errors import SERVER_ERROR, RpcError, TransportError
from opnode.node.l2_reader import BlockNotFound
from opnode.node.rpc.api import NodeAPI
from opnode.node.safedb import SafeDB

UNAVAILABLE = "l1 at safe head history unavailable"


def required_l1(db: SafeDB, genesis: BlockID, genesis_l1: int, ref: L2BlockRef) -> BlockID | None:
    """The first L1 block at which ``ref`` was safe; None if it is not yet; RpcError if the DB cannot tell."""
    if ref.id == genesis:
        return BlockID(bytes(32), 0)
    row = db.l1_at_safe_head(ref.number)
    if row is None:
        return None
    first = db.first()
    if row.l1.number <= genesis_l1 or (first is not None and row.l1 == first.l1 and row.safe_head != ref.id):
        raise RpcError(SERVER_ERROR, f"L1 at safe head unavailable for L2 0x{ref.hash.hex()}:{ref.number}: "
                                     f"{UNAVAILABLE}")
    return row.l1


async def superroot_at_timestamp(api: NodeAPI, timestamp: int, ref_at) -> dict:
    """``ref_at(number)``: the engine's canonical block at ``number`` as an L2BlockRef (RpcError if it cannot)."""
    db = api.safedb
    if db is None:
        raise RpcError(SERVER_ERROR, "safedb not enabled: --safedb.path is required to serve superroot_atTimestamp")
    st = api.sync_status()
    cfg = api.rollup_config
    chain_id = cfg.l2_chain_id
    optimistic: dict[int, OptimisticOutput] = {}
    verified = None
    if timestamp >= cfg.genesis.l2_time and cfg.block_number_at(timestamp) <= st.local_safe_l2.number:
        ref = await ref_at(cfg.block_number_at(timestamp))
        try:
            out = await api.l2_eth.output_v0_at_block(cfg, ref.hash)
        except (TransportError, RpcError, ParseError, BlockNotFound) as e:
            raise RpcError(SERVER_ERROR, f"outputV0AtBlock@0x{ref.hash.hex()}:{ref.number}: {e}") from None
        l1 = required_l1(db, cfg.genesis.l2, cfg.genesis.l1.number, ref)
        if l1 is not None:
            optimistic[chain_id] = OptimisticOutput(out, l1)
            verified = (super_root_v1(timestamp, [(chain_id, out.root())]), l1)
    return superroot_at_timestamp_json(st.current_l1.id, st.safe_l2.time, st.local_safe_l2.time,
                                       st.finalized_l2.time, [chain_id], optimistic, verified)
