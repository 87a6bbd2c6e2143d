"""The running node as the RPC handlers see it (:class:`opnode.node.rpc.api.NodeAPI`)."""

from __future__ import annotations

from derivation.protocol.payload import ExecutionPayloadEnvelope
from derivation.protocol.types import ZERO_L1_REF
from opnode.node.rpc.jsonrpc import RPCError
from opnode.node.sync_status import SyncStatus
from p2p.block_hash import compute_block_hash
from p2p.topics import version_for_timestamp


class RuntimeAPI:
    def __init__(self, node):
        self._node = node
        self.rollup_config = node.cfg
        self.l2_eth = node.l2_reader
        self.safedb = node.safedb
        self.p2p = node.p2p
        self.fetch_withdrawal_root_from_state = node.config.fetch_withdrawal_root_from_state

    def sync_status(self) -> SyncStatus:
        n = self._node
        h = n.ctrl.heads
        t = n.heads
        current = n.driver.current_l1 or n.pipeline.origin or ZERO_L1_REF
        fin = t.finalized or ZERO_L1_REF
        return SyncStatus(current_l1=current, current_l1_finalized=fin, head_l1=t.head or ZERO_L1_REF,
                          safe_l1=t.safe or ZERO_L1_REF, finalized_l1=fin, unsafe_l2=h.unsafe, safe_l2=h.safe,
                          finalized_l2=h.finalized, pending_safe_l2=h.pending_safe, cross_unsafe_l2=h.cross_unsafe,
                          local_safe_l2=h.local_safe)

    async def reset_derivation_pipeline(self) -> None:
        self._node.driver.request_reset("admin_resetDerivationPipeline")

    def _sequencer(self):
        seq = self._node.sequencer
        if seq is None:
            raise RPCError("sequencer is not enabled on this node")
        return seq

    async def start_sequencer(self, unsafe_head: bytes) -> None:
        try:
            self._sequencer().start(unsafe_head)
        except ValueError as e:
            raise RPCError(str(e)) from None

    async def stop_sequencer(self) -> bytes:
        try:
            return self._sequencer().stop()
        except ValueError as e:
            raise RPCError(str(e)) from None

    async def sequencer_active(self) -> bool:
        seq = self._node.sequencer
        return seq is not None and seq.active

    async def post_unsafe_payload(self, envelope: ExecutionPayloadEnvelope) -> None:
        actual = compute_block_hash(envelope, version_for_timestamp(self.rollup_config, envelope.timestamp))
        if actual != envelope.block_hash:
            raise RPCError(f"payload has bad block hash: 0x{actual.hex()}, expected 0x{envelope.block_hash.hex()}")
        self._node.driver.submit_unsafe(envelope)
