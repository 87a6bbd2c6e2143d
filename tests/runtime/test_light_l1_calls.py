"""A light node's L1 client reads headers only (regression: its canonical checks and resets went through the
deriving client, which fetches whole blocks and prefetches receipts ahead — derivation traffic on a node that never
derives). Counted at the e2e counting proxy in front of a real anvil."""

from __future__ import annotations

import pytest
import trio

from derivation.protocol.hexutil import from_hex
from derivation.protocol.types import L1BlockRef
from opnode.node.l1.client import L1Client
from opnode.node.l1.config import L1Config
from opnode.node.l1.errors import NotFoundError
from opnode.node.l1.heads import HeadTracker, L1Heads
from opnode.testing.l1_proxy import DERIVATION_METHODS, L1Proxy
from opnode.tools.anvil import Anvil


def _chain(anvil: Anvil) -> None:
    sender = anvil.rpc("eth_accounts")[0]
    for i in range(4):
        anvil.rpc("eth_sendTransaction", {"from": sender, "to": "0x" + "42" * 20, "value": hex(1 + i)})
    anvil.rpc("anvil_mine", "0x4")


async def _lookups(url: str, numbers, *, headers_only: bool, anvil: Anvil):
    cfg = L1Config(rpc_url=url, anvil_tx_root=True, prefetch_depth=8)
    async with L1Client.open(cfg, headers_only=headers_only) as client:
        await client.block_ref_by_label("latest")
        for n in numbers:
            ref = await client.block_ref_by_number(n)
            want = anvil.rpc("eth_getBlockByNumber", hex(n), False)
            assert ref.hash == from_hex(want["hash"], 32) and ref.number == n
            assert (await client.block_ref_by_hash(ref.hash)) == ref
            info = await client.block_info_by_number(n)
            assert info.base_fee is not None and info.hash == ref.hash


async def test_headers_only_client_makes_no_derivation_calls():
    with Anvil() as anvil, L1Proxy(anvil.url) as proxy:
        _chain(anvil)
        numbers = range(1, 6)
        await _lookups(proxy.url_for(anvil.url, "light"), numbers, headers_only=True, anvil=anvil)
        await _lookups(proxy.url_for(anvil.url, "source"), numbers, headers_only=False, anvil=anvil)
        light, source = proxy.counts("light"), proxy.counts("source")
        assert not (set(light) & DERIVATION_METHODS), light
        assert light["eth_getBlockByNumber"] >= len(numbers)
        # the same lookups on a deriving client fetch whole blocks, which the proxy counts as derivation calls
        # (its receipts prefetch runs in the background and may or may not have been asked before it closes)
        assert source["eth_getBlockByNumber/full"] > 0 and "eth_getBlockByNumber/full" in DERIVATION_METHODS


async def test_headers_only_answers_by_number_stand_until_l1_reorgs():
    """A light node's canonical checks ask the same few numbers every poll: while the L1 head only extends the chain
    they cost nothing; once a head does not build on the last one (a reorg) they are asked of L1 again and answer
    with the new chain's blocks (the L1 view's one invalidation rule)."""
    with Anvil() as anvil, L1Proxy(anvil.url) as proxy:
        _chain(anvil)
        cfg = L1Config(rpc_url=proxy.url_for(anvil.url, "light"), anvil_tx_root=True)
        async with L1Client.open(cfg, headers_only=True) as client:
            await client.block_ref_by_label("latest")
            answers = {}

            async def ask() -> int:
                before = proxy.counts("light")["eth_getBlockByNumber"]
                for n in (2, 3, 5):
                    answers[n] = (await client.block_ref_by_number(n)).hash
                return proxy.counts("light")["eth_getBlockByNumber"] - before

            assert await ask() == 3
            assert await ask() == 0  # same head: the answers stand
            await client.block_ref_by_label("latest")  # the head has not moved
            assert await ask() == 0
            anvil.rpc("anvil_mine", "0x1")
            await client.block_ref_by_label("latest")  # a new head on the old one: nothing below it changed
            assert await ask() == 0
            head = client.head.number
            anvil.rpc("anvil_reorg", head - 4, [])  # blocks 5 and up replaced
            await client.block_ref_by_label("latest")
            assert await ask() == 3
            assert answers[5] == from_hex(anvil.rpc("eth_getBlockByNumber", "0x5", False)["hash"], 32)


