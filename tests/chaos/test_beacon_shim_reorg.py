"""The beacon shim after an L1 reorg (found by the chaos suite's anvil reorg on a blobs devnet): the blocks that
replace the reverted ones have other timestamps, so their slots must map to them, not to what the shim saw before
(a stale slot map made every blob of the new branch "unavailable" and stalled derivation for good)."""

from __future__ import annotations

from derivation.protocol.hexutil import parse_quantity
from opnode.tools.anvil import Anvil
from opnode.tools.beacon_shim import BeaconShim


async def test_slots_map_to_the_blocks_of_the_new_branch_after_a_reorg(nursery):
    anvil = Anvil().start()
    try:
        anvil.rpc("anvil_mine", hex(5))
        snapshot = anvil.rpc("evm_snapshot")
        anvil.rpc("anvil_mine", hex(5))

        def ts(n: int) -> int:
            return parse_quantity(anvil.rpc("eth_getBlockByNumber", hex(n), False)["timestamp"])

        shim = BeaconShim(anvil.url)
        await nursery.start(shim.serve)
        genesis = await shim.genesis_time()
        assert await shim.block_at_slot(ts(8) - genesis) == 8  # the shim has now seen blocks 0..10
        old_head_time = ts(10)

        anvil.rpc("evm_revert", snapshot)
        anvil.rpc("evm_setNextBlockTimestamp", hex(old_head_time + 50))  # the new branch is mined later
        anvil.rpc("anvil_mine", hex(5))
        assert ts(8) == old_head_time + 52
        for n in (6, 8, 10):
            assert await shim.block_at_slot(ts(n) - genesis) == n, n
        assert await shim.block_at_slot(old_head_time - 2 - genesis) is None, "a slot of the old branch is empty"
    finally:
        anvil.stop()
