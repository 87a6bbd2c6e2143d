"""The supernode's verification round and its write-ahead log, without processes: chains are in-memory fakes that
serve recorded blocks and ``eth_getBlockReceipts`` answers.

Receipts: the real CrossL2Inbox ``ExecutingMessage`` log of op-supervisor's TestDecodeExecutingMessageLog
(spec-vectors/interop/messages.json, provenance there): chain 900200's block 4509 at 1730467171, log 0 of origin
0x5fbdb2…0aa3. The executing block is on chain 900201 one block (2 s) later.
"""

from __future__ import annotations

import trio

from derivation.interop.dependency_set import from_chain_ids
from derivation.interop.messages import payload_hash_to_log_hash
from derivation.protocol.hexutil import from_hex, to_hex
from derivation.protocol.types import BlockID, L2BlockRef
from opnode.supernode.decisions import Decision, FrontierBlock, Kind
from opnode.supernode.store import InteropStore
from opnode.supernode.verifier import Verifier
from tests.interop.support import rollup_config
from tests.vectors import load

VEC = load("interop/messages.json")["executing_message_log"]
INIT_CHAIN, EXEC_CHAIN = 900200, 900201
INIT_TS, INIT_NUMBER = VEC["expected"]["timestamp"], VEC["expected"]["blockNumber"]
ORIGIN, MSG_HASH = from_hex(VEC["expected"]["origin"], 20), from_hex(VEC["expected"]["payloadHash"], 32)
L1 = BlockID(b"\x0a" * 32, 100)


def _h(chain: int, n: int, salt: int = 0) -> bytes:
    return chain.to_bytes(4, "big") + n.to_bytes(4, "big") + salt.to_bytes(1, "big") + bytes(23)


class FakeChain:
    """A chain whose block ``n`` has time ``genesis_time + 2n``; ``logs[n]`` are its receipts' logs (JSON)."""

    def __init__(self, chain_id: int, genesis_time: int, local_safe: int):
        self.chain_id = chain_id
        self.cfg = rollup_config(chain_id, lagoon_time=0, genesis_time=genesis_time)
        self.logs: dict[int, list[dict]] = {}
        self.salt: dict[int, int] = {}
        self.local = local_safe
        self.cross_safe: BlockID | None = None
        self.invalidated: list[FrontierBlock] = []
        self.rewound: list[BlockID | None] = []

    def ref(self, n: int) -> L2BlockRef:
        return L2BlockRef(_h(self.chain_id, n, self.salt.get(n, 0)), n, _h(self.chain_id, n - 1, self.salt.get(n - 1, 0)),
                          self.cfg.genesis.l2_time + 2 * n, BlockID(bytes(32), 0), 0)

    def local_safe(self) -> L2BlockRef:
        return self.ref(self.local)

    async def block(self, n: int):
        r = self.ref(n)
        return {"hash": to_hex(r.hash), "parentHash": to_hex(r.parent_hash), "timestamp": hex(r.time)}

    async def receipts(self, block_hash: bytes):
        n = int.from_bytes(block_hash[4:8], "big")
        return [{"logs": self.logs.get(n, [])}]

    def l1_inclusion(self, n: int):
        return L1

    async def set_cross_safe(self, head: BlockID) -> None:
        if head.number <= self.local and (self.cross_safe is None or head.number > self.cross_safe.number):
            self.cross_safe = head

    async def invalidate(self, block: FrontierBlock) -> None:
        if self.ref(block.number).hash == block.hash:  # still has it: replaced (a new hash at that height)
            self.invalidated.append(block)
            self.salt[block.number] = self.salt.get(block.number, 0) + 1

    async def rewind(self, head):
        self.rewound.append(head)
        self.cross_safe = head

    def safe_head_at_l1(self, l1_number):
        return self.local_safe().id if l1_number >= L1.number else None

    async def finalize(self, head):
        self.finalized = head


def _setup(tmp_path, exec_log: dict, init_logs: list[dict] | None = None, init_local: int = INIT_NUMBER + 5):
    init_genesis = INIT_TS - 2 * INIT_NUMBER
    a = FakeChain(INIT_CHAIN, init_genesis, init_local)
    b = FakeChain(EXEC_CHAIN, init_genesis, INIT_NUMBER + 5)
    a.logs[INIT_NUMBER] = init_logs if init_logs is not None else [
        {"address": to_hex(ORIGIN), "topics": [], "data": "0x", "logIndex": "0x0"}]
    b.logs[INIT_NUMBER + 1] = [exec_log]
    store = InteropStore(tmp_path / "interop.sqlite")
    ds = from_chain_ids([INIT_CHAIN, EXEC_CHAIN])
    v = Verifier({INIT_CHAIN: a, EXEC_CHAIN: b}, store, ds, {c.chain_id: c.cfg for c in (a, b)}, INIT_TS,
                 lambda block: _true())
    return v, a, b, store


async def _true():
    return True


def _exec_log(**changes) -> dict:
    lg = dict(VEC["log"])
    lg.update(changes)
    return lg


def _run(fn):
    return trio.run(fn)


