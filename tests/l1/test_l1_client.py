"""The L1 client against a real anvil: blocks, transactions, receipts (every --l1.rpckind that anvil can serve),
verification, caching, frugal prefetch, confirmation depth, head tracking and metrics."""

from __future__ import annotations

import pytest
import trio

from derivation.protocol.crypto import address_from_private_key
from derivation.protocol.hexutil import from_hex, parse_quantity
from derivation.protocol.transactions import BLOB
from derivation.providers import DataKind, DataRequest
from opnode.node.l1.blockdata import header_hash
from opnode.node.l1.client import L1Client
from opnode.node.l1.config import L1Config
from opnode.node.l1.errors import NotFoundError
from opnode.node.l1.heads import HeadTracker
from opnode.node.metrics import Metrics
from opnode.node.runtime.l1_data import NodeL1Source, NotYetOnL1
from opnode.tools.anvil import DEV_KEYS


def cfg(chain, **kw) -> L1Config:
    return L1Config(rpc_url=kw.pop("rpc_url", chain.anvil.url), anvil_tx_root=True, **kw)


async def test_reads_every_block_as_anvil_has_it(l1_chain):
    anvil = l1_chain.anvil
    async with L1Client.open(cfg(l1_chain)) as client:
        assert await client.chain_id() == parse_quantity(anvil.rpc("eth_chainId"))
        for n in range(l1_chain.head + 1):
            want = anvil.rpc("eth_getBlockByNumber", hex(n), True)
            info = await client.block_info_by_number(n)
            assert info.hash == from_hex(want["hash"]) == header_hash(want)
            assert (info.number, info.parent_hash, info.time) == (n, from_hex(want["parentHash"]),
                                                                   parse_quantity(want["timestamp"]))
            assert info.base_fee == parse_quantity(want["baseFeePerGas"])
            assert info.parent_beacon_root == from_hex(want["parentBeaconBlockRoot"])
            _, txs = await client.info_and_txs_by_hash(info.hash)
            assert [t.hash for t in txs] == [from_hex(t["hash"]) for t in want["transactions"]]
            assert [t.sender() for t in txs] == [from_hex(t["from"]) for t in want["transactions"]]
            _, receipts = await client.receipts_by_hash(info.hash)
            assert len(receipts) == len(txs)
            assert all(r.status == 1 for r in receipts)


async def test_blob_transactions_keep_their_versioned_hashes(l1_chain):
    async with L1Client.open(cfg(l1_chain)) as client:
        ref = await client.block_ref_by_number(l1_chain.blob_block)
        _, txs = await client.info_and_txs_by_hash(ref.hash)
        hashes = [h for t in txs if t.type == BLOB for h in t.blob_versioned_hashes]
        assert [h for _, h, _ in l1_chain.blobs] == [h for h in hashes if h in {b[1] for b in l1_chain.blobs}]


@pytest.mark.parametrize("kind", ["standard", "basic", "any", "alchemy", "debug_geth", "erigon"])
async def test_receipts_are_the_same_for_every_rpc_kind(l1_chain, kind):
    """Kinds whose preferred method anvil lacks fall back, as op-node does, to one it has."""
    async with L1Client.open(cfg(l1_chain)) as ref_client, L1Client.open(cfg(l1_chain, rpc_kind=kind)) as client:
        block = await ref_client.block_ref_by_number(l1_chain.log_block)
        _, want = await ref_client.receipts_by_hash(block.hash)
        _, got = await client.receipts_by_hash(block.hash)
        assert got == want
        logs = [lg for r in got for lg in r.logs]
        assert [lg.log_index for lg in logs] == [0, 1, 2, 3]  # block-wide, across both transactions
        senders = [address_from_private_key(from_hex(k)) for k in DEV_KEYS[1:3]]
        assert [lg.topics[0][12:] for lg in logs] == [senders[0], senders[0], senders[1], senders[1]]


async def test_trusted_rpc_reads_the_same_data(l1_chain):
    async with L1Client.open(cfg(l1_chain, trust_rpc=True)) as trusted, L1Client.open(cfg(l1_chain)) as checked:
        for n in (0, l1_chain.blob_block, l1_chain.log_block):
            a = await trusted.block_ref_by_number(n)
            b = await checked.block_ref_by_number(n)
            assert a == b
            assert await trusted.receipts_by_hash(a.hash) == await checked.receipts_by_hash(b.hash)


