"""Faults between the L1 client and anvil (a proxy in between): transport failures are retried, wrong data is
refetched once and then reported; nothing wrong reaches the caller or the caches."""

from __future__ import annotations

import pytest
import trio

from derivation.protocol.hexutil import from_hex
from opnode.jsonrpc.client import RpcClient
from opnode.jsonrpc.errors import TransportError
from opnode.node.l1.client import L1Client
from opnode.node.l1.config import L1Config, RetryPolicy
from opnode.node.l1.errors import L1DataError
from tests.l1.proxy import Fault

FAST_RETRY = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)


def cfg(proxy, **kw) -> L1Config:
    return L1Config(rpc_url=proxy.url, anvil_tx_root=True, retry=FAST_RETRY, prefetch_depth=0, **kw)


def calls(method):
    return lambda methods: method in methods


async def _expected(l1_chain, number):
    async with L1Client.open(L1Config(rpc_url=l1_chain.anvil.url, anvil_tx_root=True)) as client:
        info = await client.block_info_by_number(number)
        return info, await client.receipts_by_hash(info.hash)


@pytest.mark.parametrize("action,status", [("status", 500), ("status", 503), ("status", 429), ("truncate", 0),
                                           ("timeout", 0)])
async def test_transport_failures_are_retried(l1_chain, rpc_proxy, action, status):
    want, _ = await _expected(l1_chain, l1_chain.log_block)
    fault = rpc_proxy.add(Fault(calls("eth_getBlockByNumber"), action, times=1, status=status))
    async with L1Client.open(cfg(rpc_proxy, request_timeout=0.5)) as client:
        assert await client.block_info_by_number(l1_chain.log_block) == want
        assert client.rpc.stats.retries == 1
    assert fault.hits == 1


async def test_persistent_transport_failure_is_reported(l1_chain, rpc_proxy):
    rpc_proxy.add(Fault(calls("eth_getBlockByNumber"), "status", times=-1, status=502))
    async with L1Client.open(cfg(rpc_proxy)) as client:
        with pytest.raises(TransportError, match="HTTP 502"):
            await client.block_info_by_number(1)
        assert client.rpc.stats.retries == FAST_RETRY.attempts - 1
    rpc_proxy.faults.clear()
    rpc_proxy.add(Fault(calls("eth_getBlockByNumber"), "truncate", times=-1))
    async with L1Client.open(cfg(rpc_proxy)) as client:
        with pytest.raises(TransportError, match="not JSON"):
            await client.block_info_by_number(1)


def _corrupt_header(doc):
    doc["result"]["stateRoot"] = "0x" + "11" * 32
    return doc


async def test_a_header_that_does_not_hash_to_its_hash_is_refetched(l1_chain, rpc_proxy):
    want, _ = await _expected(l1_chain, l1_chain.log_block)
    rpc_proxy.add(Fault(calls("eth_getBlockByNumber"), "mutate", times=1, mutate=_corrupt_header))
    async with L1Client.open(cfg(rpc_proxy)) as client:
        assert await client.block_info_by_number(l1_chain.log_block) == want


async def test_a_header_that_never_hashes_right_is_an_error_and_not_cached(l1_chain, rpc_proxy):
    rpc_proxy.add(Fault(calls("eth_getBlockByNumber"), "mutate", times=-1, mutate=_corrupt_header))
    async with L1Client.open(cfg(rpc_proxy)) as client:
        with pytest.raises(L1DataError, match="hashes to"):
            await client.block_info_by_number(l1_chain.log_block)
        assert len(client.headers) == 0 and len(client.txs) == 0
    async with L1Client.open(cfg(rpc_proxy, trust_rpc=True)) as client:
        info = await client.block_info_by_number(l1_chain.log_block)  # trusted: taken as given (op-node too)
        assert info.number == l1_chain.log_block


def _corrupt_tx(doc):
    doc["result"]["transactions"][0]["input"] = "0x" + "ee" * 32
    return doc


async def test_a_transaction_that_does_not_match_its_hash_is_an_error(l1_chain, rpc_proxy):
    rpc_proxy.add(Fault(calls("eth_getBlockByNumber"), "mutate", times=-1, mutate=_corrupt_tx))
    async with L1Client.open(cfg(rpc_proxy)) as client:
        with pytest.raises(L1DataError, match="encodes to"):
            await client.block_info_by_number(l1_chain.log_block)


def _drop_tx(doc):
    doc["result"]["transactions"] = doc["result"]["transactions"][1:]
    return doc


async def test_a_block_with_a_missing_transaction_fails_the_transactions_root(l1_chain, rpc_proxy):
    rpc_proxy.add(Fault(calls("eth_getBlockByNumber"), "mutate", times=-1, mutate=_drop_tx))
    async with L1Client.open(cfg(rpc_proxy)) as client:
        with pytest.raises(L1DataError, match="transactions of block"):
            await client.block_info_by_number(l1_chain.log_block)


def _set_log_data(value):
    def mutate(doc):
        doc["result"][0]["logs"][0]["data"] = value
        return doc
    return mutate


# other data than the root commits to; a field of the wrong type (a malformed answer is a bad answer too)
@pytest.mark.parametrize("value,error", [("0x" + "ab" * 32, "receipts of block .* have root"),
                                         (7, "bad receipts .*expected a hex string")])
async def test_receipts_that_do_not_match_the_root_are_refetched_then_reported(l1_chain, rpc_proxy, value, error):
    info, (_, want) = await _expected(l1_chain, l1_chain.log_block)
    rpc_proxy.add(Fault(calls("eth_getBlockReceipts"), "mutate", times=1, mutate=_set_log_data(value)))
    async with L1Client.open(cfg(rpc_proxy)) as client:
        assert (await client.receipts_by_hash(info.hash))[1] == want
    rpc_proxy.add(Fault(calls("eth_getBlockReceipts"), "mutate", times=-1, mutate=_set_log_data(value)))
    async with L1Client.open(cfg(rpc_proxy)) as client:
        with pytest.raises(L1DataError, match=error):
            await client.receipts_by_hash(info.hash)
        assert info.hash not in client.receipts