def test_initiating_log_with_a_stored_payload_hash_advances(tmp_path):
    """The initiating log's hash is keccak(origin ‖ payload hash) (what a real emitter's log hashes to): the
    executing block one block later is valid, both chains become cross-safe together."""
    v, a, b, store = _setup(tmp_path, _exec_log())
    # the initiating chain's real log: origin + whatever payload hashes to MSG_HASH; the view keeps only log hashes
    store.commit_advance(Decision(Kind.ADVANCE, INIT_TS - 2, (
        FrontierBlock(INIT_CHAIN, INIT_NUMBER - 1, a.ref(INIT_NUMBER - 1).hash, a.ref(INIT_NUMBER - 2).hash,
                      INIT_TS - 2, (), L1),
        FrontierBlock(EXEC_CHAIN, INIT_NUMBER - 1, b.ref(INIT_NUMBER - 1).hash, b.ref(INIT_NUMBER - 2).hash,
                      INIT_TS - 2, (), L1))))

    async def main():
        d1 = await v.observe_and_decide(v.next_timestamp())
        assert d1.timestamp == INIT_TS and d1.kind is Kind.ADVANCE  # no messages at INIT_TS
        # put the initiating block into the store as the round would, with the real log hash
        blk = next(b_ for b_ in d1.blocks if b_.chain_id == INIT_CHAIN)
        d1 = Decision(Kind.ADVANCE, d1.timestamp, tuple(
            FrontierBlock(x.chain_id, x.number, x.hash, x.parent_hash, x.timestamp,
                          (payload_hash_to_log_hash(MSG_HASH, ORIGIN),) if x is blk else x.log_hashes, x.l1_inclusion)
            for x in d1.blocks))
        store.write_ahead(d1)
        await v.apply(d1)
        d2 = await v.step()
        return d2

    d2 = _run(main)
    assert d2.kind is Kind.ADVANCE and d2.timestamp == INIT_TS + 2, d2
    assert store.last_verified().timestamp == INIT_TS + 2
    assert a.cross_safe.number == INIT_NUMBER + 1 and b.cross_safe.number == INIT_NUMBER + 1


def test_wrong_log_index_invalidates_the_executing_block(tmp_path):
    """Go's SendInvalidExecMessage: the identifier's log index + 1 → no such log → the block is denylisted and its
    chain told to replace it; the verified timestamp does not move, the next round sees the replacement."""
    data = bytearray(from_hex(VEC["log"]["data"]))
    data[95] = 1  # logIndex word: 0 → 1
    v, a, b, store = _setup(tmp_path, _exec_log(data=to_hex(bytes(data))))

    async def main():
        first = await v.step()  # INIT_TS: nothing to check yet
        assert first.kind is Kind.ADVANCE, first
        return await v.step()

    d = _run(main)
    assert d.kind is Kind.INVALIDATE and "has 1 logs, message says index 1" in d.reason, d.reason
    assert [x.chain_id for x in d.blocks] == [EXEC_CHAIN]
    assert store.denied(EXEC_CHAIN, INIT_NUMBER + 1, d.blocks[0].hash)
    assert len(b.invalidated) == 1 and store.pending() is None
    assert store.last_verified().timestamp == INIT_TS
    # the replacement (no executing message any more) verifies on the next round
    b.logs[INIT_NUMBER + 1] = []
    d2 = _run(v.step)
    assert d2.kind is Kind.ADVANCE and d2.timestamp == INIT_TS + 2
    assert dict((x.chain_id, x.hash) for x in d2.blocks)[EXEC_CHAIN] != d.blocks[0].hash


def test_unknown_initiating_block_waits_and_a_chain_outside_the_set_invalidates(tmp_path):
    v, a, b, store = _setup(tmp_path, _exec_log(), init_local=INIT_NUMBER - 1)
    d = _run(v.step)
    assert d.kind is Kind.WAIT and "not local-safe" in d.reason and store.pending() is None
    data = bytearray(from_hex(VEC["log"]["data"]))
    data[156:160] = (903).to_bytes(4, "big")  # the identifier's chain id: 900200 → 903, outside the set
    (tmp_path / "x").mkdir()
    v2, _, _, _ = _setup(tmp_path / "x", _exec_log(data=to_hex(bytes(data))))

    async def two():
        await v2.step()
        return await v2.step()

    d2 = _run(two)
    assert d2.kind is Kind.INVALIDATE and "not in the dependency set" in d2.reason


