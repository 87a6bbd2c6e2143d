"""Embedded engine throughput: L2 blocks/s and txs/s for blocks of ETH transfers and of contract calls, building
(the sequencer's FCU → getPayload path) and importing (newPayload re-execution on a second chain), next to bare
py-evm (its own Prague chain building a block from the same signed transactions) in the same run, as ratios.

Each engine block also carries its L1-info deposit and pays the OP fees (L1 data fee with FastLZ, vaults), which
bare py-evm does not do; the ratio shows what the OP rules and the engine's own block assembly cost on top.
"""

from __future__ import annotations

import copy
import time

from eth.chains.base import MiningChain
from eth.db.atomic import AtomicDB
from eth.vm.forks.prague import PragueVM

from bench.timing import header
from derivation.protocol.crypto import address_from_private_key, keccak256, sign_hash
from derivation.protocol.deposits import l1_info_source_hash
from derivation.protocol.l1_info import L1InfoData
from derivation.protocol.predeploys import L1_BLOCK, L1_INFO_DEPOSITOR
from derivation.protocol.predeploys import SEQUENCER_FEE_VAULT as SEQ_VAULT
from derivation.protocol.transactions import DYNAMIC_FEE, Transaction, deposit
from engine.execution.chain import Chain
from engine.execution.evm.block import BlockAttributes
from engine.execution.genesis import Account
from engine.execution.op_genesis import dev_genesis
from engine.execution.payload import envelope_of

T0 = 1_700_000_000
COUNTER = bytes.fromhex("33546001013355" + "00")  # storage[caller] += 1
COUNTER_ADDR = bytes.fromhex("00000000000000000000000000000000000c0de3")


def _tx(key: bytes, nonce: int, to: bytes, value: int, gas: int) -> Transaction:
    tx = Transaction(DYNAMIC_FEE, chain_id=901, nonce=nonce, max_priority_fee_per_gas=10**6, max_fee_per_gas=10**10,
                     gas=gas, to=to, value=value, data=b"")
    tx.v, tx.r, tx.s = sign_hash(key, tx.signing_hash())
    tx.encode()
    return tx


def _l1_info(n: int) -> Transaction:
    h = keccak256(b"bench l1 %d" % n)
    info = L1InfoData("jovian", number=n, time=T0 + n, base_fee=10**9, block_hash=h, sequence_number=0,
                      batcher_addr=bytes(20), base_fee_scalar=1368, blob_base_fee_scalar=810_949, blob_base_fee=1,
                      operator_fee_scalar=0, operator_fee_constant=0, da_footprint_gas_scalar=400)
    return deposit(l1_info_source_hash(h, 0), L1_INFO_DEPOSITOR, L1_BLOCK, 0, 0, 1_000_000, False, info.encode())


def _workload(kind: str, keys: list[bytes], blocks: int, per_block: int) -> list[list[Transaction]]:
    nonces = [0] * len(keys)
    out = []
    for _ in range(blocks):
        txs = []
        for i in range(per_block):
            k = i % len(keys)
            if kind == "transfers":
                txs.append(_tx(keys[k], nonces[k], keccak256(b"to%d" % i)[:20], 1, 21_000))
            else:
                txs.append(_tx(keys[k], nonces[k], COUNTER_ADDR, 0, 60_000))
            nonces[k] += 1
        out.append(txs)
    return out


def _bare(keys: list[bytes], blocks: list[list[Transaction]]) -> float:
    klass = MiningChain.configure(__name__="BarePyEVM", vm_configuration=((0, PragueVM),), chain_id=901)
    state = {address_from_private_key(k): {"balance": 10**24, "nonce": 0, "code": b"", "storage": {}} for k in keys}
    state[COUNTER_ADDR] = {"balance": 0, "nonce": 0, "code": COUNTER, "storage": {}}
    chain = klass.from_genesis(AtomicDB(), {"coinbase": bytes(20), "difficulty": 0, "gas_limit": 60_000_000,
                                            "timestamp": T0, "extra_data": b"", "nonce": bytes(8),
                                            "mix_hash": bytes(32)}, state)
    t = time.perf_counter()
    for n, txs in enumerate(blocks):
        builder = chain.get_vm().get_transaction_builder()
        chain.mine_all([builder.decode(tx.raw) for tx in txs], timestamp=T0 + 2 * (n + 1))
    return time.perf_counter() - t


def _genesis():
    g = copy.deepcopy(dev_genesis(T0))
    g.alloc[COUNTER_ADDR] = Account(code=COUNTER)
    return g


def _engine(g, blocks: list[list[Transaction]]) -> tuple[float, float]:
    chain = Chain(g)
    replica = Chain(g)
    built = []
    t = time.perf_counter()
    for n, txs in enumerate(blocks):
        head = chain.head
        attrs = BlockAttributes(head.timestamp + 2, keccak256(head.hash), SEQ_VAULT, 60_000_000, keccak256(b"b"),
                                bytes(8), 0)
        sealed = chain.build(head.hash, attrs, [_l1_info(n + 1), *txs])
        assert all(r.receipt.status == 1 for r in sealed.results)
        chain.set_forkchoice(sealed.hash)
        built.append(sealed)
    build_s = time.perf_counter() - t
    t = time.perf_counter()
    for s in built:
        replica.import_payload(envelope_of(g.spec, s.header, [tx.raw for tx in s.transactions], True))
        replica.set_forkchoice(s.hash)
    return build_s, time.perf_counter() - t


def engine_throughput(blocks: int = 4, per_block: int = 200) -> dict:
    """Figures for both workloads: engine build/import and bare py-evm seconds, blocks/s, txs/s and ratios."""
    g = _genesis()
    keys = g.dev_keys
    out = {}
    for kind in ("transfers", "contract calls"):
        work = _workload(kind, keys, blocks, per_block)
        bare = _bare(keys, work)
        build, imp = _engine(g, work)
        n = blocks * per_block
        out[kind] = {"blocks": blocks, "txs": n, "bare_s": bare, "build_s": build, "import_s": imp,
                     "bare_txs_per_s": n / bare, "build_txs_per_s": n / build, "import_txs_per_s": n / imp,
                     "build_blocks_per_s": blocks / build, "import_blocks_per_s": blocks / imp,
                     "build_vs_bare": bare / build, "import_vs_bare": bare / imp}
    return out


def run() -> None:
    header("engine: embedded py-evm OP engine vs bare py-evm (same signed transactions, same run)")
    res = engine_throughput()
    for kind, r in res.items():
        print(f"{kind:15s} {r['blocks']} blocks x {r['txs'] // r['blocks']} txs | "
              f"bare py-evm {r['bare_txs_per_s']:7.0f} tx/s | "
              f"engine build {r['build_txs_per_s']:7.0f} tx/s {r['build_blocks_per_s']:5.2f} blk/s "
              f"(x{r['build_vs_bare']:.2f} of bare) | "
              f"import {r['import_txs_per_s']:7.0f} tx/s {r['import_blocks_per_s']:5.2f} blk/s "
              f"(x{r['import_vs_bare']:.2f} of bare)")
