"""Shared helpers of the interop tests: minimal rollup configs and an in-memory view of initiating logs."""

from derivation.interop.messages import log_hash
from derivation.interop.validity import InitiatingBlock
from derivation.protocol.rollup_config import Fork, Genesis, RollupConfig
from derivation.protocol.system_config import SystemConfig
from derivation.protocol.types import BlockID, Log


def rollup_config(chain_id: int, lagoon_time: int | None, block_time: int = 2, genesis_time: int = 0) -> RollupConfig:
    sc = SystemConfig(batcher_addr=b"\x11" * 20, overhead=bytes(32), scalar=b"\x01" + bytes(31), gas_limit=30_000_000)
    return RollupConfig(
        genesis=Genesis(BlockID(b"\x01" * 32, 1), BlockID(b"\x02" * 32, 0), genesis_time, sc),
        block_time=block_time, max_sequencer_drift=600, seq_window_size=3600, channel_timeout=300,
        l1_chain_id=1, l2_chain_id=chain_id, batch_inbox_address=b"\xff" * 20, deposit_contract_address=b"\xaa" * 20,
        l1_system_config_address=b"\xbb" * 20, fork_times={} if lagoon_time is None else {Fork.LAGOON: lagoon_time})


class MemoryLogView:
    """Blocks of logs per chain, as a supernode's log store would hold them."""

    def __init__(self):
        self.blocks: dict[tuple[int, int], InitiatingBlock] = {}

    def add(self, chain_id: int, number: int, timestamp: int, logs: list[Log]) -> None:
        self.blocks[(chain_id, number)] = InitiatingBlock(number, timestamp, tuple(log_hash(lg) for lg in logs))

    def block(self, chain_id: int, number: int) -> InitiatingBlock | None:
        return self.blocks.get((chain_id, number))