async def test_numbers_of_polled_heads_are_known_without_a_call():
    """A light node's canonical checks ask for the source's L1 origins and current L1, mostly at or just below its
    own L1 head: the blocks its head polls named answer them without another call, until a head that does not
    extend them (a reorg) makes them stale."""
    with Anvil() as anvil, L1Proxy(anvil.url) as proxy:
        _chain(anvil)
        cfg = L1Config(rpc_url=proxy.url_for(anvil.url, "light"), anvil_tx_root=True)
        async with L1Client.open(cfg, headers_only=True) as client:
            heads = []
            for _ in range(3):
                heads.append(await client.block_ref_by_label("latest"))
                anvil.rpc("anvil_mine", "0x1")
            before = proxy.counts("light")["eth_getBlockByNumber"]
            for ref in heads:
                assert await client.block_ref_by_number(ref.number) == ref
            assert proxy.counts("light")["eth_getBlockByNumber"] == before
            top = int(anvil.rpc("eth_blockNumber"), 16)
            anvil.rpc("anvil_reorg", top - heads[0].number + 1, [])  # every polled head replaced
            new = await client.block_ref_by_label("latest")
            assert new.number >= heads[-1].number and new.parent_hash != heads[-1].hash
            got = await client.block_ref_by_number(heads[0].number)
            assert got.hash == from_hex(anvil.rpc("eth_getBlockByNumber", hex(heads[0].number), False)["hash"], 32)
            assert got.hash != heads[0].hash


async def test_a_check_just_above_the_head_reads_the_head_instead():
    """A light node's source is often one L1 block ahead of the light node's own head poll (its current L1): the
    canonical check of that block reads ``latest`` — one call that answers it and refreshes the head — instead of
    the block by number (and the head poll then waits a period, test below)."""
    with Anvil() as anvil, L1Proxy(anvil.url) as proxy:
        _chain(anvil)
        cfg = L1Config(rpc_url=proxy.url_for(anvil.url, "light"), anvil_tx_root=True)
        async with L1Client.open(cfg, headers_only=True) as client:
            head = await client.block_ref_by_label("latest")
            anvil.rpc("anvil_mine", "0x1")
            before = proxy.counts("light")
            ref = await client.block_ref_by_number(head.number + 1)
            calls = proxy.counts("light") - before
            assert calls == {"eth_getBlockByNumber/latest": 1}, calls
            assert ref.parent_hash == head.hash and client.heads.head == ref
            # not on this L1 yet: not found, after the same one read
            with pytest.raises(NotFoundError):
                await client.block_ref_by_number(ref.number + 1)
            assert proxy.counts("light") - before == {"eth_getBlockByNumber/latest": 2}


class _Labels:
    """An L1 client for the head tracker: answers label reads, logs when they were made."""

    subscribes = False  # an HTTP L1: the head is polled

    def __init__(self, poll: float, epoch: float):
        self.cfg = L1Config(rpc_url="http://unused", http_poll_interval=poll, epoch_poll_interval=epoch)
        self.heads = L1Heads()
        self.head_read_at = None
        self.reads: list[tuple[str, float]] = []

    async def block_ref_by_label(self, label):
        self.reads.append((label, trio.current_time()))
        if label == "latest":
            self.head_read_at = trio.current_time()
        ref = L1BlockRef(bytes(32), 1, bytes(32), 0)
        self.heads.observe(label, ref)
        return ref


async def test_the_head_poll_waits_a_period_from_any_head_read(autojump_clock, nursery):
    """The head is read at least every --l1.http-poll-interval (op-node's cadence); a read made by someone else
    meanwhile counts, so the periodic poll is not a second call for the same freshness. Safe/finalized keep their
    own period."""
    client = _Labels(poll=12, epoch=384)
    tracker = HeadTracker(client)
    await nursery.start(tracker.run)
    start = trio.current_time()
    await trio.sleep(30)
    assert [t - start for label, t in client.reads if label == "latest"][1:] == [12, 24]
    await trio.sleep(5)  # t = 35: a canonical check reads the head
    await client.block_ref_by_label("latest")
    await trio.sleep(20)  # the poll due at 36 waits until 47
    heads = [t - start for label, t in client.reads if label == "latest"][1:]
    assert heads == [12, 24, 35, 47], heads
    await trio.sleep(400)
    epochs = [t - start for label, t in client.reads if label == "safe"][1:]
    assert epochs[0] == 384, epochs
