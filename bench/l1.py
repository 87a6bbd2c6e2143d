"""L1 frugality: HTTP requests and bytes per L1 block while reading a range of anvil blocks with batcher traffic
(headers, transactions and receipts of every block, blobs where present), for the node's L1 and beacon clients and,
in the same run, for a naive client that makes one call per item. Target: at most 1 HTTP request per L1 block,
amortized, and no block fetched twice.

anvil commits ``transactionsRoot`` to blob transactions in their network form, so verifying a block with blobs
costs the node one extra batched call on anvil (``eth_getRawTransactionByHash``) that a real L1 does not need; the
figures show it separately.
"""

from __future__ import annotations

import random
import time

import trio

from bench.timing import header
from derivation.protocol.hexutil import from_hex, parse_quantity
from derivation.protocol.transactions import BLOB
from derivation.protocol.types import L1BlockRef
from opnode.jsonrpc.client import RpcClient
from opnode.node.l1.beacon import BeaconClient, IndexedBlobHash
from opnode.node.l1.client import L1Client
from opnode.node.l1.config import BeaconConfig, L1Config
from opnode.tools.anvil import Anvil
from opnode.tools.beacon_shim import BeaconShim


def make_chain(anvil: Anvil, blocks: int, seed: int = 7) -> dict:
    """``blocks`` L1 blocks: a calldata batcher tx every 4th block, a blob tx (1-2 blobs) every 10th."""
    from opnode.tools.l1_traffic import L1Traffic

    rng = random.Random(seed)
    traffic = L1Traffic(anvil)
    calldata = blob_txs = 0
    while (n := parse_quantity(anvil.rpc("eth_blockNumber")) + 1) < blocks:
        # anvil's automine answers before the block exists: wait for each receipt, so the next block is n + 1
        if n % 10 == 0:
            tx, _ = traffic.send_blobs([rng.randbytes(rng.randrange(1000, 120_000)) for _ in range(rng.randrange(1, 3))])
            traffic.receipt(tx)
            blob_txs += 1
        elif n % 4 == 0:
            traffic.receipt(traffic.send_calldata(traffic.random_frame(rng.randrange(200, 20_000), rng.randbytes)))
            calldata += 1
        else:
            traffic.mine(1)
    return {"calldata_txs": calldata, "blob_txs": blob_txs}


async def read_with_node_client(anvil_url: str, beacon_url: str, last: int) -> dict:
    l1 = L1Config(rpc_url=anvil_url, anvil_tx_root=True)
    async with L1Client.open(l1) as client, BeaconClient(BeaconConfig(url=beacon_url)) as beacon:
        await client.block_ref_by_label("latest")
        blobs = 0
        for n in range(last + 1):
            ref = await client.block_ref_by_number(n)
            info, txs = await client.info_and_txs_by_hash(ref.hash)
            await client.receipts_by_hash(ref.hash)
            wanted, index = [], 0
            for tx in txs:
                for h in tx.blob_versioned_hashes:
                    wanted.append(IndexedBlobHash(index, h))
                    index += 1
            if wanted:
                blobs += len(await beacon.get_blobs(info.ref, wanted))
        return {"rpc": client.rpc.stats, "beacon": beacon.stats, "blobs": blobs}


async def read_naively(anvil_url: str, beacon_url: str, last: int) -> dict:
    """One JSON-RPC call per header, per block body and per receipt; one beacon request per blob."""
    async with RpcClient(anvil_url, max_batch_size=1) as rpc, BeaconClient(BeaconConfig(url=beacon_url)) as beacon:
        blobs = 0
        for n in range(last + 1):
            head = await rpc.call("eth_getBlockByNumber", hex(n), False)
            block = await rpc.call("eth_getBlockByHash", head["hash"], True)
            for tx in block["transactions"]:
                await rpc.call("eth_getTransactionReceipt", tx["hash"])
            index = 0
            for tx in block["transactions"]:
                for h in tx.get("blobVersionedHashes") or []:
                    if parse_quantity(tx["type"]) == BLOB:
                        ref = L1BlockRef(from_hex(head["hash"]), n, from_hex(head["parentHash"]),
                                         parse_quantity(head["timestamp"]))
                        await beacon.get_blobs(ref, [IndexedBlobHash(index, from_hex(h))])
                        blobs += 1
                    index += 1
        return {"rpc": rpc.stats, "beacon": beacon.stats, "blobs": blobs}


def _line(name: str, res: dict, blocks: int) -> dict:
    rpc, beacon = res["rpc"], res["beacon"]
    requests = rpc.http_requests + beacon.http_requests
    nbytes = rpc.bytes_received + rpc.bytes_sent + beacon.bytes_received
    per_block = requests / blocks
    print(f"{name:>13}: {requests:6d} HTTP requests ({rpc.http_requests} JSON-RPC, {beacon.http_requests} beacon) "
          f"= {per_block:.3f}/block; {nbytes / blocks / 1024:8.1f} KiB/block; JSON-RPC calls {rpc.total_calls}: "
          + ", ".join(f"{m} {c}" for m, c in sorted(rpc.calls.items())))
    return {"requests": requests, "per_block": per_block, "bytes": nbytes, "calls": dict(rpc.calls)}


async def _measure(anvil: Anvil, blocks: int) -> tuple[dict, dict]:
    async with trio.open_nursery() as nursery:
        shim = BeaconShim(anvil.url)
        beacon_url = await nursery.start(shim.serve)
        node = await read_with_node_client(anvil.url, beacon_url, blocks - 1)
        naive = await read_naively(anvil.url, beacon_url, blocks - 1)
        nursery.cancel_scope.cancel()
    return node, naive


def run(blocks: int = 500) -> dict:
    header(f"L1 frugality: reading {blocks} anvil blocks with batcher traffic")
    with Anvil() as anvil:
        t = time.perf_counter()
        traffic = make_chain(anvil, blocks)
        print(f"chain: {blocks} blocks, {traffic['calldata_txs']} calldata and {traffic['blob_txs']} blob batcher txs "
              f"(made in {time.perf_counter() - t:.1f} s)")
        t = time.perf_counter()
        node, naive = trio.run(_measure, anvil, blocks)
        print(f"read twice in {time.perf_counter() - t:.1f} s")
    a = _line("node client", node, blocks)
    b = _line("one per item", naive, blocks)
    blocks_fetched = a["calls"].get("eth_getBlockByNumber", 0) - 1  # minus the one "latest"
    extra = a["calls"].get("eth_getRawTransactionByHash", 0)
    extra_bytes = node["rpc"].bytes_by_method["eth_getRawTransactionByHash"]
    print(f"blocks fetched by the node client: {blocks_fetched} for {blocks} blocks (fetched twice: "
          f"{max(0, blocks_fetched - blocks)}); anvil-only blob-root calls: {extra} "
          f"({extra_bytes / blocks / 1024:.1f} KiB/block; without them {(a['bytes'] - extra_bytes) / blocks / 1024:.1f} "
          f"KiB/block, as on a real L1)")
    a["bytes_real_l1"] = a["bytes"] - extra_bytes
    print(f"requests ratio (one-per-item / node): {b['requests'] / a['requests']:.1f}x; bytes ratio: "
          f"{b['bytes'] / a['bytes']:.2f}x ({b['bytes'] / a['bytes_real_l1']:.2f}x without the anvil-only calls); target <= 1 request/block: "
          f"{'met' if a['per_block'] <= 1 else 'NOT met'} ({a['per_block']:.3f})")
    return {"node": a, "naive": b, "blocks": blocks, "blocks_fetched": blocks_fetched, "blob_root_calls": extra}
