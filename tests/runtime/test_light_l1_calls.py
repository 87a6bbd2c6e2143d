"""A light node's L1 client reads headers only (regression: its canonical checks and resets went through the
deriving client, which fetches whole blocks and prefetches receipts ahead — derivation traffic on a node that never
derives). Counted at the e2e counting proxy in front of a real anvil."""

from __future__ import annotations

from derivation.protocol.hexutil import from_hex
from opnode.node.l1.client import L1Client
from opnode.node.l1.config import L1Config
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
