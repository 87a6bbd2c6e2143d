"""The running node as the RPC handlers see it (:class:`opnode.node.rpc.api.NodeAPI`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from derivation.protocol.payload import ExecutionPayloadEnvelope
from derivation.protocol.rollup_config import DependencySet
from opnode.jsonrpc.errors import SERVER_ERROR, RpcError
from opnode.node.admin_state import AdminState, AdminStateError
from opnode.node.sync_status import SyncStatus
from p2p.block_hash import compute_block_hash
from p2p.topics import version_for_timestamp

if TYPE_CHECKING:  # node.py builds this API over itself
    from opnode.node.runtime.node import OpNode
    from opnode.node.runtime.sequencer import Sequencer


class RuntimeAPI:
    def __init__(self, node: OpNode):
        self._node = node
        self.rollup_config = node.cfg
        self.l2_eth = node.l2_reader
        self.safedb = node.safedb
        self.p2p = node.p2p
        self.fetch_withdrawal_root_from_state = node.config.fetch_withdrawal_root_from_state
        path = node.config.rpc.admin_state
        self._admin_state = AdminState(path) if path else None

    @property
    def dependency_set(self) -> DependencySet | None:
        return self.rollup_config.dependency_set

    def sync_status(self) -> SyncStatus:
        return self._node.status.status()

    async def reset_derivation_pipeline(self) -> None:
        self._node.driver.request_reset("admin_resetDerivationPipeline")

    def _sequencer(self) -> Sequencer:
        seq = self._node.sequencer
        if seq is None:
            raise RpcError(SERVER_ERROR, "sequencer is not enabled")
        return seq

    async def start_sequencer(self, unsafe_head: bytes) -> None:
        seq = self._sequencer()
        try:
            seq.start(unsafe_head)
        except ValueError as e:
            raise RpcError(SERVER_ERROR, str(e)) from None
        self._persist(True, seq)

    async def stop_sequencer(self) -> bytes:
        seq = self._sequencer()
        try:
            head = seq.stop()
        except ValueError as e:
            raise RpcError(SERVER_ERROR, str(e)) from None
        self._persist(False, seq)
        return head

    def _persist(self, started: bool, seq: Sequencer) -> None:
        """--rpc.admin-state; op-node fails the call (and keeps the old state) when the state cannot be written."""
        if self._admin_state is None:
            return
        try:
            self._admin_state.persist(started)
        except AdminStateError as e:
            seq.active = not started
            raise RpcError(SERVER_ERROR, f"failed to notify sequencer state listener of "
                                         f"{'start' if started else 'stop'}: {e}") from None

    async def set_recover_mode(self, mode: bool) -> None:
        if self._node.sequencer is not None:  # op-node's DisabledSequencer ignores it
            self._node.sequencer.recover = mode

    async def override_leader(self) -> None:
        self._sequencer()  # no op-conductor: nothing to override (op-node's NoOpConductor)

    async def conductor_enabled(self) -> bool:
        return False

    async def sequencer_active(self) -> bool:
        seq = self._node.sequencer
        return seq is not None and seq.active

    async def post_unsafe_payload(self, envelope: ExecutionPayloadEnvelope) -> None:
        actual = compute_block_hash(envelope, version_for_timestamp(self.rollup_config, envelope.timestamp))
        if actual != envelope.block_hash:
            # op-node adminAPI.PostUnsafePayload's text (op-node/node/api.go)
            raise RpcError(SERVER_ERROR, f"payload has bad block hash: 0x{envelope.block_hash.hex()}, actual block "
                                         f"hash is: 0x{actual.hex()}")
        self._node.driver.submit_unsafe(envelope)
