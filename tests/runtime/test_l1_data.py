"""The node's L1 provider: number lookups that a reorg made stale are asked again."""

from __future__ import annotations

import pytest

from derivation.protocol.system_config import SystemConfig
from derivation.protocol.types import L1BlockInfo
from derivation.providers import NeedData
from derivation.stages.l1_traversal import L1Traversal
from opnode.node.l1.errors import L1DataError
from opnode.node.runtime.l1_data import NodeL1Source
from opnode.testing.harness.world import test_config as rollup_config


def _info(number: int, tag: bytes, parent: bytes) -> L1BlockInfo:
    return L1BlockInfo(hash=tag * 32, number=number, parent_hash=parent, time=12 * number)


class ReorgingClient:
    """Block 9 is reorged out between its number lookup and its receipts: the L1 node no longer has them."""

    def __init__(self):
        self.b8 = _info(8, b"\x08", b"\x07" * 32)
        self.old9 = _info(9, b"\xa9", self.b8.hash)
        self.new9 = _info(9, b"\xb9", self.b8.hash)
        self.reorged = False
        self.calls: list[tuple[str, object]] = []

    async def block_info_by_number(self, number: int) -> L1BlockInfo:
        self.calls.append(("number", number))
        assert number == 9
        return self.new9 if self.reorged else self.old9

    async def receipts_by_hash(self, block_hash: bytes):
        self.calls.append(("receipts", block_hash))
        if block_hash == self.old9.hash:
            self.reorged = True
            raise L1DataError("no receipts for L1 block 9")
        assert block_hash == self.new9.hash
        return self.new9, ()


@pytest.mark.trio
async def test_failed_fetch_of_a_reorged_block_asks_by_number_again():
    client = ReorgingClient()
    l1 = NodeL1Source(client, confirmed_head=lambda: 9)
    trav = L1Traversal(rollup_config(), l1, lambda ev: None)
    trav.reset(client.b8.ref, SystemConfig(batcher_addr=bytes(20), overhead=bytes(32), scalar=bytes(32),
                                           gas_limit=30_000_000))
    failures = 0
    for _ in range(6):  # without re-asking by number this would fetch the lost block's receipts forever
        try:
            trav.advance()
            break
        except NeedData as need:
            try:
                await l1.fetch(need.request)
            except L1DataError:
                failures += 1
    assert trav.origin == client.new9.ref
    assert failures == 1
    assert client.calls == [("number", 9), ("receipts", client.old9.hash), ("number", 9),
                            ("receipts", client.new9.hash)]