async def test_empty_receipts_for_a_block_with_transactions_are_never_accepted(l1_chain, rpc_proxy):
    info, _ = await _expected(l1_chain, l1_chain.log_block)

    def empty(doc):
        doc["result"] = []
        return doc

    rpc_proxy.add(Fault(calls("eth_getBlockReceipts"), "mutate", times=-1, mutate=empty))
    async with L1Client.open(cfg(rpc_proxy)) as client:
        with pytest.raises(L1DataError, match="got 0 receipts for 2 transactions"):
            await client.receipts_by_hash(info.hash)
        assert info.hash not in client.receipts


async def test_receipts_of_another_block_are_rejected(l1_chain, rpc_proxy):
    info, _ = await _expected(l1_chain, l1_chain.log_block)
    other = l1_chain.anvil.rpc("eth_getBlockByNumber", hex(l1_chain.log_block - 1), False)

    def relabel(doc):
        for r in doc["result"]:
            r["blockHash"] = other["hash"]
        return doc

    rpc_proxy.add(Fault(calls("eth_getBlockReceipts"), "mutate", times=-1, mutate=relabel))
    async with L1Client.open(cfg(rpc_proxy)) as client:
        with pytest.raises(L1DataError, match="belongs to block"):
            await client.receipts_by_hash(info.hash)


async def test_a_prefetched_block_failing_verification_is_not_cached(l1_chain, rpc_proxy):
    def corrupt_first(doc):
        doc[0]["result"]["stateRoot"] = "0x" + "22" * 32
        return doc

    rpc_proxy.add(Fault(lambda m: len(m) > 1 and m[0] == "eth_getBlockByNumber", "mutate", times=1,
                        mutate=corrupt_first))
    async with L1Client.open(cfg(rpc_proxy)) as client:
        await client.prefetch(range(0, 4))
        assert not client._have_number(0) and client._have_number(1)
        info = await client.block_info_by_number(0)
        want = l1_chain.anvil.rpc("eth_getBlockByNumber", "0x0", False)
        assert info.hash == from_hex(want["hash"])


async def test_concurrency_and_batch_size_limits(l1_chain, rpc_proxy):
    rpc_proxy.delay = 0.05
    async with L1Client.open(cfg(rpc_proxy, max_concurrency=2, rpc_max_batch_size=3)) as client:
        await client.prefetch(range(0, 12))  # 12 blocks: 4 HTTP batches of 3, at most 2 at a time
        assert client.rpc.stats.calls["eth_getBlockByNumber"] == 12
    assert rpc_proxy.max_in_flight == 2


async def test_rate_limit_paces_calls(l1_chain, rpc_proxy):
    async with RpcClient(rpc_proxy.url, max_batch_size=1, rate_limit=20) as rpc:
        start = trio.current_time()
        for _ in range(6):
            await rpc.call("eth_chainId")
        # burst of 1, then 20 calls/s: five waits of 50 ms
        assert trio.current_time() - start >= 0.2


# The chaos suite's "JSON of the wrong shape" (opnode/testing/fault_proxy.py GARBAGE) once reached the driver as a bare
# ParseError ("expected a hex string, got int" from the block's "hash") and the source node exited: a malformed field
# anywhere in an answer is a bad answer, refetched once and then an L1DataError (temporary), like a wrong hash.
WRONG_SHAPES = {
    "the chaos proxy's wrong shape": lambda r: {"hash": 7, "number": ["0xzz"], "transactions": "none"},
    "hash is a number": lambda r: {**r, "hash": 7},
    "a transaction's hash is a number": lambda r: {**r, "transactions": [{**r["transactions"][0], "hash": 7}]},
    "withdrawals root is a list": lambda r: {**r, "withdrawalsRoot": ["0x00"]},
}


@pytest.mark.parametrize("shape", WRONG_SHAPES)
async def test_a_block_with_a_field_of_the_wrong_type_is_refetched_then_reported(l1_chain, rpc_proxy, shape):
    want, _ = await _expected(l1_chain, l1_chain.log_block)

    def mutate(doc):
        doc["result"] = WRONG_SHAPES[shape](doc["result"])
        return doc

    rpc_proxy.add(Fault(calls("eth_getBlockByNumber"), "mutate", times=1, mutate=mutate))
    async with L1Client.open(cfg(rpc_proxy)) as client:
        assert await client.block_info_by_number(l1_chain.log_block) == want
    rpc_proxy.add(Fault(calls("eth_getBlockByNumber"), "mutate", times=-1, mutate=mutate))
    async with L1Client.open(cfg(rpc_proxy)) as client:
        with pytest.raises(L1DataError, match="bad data"):
            await client.block_info_by_number(l1_chain.log_block)
        assert len(client.headers) == 0 and len(client.txs) == 0


@pytest.mark.parametrize("trust_rpc", [False, True])
async def test_a_header_that_is_not_an_object_is_reported_trusted_or_not(l1_chain, rpc_proxy, trust_rpc):
    def mutate(doc):
        doc["result"] = ["0x01"]
        return doc

    rpc_proxy.add(Fault(calls("eth_getBlockByNumber"), "mutate", times=-1, mutate=mutate))
    async with L1Client.open(cfg(rpc_proxy, trust_rpc=trust_rpc)) as client:
        with pytest.raises(L1DataError, match="bad header"):
            await client.block_ref_by_label("latest")