async def test_prefetch_batches_and_nothing_is_fetched_twice(l1_chain):
    metrics = Metrics()
    async with L1Client.open(cfg(l1_chain, rpc_max_batch_size=20), metrics) as client:
        n = l1_chain.head + 1
        await client.prefetch(range(n))
        after_prefetch = client.rpc.stats.http_requests
        # blocks in ceil(n/20) requests, receipts of the blocks with transactions in as few, plus the blob roots
        assert after_prefetch <= 2 * -(-n // 20) + 2
        for i in range(n):
            info = await client.block_info_by_number(i)
            await client.info_and_txs_by_hash(info.hash)
            await client.receipts_by_hash(info.hash)
        assert client.rpc.stats.http_requests == after_prefetch
        assert client.rpc.stats.calls["eth_getBlockByNumber"] == n
        hits = metrics.sample("op_node_default_l1_source_cache_get", {"type": "receipts", "hit": "true"})
        assert hits == n


async def test_lookahead_fetches_ahead_while_catching_up(l1_chain):
    async with L1Client.open(cfg(l1_chain, prefetch_depth=8)) as client:
        await client.block_ref_by_label("latest")
        await client.block_info_by_number(0)
        with trio.fail_after(10):
            while not all(client._have_number(i) for i in range(1, 9)):
                await trio.sleep(0.01)
        before = client.rpc.stats.http_requests
        for i in range(1, 9):
            await client.block_info_by_number(i)
        # the reads themselves triggered the next window, nothing was fetched on the read path
        assert client.rpc.stats.calls["eth_getBlockByNumber"] <= l1_chain.head + 2
        assert client.rpc.stats.http_requests - before <= 2


async def test_concurrent_reads_of_one_block_make_one_request(l1_chain):
    async with L1Client.open(cfg(l1_chain, prefetch_depth=0)) as client:
        ref = await client.block_ref_by_number(l1_chain.log_block)
        client.receipts._items.clear()
        before = client.rpc.stats.calls["eth_getBlockReceipts"]
        async with trio.open_nursery() as nursery:
            for _ in range(5):
                nursery.start_soon(client.receipts_by_hash, ref.hash)
        assert client.rpc.stats.calls["eth_getBlockReceipts"] == before + 1


async def test_unknown_blocks_and_confirmation_depth(l1_chain):
    """``--verifier.l1-confs`` is applied in one layer, derivation's L1 provider: a block fewer than that many blocks
    below the head is not on (confirmed) L1 yet; the client itself answers every block L1 has."""
    async with L1Client.open(cfg(l1_chain, verifier_l1_confs=3)) as client:
        tracker = HeadTracker(client)
        head = await client.block_ref_by_label("latest")
        assert tracker.confirmed_head == head.number - 3
        l1 = NodeL1Source(client, confirmed_head=lambda: tracker.confirmed_head)
        await l1.fetch(DataRequest(DataKind.L1_BLOCK_BY_NUMBER, head.number - 3))
        assert l1.block_by_number(head.number - 3).number == head.number - 3
        with pytest.raises(NotYetOnL1):
            await l1.fetch(DataRequest(DataKind.L1_BLOCK_BY_NUMBER, head.number - 2))
        assert (await client.block_ref_by_number(head.number - 2)).number == head.number - 2
    async with L1Client.open(cfg(l1_chain)) as client:
        with pytest.raises(NotFoundError):
            await client.block_ref_by_number(10**9)


async def test_labels(l1_chain):
    async with L1Client.open(cfg(l1_chain)) as client:
        latest = await client.block_ref_by_label("latest")
        safe = await client.block_ref_by_label("safe")
        finalized = await client.block_ref_by_label("finalized")
        assert finalized.number <= safe.number <= latest.number
        with pytest.raises(ValueError):
            await client.block_ref_by_label("pending")


async def test_head_tracker_follows_new_blocks(l1_chain, nursery):
    seen = []
    async with L1Client.open(cfg(l1_chain, http_poll_interval=0.05, epoch_poll_interval=0.2)) as client:
        tracker = HeadTracker(client, on_change=lambda kind, ref: seen.append((kind, ref.number)))
        await nursery.start(tracker.run)
        first = tracker.head.number
        assert client.head == tracker.head
        l1_chain.anvil.rpc("anvil_mine", "0x2")
        with trio.fail_after(5):
            while tracker.head.number < first + 2:
                await trio.sleep(0.02)
        assert ("head", first + 2) in seen
        assert tracker.confirmed_head == tracker.head.number
        l1_chain.head = tracker.head.number


async def test_metrics_use_op_node_names(l1_chain):
    metrics = Metrics()
    async with L1Client.open(cfg(l1_chain), metrics) as client:
        ref = await client.block_ref_by_number(1)
        await client.receipts_by_hash(ref.hash)
    text = metrics.exposition().decode()
    assert metrics.sample("op_node_default_rpc_client_requests_total", {"rpc": "l1", "method": "eth_getBlockByNumber"}) >= 1
    assert metrics.sample("op_node_default_rpc_client_responses_total",
                          {"rpc": "l1", "method": "eth_getBlockByNumber", "error": "<nil>"}) >= 1
    assert metrics.sample("op_node_default_l1_request_seconds_count", {"request": "L1BlockRefByNumber"}) == 1
    assert metrics.sample("op_node_default_l1_request_seconds_count", {"request": "FetchReceipts"}) == 1
    assert 'op_node_default_l1_source_cache_add{evicted="false",type="headers"}' in text
    assert "op_node_default_rpc_client_request_duration_seconds_bucket" in text
