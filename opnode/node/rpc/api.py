"""What the RPC handlers need from the running node. The runtime implements :class:`NodeAPI`; tests pass a fake.

Handlers only read through it (``sync_status``, ``l2_eth``, ``safedb``, ``p2p``) or call its admin hooks; they
never touch the driver, the engine controller or the L1 client directly, so the RPC surface can be tested without
a node and the node can change inside without breaking the RPC contract.

Errors: a hook raises :class:`~opnode.jsonrpc.errors.RpcError` for an answer the caller should see (e.g. "sequencer
already running", code -32000); any other exception is treated as a bug (-32603, logged).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, runtime_checkable

from derivation.protocol.output_root import OutputV0
from derivation.protocol.payload import ExecutionPayloadEnvelope
from derivation.protocol.rollup_config import DependencySet, RollupConfig
from opnode.node.safedb import SafeDB
from opnode.node.sync_status import SyncStatus


@runtime_checkable
class L2EthReader(Protocol):
    """The engine's eth RPC as the handlers read it (:class:`opnode.node.l2_reader.L2Reader` is the real one)."""

    async def block_by_number(self, number: int | str, full: bool = False) -> dict: ...

    async def block_by_hash(self, block_hash: bytes, full: bool = False) -> dict: ...

    async def get_proof(self, address: bytes, keys: list[bytes], block_hash: bytes) -> dict: ...

    async def output_v0_at_block(self, cfg: RollupConfig, block_hash: bytes, *,
                                 fetch_from_state: bool = False) -> OutputV0: ...


class P2PStats(Protocol):
    def peer_stats(self) -> Mapping[str, int]:
        """op-node's ``PeerStats`` keys (``connected``, ``table``, ``blocksTopic``…``blocksTopicV4``, ``banned``,
        ``known``); missing keys are reported as 0."""
        ...


class NodeAPI(Protocol):
    rollup_config: RollupConfig
    l2_eth: L2EthReader
    safedb: SafeDB | None  # None without --safedb.path
    p2p: P2PStats | None  # None while P2P is disabled or not built in
    fetch_withdrawal_root_from_state: bool  # --fetch-withdrawal-root-from-state
    dependency_set: DependencySet | None  # the chain's interop dependency set, if it has one

    def sync_status(self) -> SyncStatus:
        """A consistent snapshot of the node's heads (one object, taken at once)."""
        ...

    # admin namespace (registered only with --rpc.enable-admin)

    async def reset_derivation_pipeline(self) -> None: ...

    async def start_sequencer(self, unsafe_head: bytes) -> None:
        """Start sequencing on top of ``unsafe_head`` (it must be the current unsafe head, as op-node checks)."""
        ...

    async def stop_sequencer(self) -> bytes:
        """Stop sequencing; the hash of the last sequenced block (the unsafe head)."""
        ...

    async def sequencer_active(self) -> bool: ...

    async def post_unsafe_payload(self, envelope: ExecutionPayloadEnvelope) -> None:
        """Insert a payload as op-conductor does on failover. The implementation checks the block hash against
        the payload (op-node ``CheckBlockHash``) and raises RpcError(SERVER_ERROR, "payload has bad block hash: …") if it
        differs."""
        ...

    async def set_recover_mode(self, mode: bool) -> None:
        """``--sequencer.recover`` at run time; ignored by a node that does not sequence (as op-node)."""
        ...

    async def override_leader(self) -> None:
        """op-conductor's failover override; RpcError("sequencer is not enabled") on a non-sequencer."""
        ...

    async def conductor_enabled(self) -> bool: ...