def test_decision_written_then_death_then_resume_applies_it_once(tmp_path):
    """kill -9 between the WAL write and the apply: a new process on the same store applies the pending decision;
    applying again (a second crash before the WAL was cleared) changes nothing."""
    v, a, b, store = _setup(tmp_path, _exec_log())

    async def decide_only():
        return await v.observe_and_decide(v.next_timestamp())

    d = _run(decide_only)
    assert d.kind is Kind.ADVANCE
    store.write_ahead(d)
    store.close()  # the process dies here

    v2, a2, b2, store2 = _setup(tmp_path, _exec_log())
    assert store2.pending() == d
    _run(v2.resume)
    assert store2.pending() is None and store2.last_verified().timestamp == d.timestamp
    assert a2.cross_safe == next(x.id for x in d.blocks if x.chain_id == INIT_CHAIN)
    _run(v2.resume)  # nothing pending: nothing happens
    assert store2.last_verified().timestamp == d.timestamp and store2.pending() is None

    inv = Decision(Kind.INVALIDATE, d.timestamp + 2, (FrontierBlock(
        EXEC_CHAIN, INIT_NUMBER + 1, b2.ref(INIT_NUMBER + 1).hash, b2.ref(INIT_NUMBER).hash, d.timestamp + 2, (), L1),),
        "test")
    store2.write_ahead(inv)
    store2.add_denied(inv)  # the first apply step ran, then the process died
    store2.close()
    v3, a3, b3, store3 = _setup(tmp_path, _exec_log())
    _run(v3.resume)
    assert len(b3.invalidated) == 1 and store3.pending() is None
    _run(lambda: v3.apply(inv))  # applied again: the chain no longer has the block, nothing more is replaced
    assert len(b3.invalidated) == 1
    assert [r[:3] for r in store3.denylist()] == [(EXEC_CHAIN, INIT_NUMBER + 1, inv.blocks[0].hash)]


def test_l1_reorg_of_a_verified_inclusion_rewinds(tmp_path):
    """Rounds at INIT_TS (L1 block 100) and INIT_TS + 2, INIT_TS + 4 (L1 block 101); block 101 is reorged out: one
    rewind to INIT_TS + 2, the first result that needs it, with the logs above the remaining heads and the
    denylist entries decided from then on forgotten."""
    v, a, b, store = _setup(tmp_path, _exec_log(), init_logs=[])
    b.logs.clear()
    l1b = BlockID(b"\x0b" * 32, 101)
    _run(v.step)
    a.l1_inclusion = b.l1_inclusion = lambda n: l1b

    async def advance_twice():
        await v.step()
        await v.step()

    _run(advance_twice)
    assert store.last_verified().timestamp == INIT_TS + 4 and store.last_verified().l1_inclusion == l1b
    store.add_denied(Decision(Kind.INVALIDATE, INIT_TS + 2, (FrontierBlock(EXEC_CHAIN, 1, b"\x01" * 32, bytes(32), 0,
                                                                           (), L1),)))

    async def l1_canonical(block):
        return block != l1b

    v.l1_canonical = l1_canonical
    d = _run(v.step)
    assert d.kind is Kind.REWIND and d.timestamp == INIT_TS + 2
    last = store.last_verified()
    assert last.timestamp == INIT_TS and b.rewound[-1] == last.heads[EXEC_CHAIN] and len(b.rewound) == 1
    assert store.denylist() == [] and store.block(INIT_CHAIN, INIT_NUMBER + 1) is None
    assert store.block(INIT_CHAIN, INIT_NUMBER) is not None
    assert store.pending() is None


def test_rounds_step_over_distinct_frontiers(tmp_path):
    """Chains of 2 s and 3 s blocks: rounds at every time one of them has a new block, not every second."""
    v, a, b, store = _setup(tmp_path, _exec_log(), init_logs=[])
    b.logs.clear()
    b.cfg = rollup_config(EXEC_CHAIN, lagoon_time=0, genesis_time=a.cfg.genesis.l2_time, block_time=3)
    v.configs[EXEC_CHAIN] = b.cfg
    g = a.cfg.genesis.l2_time
    store.commit_advance(Decision(Kind.ADVANCE, g + 6, (
        FrontierBlock(INIT_CHAIN, 3, a.ref(3).hash, a.ref(2).hash, g + 6, (), L1),
        FrontierBlock(EXEC_CHAIN, 2, bytes(32), bytes(32), g + 6, (), L1))))
    seen = []
    for _ in range(4):
        seen.append(v.next_timestamp() - g)
        store.commit_advance(Decision(Kind.ADVANCE, v.next_timestamp(), (
            FrontierBlock(INIT_CHAIN, 0, bytes(32), bytes(32), 0, (), L1),)))
    assert seen == [8, 9, 10, 12]


def test_finality_is_the_verified_head_whose_l1_inclusion_is_finalized(tmp_path):
    v, a, b, store = _setup(tmp_path, _exec_log(), init_logs=[])
    b.logs.clear()
    a.finalized = b.finalized = None
    d = _run(v.step)
    assert d.kind is Kind.ADVANCE and d.l1_inclusion == L1
    v.l1_finalized = lambda: BlockID(b"\x0b" * 32, L1.number - 1)
    _run(v.sync_finality)
    assert a.finalized is None and b.finalized is None  # the verified blocks' L1 is not final yet
    v.l1_finalized = lambda: BlockID(b"\x0b" * 32, L1.number)
    _run(v.sync_finality)
    assert a.finalized == next(x.id for x in d.blocks if x.chain_id == INIT_CHAIN)
    assert b.finalized == next(x.id for x in d.blocks if x.chain_id == EXEC_CHAIN)
