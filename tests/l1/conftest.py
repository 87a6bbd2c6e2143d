"""A real L1 for the client tests: one anvil per test session with batcher-like traffic, a beacon shim and a fault
proxy per test (both are cheap trio servers inside the test's own run)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from derivation.protocol.hexutil import parse_quantity
from opnode.tools.anvil import DEV_KEYS, Anvil
from opnode.tools.beacon_shim import BeaconShim
from opnode.tools.l1_traffic import L1Traffic
from tests.l1.proxy import FaultProxy

# Runtime code: emit LOG1(topic=CALLER, data=memory[0:32]) twice, then stop; and the init code that deploys it.
EMITTER_RUNTIME = bytes.fromhex("33602060" "00a1" "33602060" "00a1" "00")
EMITTER_INIT = bytes.fromhex(f"60{len(EMITTER_RUNTIME):02x}80600b6000396000f3") + EMITTER_RUNTIME


@dataclass
class L1Chain:
    anvil: Anvil
    blob_block: int = 0
    blobs: list[tuple[int, bytes, bytes]] = field(default_factory=list)  # (index in block, versioned hash, data)
    log_block: int = 0
    head: int = 0


@pytest.fixture(scope="session")
def l1_chain():
    with Anvil() as anvil:
        batcher = L1Traffic(anvil)
        other = L1Traffic(anvil, key=DEV_KEYS[2], inbox=bytes.fromhex("00" * 19 + "aa"))
        chain = L1Chain(anvil)
        batcher.send_calldata(batcher.random_frame(300))
        receipt = batcher.receipt(batcher.send_tx(None, EMITTER_INIT, 100_000))
        emitter = bytes.fromhex(receipt["contractAddress"][2:])
        batcher.mine(2)

        batcher.set_automine(False)
        _, other_hashes = other.send_blobs([b"not for the rollup"])
        datas = [b"first blob of the batcher", bytes(range(256)) * 300]
        _, hashes = batcher.send_blobs(datas)
        batcher.send_calldata(batcher.random_frame(1000))
        batcher.mine(1)
        chain.blob_block = parse_quantity(anvil.rpc("eth_blockNumber"))
        block = anvil.rpc("eth_getBlockByNumber", hex(chain.blob_block), True)
        index = 0
        wanted = dict(zip(hashes, datas, strict=True))
        for tx in block["transactions"]:
            for vh in tx.get("blobVersionedHashes") or []:
                h = bytes.fromhex(vh[2:])
                if h in wanted:
                    chain.blobs.append((index, h, wanted[h]))
                index += 1
        assert len(chain.blobs) == 2 and index == 3, "traffic did not land in one block"

        batcher.send_tx(emitter, b"\x01" * 32, 100_000)
        other.send_tx(emitter, b"\x02" * 32, 100_000)
        batcher.mine(1)
        chain.log_block = parse_quantity(anvil.rpc("eth_blockNumber"))
        batcher.set_automine(True)
        batcher.mine(5)
        chain.head = parse_quantity(anvil.rpc("eth_blockNumber"))
        yield chain


@pytest.fixture
async def shim(l1_chain, nursery):
    s = BeaconShim(l1_chain.anvil.url)
    await nursery.start(s.serve)
    return s


@pytest.fixture
async def rpc_proxy(l1_chain, nursery):
    p = FaultProxy(l1_chain.anvil.url)
    await nursery.start(p.serve)
    return p
