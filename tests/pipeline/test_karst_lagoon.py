"""Karst and Lagoon on the derivation side, sequencer to verifier through L1 (in-memory chains): activation blocks
(L1-info, user deposits, the NUT deposits; no batch transactions), their gas limits before, at and after
activation with and without ``keep_karst_upgrade_gas``, Lagoon's wrappers and post-exec (0x7D) transactions in
singular and span batches. Rules and sources: derivation/upgrades.py, nut_bundle.py, span_batch.py,
stages/batch_validity.py; vectors in spec-vectors/nut_bundles.json."""

import dataclasses

import pytest

from derivation.events import DropReason
from derivation.protocol import rlp
from derivation.protocol.compression import ZLIB, compress
from derivation.protocol.config_update import UpdateType
from derivation.protocol.frames import Frame
from derivation.protocol.nut_bundle import LAGOON_PIN, bundle_path, nut_bundle
from derivation.protocol.rollup_config import DependencySet, Fork
from derivation.protocol.span_batch import RawSpanBatch
from derivation.protocol.transactions import Transaction
from derivation.protocol.upgrades import lagoon_wrappers
from opnode.testing.harness import World
from opnode.testing.harness.world import GENESIS_TIME, Verifier
from opnode.testing.txgen import KEYS, make_tx
from tests.vectors import load

NUTS = load("nut_bundles.json")
KARST_GAS = NUTS["karst"]["upgrade_gas"]
BASE_GAS = 30_000_000  # the harness's genesis SystemConfig gas limit
OP_AND_UNICHAIN = DependencySet((10, 130))


def _deposit(n: int) -> Transaction:
    return Transaction(0x7E, source_hash=b"", from_=bytes([n]) * 20, to=b"\x42" * 20, mint=10**18, value=n,
                       gas=100_000, data=b"\x01\x02")


def post_exec_tx(block_number: int) -> bytes:
    """A Lagoon post-exec transaction: ``0x7D ‖ rlp([version 1, blockNumber, [[index, gasRefund]]])``."""
    return b"\x7d" + rlp.encode([1, block_number, [[0, 21_000]]])


def _karst_world(keep: bool, **kw) -> World:
    """Jovian at genesis, Karst at +24 s (L2 block 12), whose L1 origin (time +24) carries a user deposit."""
    w = World({"jovian": 0, "karst": 24}, keep_karst_upgrade_gas=keep, **kw)
    w.l1.mine(n=2)
    w.deposit(_deposit(7))
    return w


def _sequence_with_txs(w: World, n: int) -> None:
    for _ in range(n):
        i = len(w.blocks)
        w.sequence(1, txs=[make_tx(2, w.cfg.l2_chain_id, KEYS[i % 4], i // 4)])


def _activation(w: World, fork: Fork):
    (act,) = [b for b in w.blocks if w.cfg.is_activation_block(fork, b.attributes.timestamp)]
    return act, w.blocks.index(act)


@pytest.mark.parametrize("keep", [False, True], ids=["strip", "keep"])
@pytest.mark.parametrize("span", [False, True], ids=["singular", "span"])
def test_karst_activation_block_and_gas_limits(keep, span):
    w = _karst_world(keep)
    _sequence_with_txs(w, 16)
    w.post(span=span)
    w.l1.mine()
    r = w.derive()
    assert r.failure is None and not r.drops(), (r.failure, r.drop_reasons())
    w.assert_safe_chain_matches()
    act, i = _activation(w, Fork.KARST)
    assert act.attributes.timestamp == GENESIS_TIME + 24
    txs = act.attributes.transactions
    karst = [t.raw for t in nut_bundle(Fork.KARST).deposits()]
    # L1-info deposit, the origin's user deposit, then the 31 NUTs; no batch transactions.
    assert len(txs) == 1 + 1 + 31 and txs[2:] == tuple(karst) and txs[1][0] == 0x7E and act.batch.transactions == ()
    assert txs[1] == _deposit_raw(w, act)
    gas = [b.attributes.gas_limit for b in w.blocks]
    assert gas[:i] == [BASE_GAS] * i
    assert gas[i] == BASE_GAS + KARST_GAS
    assert gas[i + 1:] == [BASE_GAS + KARST_GAS if keep else BASE_GAS] * (len(gas) - i - 1)
    assert all(b.batch.transactions for b in w.blocks[i + 1:])  # user txs again after the activation block


def _deposit_raw(w: World, act) -> bytes:
    from derivation.protocol.deposits import user_deposits

    origin = w.l1.block_by_hash(act.batch.epoch_hash)
    (dep,) = user_deposits(w.l1.receipts(origin.ref), w.cfg.deposit_contract_address, origin.hash)
    return dep.raw


def test_set_gas_limit_after_a_kept_karst_gas_wins():
    """keep_karst_upgrade_gas keeps base + 55,370,657 until the chain owner's next setGasLimit on L1."""
    w = _karst_world(keep=True)
    _sequence_with_txs(w, 16)
    w.config_update(UpdateType.GAS_LIMIT, (40_000_000).to_bytes(32, "big"))
    update_block = w.l1.head.number
    w.sequence(8)
    w.post(span=True)
    w.l1.mine()
    r = w.derive()
    assert r.failure is None and not r.drops()
    w.assert_safe_chain_matches()
    _, i = _activation(w, Fork.KARST)
    after = [(b.batch.epoch_num >= update_block, b.attributes.gas_limit) for b in w.blocks[i + 1:]]
    assert {g for new, g in after if not new} == {BASE_GAS + KARST_GAS}
    assert {g for new, g in after if new} == {40_000_000}


@pytest.mark.parametrize("span", [False, True], ids=["singular", "span"])
def test_batch_transactions_in_the_karst_activation_block_are_dropped(span):
    """op-node checkSingularBatch, also for the blocks of a span (the Holocene stage checks each one)."""
    w = World({"jovian": 0, "karst": 24})
    w.l1.mine(n=3)
    w.sequence(14)
    _, i = _activation(w, Fork.KARST)
    batches = [b.batch for b in w.blocks]
    batches[i] = dataclasses.replace(batches[i], transactions=(make_tx(2, w.cfg.l2_chain_id, KEYS[0], 0),))
    w.post_frames(w.channel_frames(w.blocks, batches=batches, span=span))
    w.l1.mine()
    r = w.derive()
    assert DropReason.NON_EMPTY_ACTIVATION_BLOCK in [d.reason for d in r.drops("batch")]
    assert len(w.verifier.l2.canonical) - 1 == i  # nothing at or after the activation block is derived


# ------------------------------------------------------------------------------------------------ Lagoon


def _lagoon_world(**kw) -> World:
    kw.setdefault("dependency_set", OP_AND_UNICHAIN)
    w = World({"karst": 0, "lagoon": 24}, **kw)
    w.l1.mine(n=3)
    return w


@pytest.mark.parametrize("keep", [False, True], ids=["strip", "keep"])
def test_lagoon_activation_block(keep):
    w = _lagoon_world(keep_karst_upgrade_gas=keep)
    _sequence_with_txs(w, 16)
    w.post(span=True)
    w.l1.mine()
    r = w.derive()
    assert r.failure is None and not r.drops(), (r.failure, r.drop_reasons())
    w.assert_safe_chain_matches()
    act, i = _activation(w, Fork.LAGOON)
    bundle = nut_bundle(Fork.LAGOON)
    pre, post = lagoon_wrappers()
    upgrade = list(act.attributes.transactions[1:])
    assert upgrade == [pre.tx.raw, *(t.raw for t in bundle.deposits()), post.tx.raw] and act.batch.transactions == ()
    gas = [b.attributes.gas_limit for b in w.blocks]
    assert gas[i] == BASE_GAS + bundle.total_gas + 150_000
    assert set(gas[:i]) == set(gas[i + 1:]) == {BASE_GAS}  # Lagoon strips its gas whatever the keep flag says


def test_lagoon_single_chain_set_has_no_wrappers_but_reserves_their_gas():
    w = _lagoon_world(dependency_set=DependencySet((901,)))
    w.sequence(14)
    act, _ = _activation(w, Fork.LAGOON)
    assert act.attributes.transactions[1:] == tuple(t.raw for t in nut_bundle(Fork.LAGOON).deposits())
    assert act.attributes.gas_limit == BASE_GAS + nut_bundle(Fork.LAGOON).total_gas + 150_000


def test_a_lagoon_activation_block_refuses_without_its_bundle(monkeypatch):
    import derivation.protocol.nut_bundle as nb

    w = _lagoon_world()
    w.sequence(13)  # through the activation block (12)
    w.post()
    w.l1.mine()
    monkeypatch.setattr(nb, "_read", lambda pin: None if pin is LAGOON_PIN else nb.bundle_path(pin.file).read_bytes())
    nut_bundle.cache_clear()
    try:
        r = Verifier(w).run()
    finally:
        monkeypatch.undo()
        nut_bundle.cache_clear()
    msg = r.failure.reason
    assert type(r.failure).__name__ == "CriticalFailure" and "\n" not in msg
    assert str(bundle_path(LAGOON_PIN.file)) in msg and LAGOON_PIN.sha256 in msg and "Lagoon" in msg
    assert r.derived[-1].attributes.timestamp == GENESIS_TIME + 22  # every block before it was derived


@pytest.mark.parametrize("span", [False, True], ids=["singular", "span"])
def test_post_exec_transactions_only_from_lagoon(span):
    w = _lagoon_world()
    w.sequence(11)  # blocks 1..11, before Lagoon
    w.sequence(1)  # activation block 12 (no user txs)
    w.sequence(1, txs=[make_tx(2, w.cfg.l2_chain_id, KEYS[0], 0), post_exec_tx(13)])  # block 13: Lagoon active
    w.post(span=span)
    w.l1.mine()
    r = w.derive()
    assert r.failure is None and not r.drops(), r.drop_reasons()
    w.assert_safe_chain_matches()
    assert w.verifier.l2.canonical[-1].transactions[-1] == post_exec_tx(13)
    # The same transaction in a block before Lagoon drops the batch (singular) or the whole span (reader).
    w2 = _lagoon_world()
    w2.sequence(4)
    w2.sequence(1, txs=[post_exec_tx(5)])
    w2.sequence(2)
    w2.post(span=span)
    w2.l1.mine()
    r2 = w2.derive()
    want = DropReason.BATCH_UNDECODABLE if span else DropReason.POST_EXEC_BEFORE_LAGOON
    assert want in [d.reason for d in r2.drops("batch")], r2.drop_reasons()
    assert len(w2.verifier.l2.canonical) - 1 == (0 if span else 4)


def test_span_batch_carries_post_exec_verbatim_and_reads_it_as_op_node_does():
    tx = post_exec_tx(77)
    other = make_tx(2, 901, KEYS[1], 3)
    from derivation.protocol.batches import SingularBatch

    b = SingularBatch(b"\x01" * 32, 5, b"\x02" * 32, 1_000, (other, tx))
    raw = RawSpanBatch.from_singular_batches([b], 0, 0, 901)
    # tx_datas element = 0x7D ‖ the RLP list; contract-creation bit 1; zero signature, nonce and gas slots.
    assert raw.tx_datas[1] == tx and (raw.contract_creation_bits >> 1) & 1 == 1
    assert (raw.tx_sigs[1], raw.tx_nonces[1], raw.tx_gases[1], (raw.y_parity_bits >> 1) & 1) == ((0, 0), 0, 0, 0)
    assert raw.block_tx_counts == [2] and raw.tx_tos == [b"\x42" * 20]
    again = RawSpanBatch.decode(raw.encode()[1:])
    assert again.derive(2, 0, 901).elements[0].transactions == (other, tx)
    # The spec says a decoder MUST reject non-zero slots or a 0 creation bit; op-node ignores them: so does opnode.
    lax = RawSpanBatch.decode(raw.encode()[1:])
    lax.tx_nonces[1], lax.tx_gases[1], lax.tx_sigs[1] = 9, 21_000, (5, 6)
    lax.contract_creation_bits &= ~(1 << 1)
    lax.tx_tos.append(b"\x99" * 20)
    assert RawSpanBatch.decode(lax.encode()[1:]).derive(2, 0, 901).elements[0].transactions == (other, tx)
    bad = RawSpanBatch.decode(raw.encode()[1:])
    bad.tx_datas[1] = b"\x7d\x05"  # not an RLP list
    with pytest.raises(Exception, match="list"):
        RawSpanBatch.decode(bad.encode()[1:])


# ------------------------------------------------------------------------------------------------ Holocene


def _channel(batches: list[bytes], cid: bytes) -> list[Frame]:
    return [Frame(cid, 0, compress(b"".join(rlp.encode_bytes(b) for b in batches), ZLIB), True)]


def test_holocene_span_batch_whose_overlap_disagrees_with_the_safe_chain_is_dropped():
    """Port of op-node TestBatchStage_OverlapContent (PR #22215): a span [3*, 4, 5] on parent 2 whose block 3
    differs from the safe block 3 must not splice 5 onto the canonical chain."""
    w = World({"holocene": 0})
    w.l1.mine()
    _sequence_with_txs(w, 5)
    w.post(w.blocks[:4], span=False)
    w.l1.mine()
    r = w.derive()
    assert len(w.verifier.l2.canonical) - 1 == 4 and not r.drops()
    batches = [b.batch for b in w.blocks[2:5]]
    batches[0] = dataclasses.replace(batches[0], transactions=(make_tx(2, w.cfg.l2_chain_id, KEYS[3], 99),))
    w.post_frames(w.channel_frames(w.blocks[2:5], batches=batches, span=True))
    w.l1.mine()
    r = w.derive()
    assert [d.reason for d in r.drops("batch")] == [DropReason.OVERLAPPED_TX_MISMATCH]
    assert len(w.verifier.l2.canonical) - 1 == 4  # block 5 of the other lineage was not applied
    w.post(w.blocks[2:5], span=True)  # the honest span: overlap agrees, block 5 follows
    w.l1.mine()
    assert len(w.derive().drops("batch")) == 1  # (the result accumulates: only the earlier drop)
    w.assert_safe_chain_matches()


def test_holocene_every_derived_block_concludes_including_deposit_only_ones():
    """op-node PR #12724: after Holocene all attributes are promoted to safe at once, so safe (and finalized) move
    through span batches and through deposit-only periods (the batch stage hands every batch on as concluding)."""
    w = World({"holocene": 0}, seq_window_size=4)
    w.l1.mine()
    _sequence_with_txs(w, 6)
    w.post(span=True)
    w.l1.mine(n=8)  # then the batcher goes silent: the sequencing window expires, deposit-only blocks follow
    r = w.derive()
    assert len(r.derived) > 6 and any(not a.attributes.transactions[1:] for a in r.derived[6:])
    assert all(a.is_last_in_span for a in r.derived)
    pre = World({"granite": 0})
    pre.l1.mine()
    _sequence_with_txs(pre, 6)
    pre.post(span=True)
    pre.l1.mine()
    got = [a.is_last_in_span for a in pre.derive().derived]
    assert got == [False] * 5 + [True]  # before Holocene a span concludes only at its last block


def test_span_origin_bits_below_l1_block_zero_are_a_validity_drop_that_flushes_the_channel():
    """op-node counts L1 origins back in uint64: no decode error, the batch stage drops the span and (Holocene)
    flushes the rest of its channel, so the singular batch behind it in the same channel is not derived."""
    w = World({"holocene": -12})  # Delta already active at the L1 genesis block (the span's parent's origin)
    w.l1.mine()
    blocks = w.sequence(2, origin=1)
    raw = RawSpanBatch.from_singular_batches([b.batch for b in blocks], blocks[0].seq_number, w.cfg.genesis.l2_time,
                                             w.cfg.l2_chain_id)
    raw.l1_origin_num, raw.origin_bits = 0, 0b10  # block 0's origin: 0 - 1
    span = raw.derive(w.cfg.block_time, w.cfg.genesis.l2_time, w.cfg.l2_chain_id)
    assert [e.epoch_num for e in span.elements] == [2**64 - 1, 0]
    w.post_frames(_channel([raw.encode(), blocks[0].batch.encode()], b"\x31" * 16))
    w.l1.mine()
    r = w.derive()
    assert DropReason.BATCH_UNDECODABLE not in [d.reason for d in r.drops()]
    assert [d.reason for d in r.drops("batch")][0] == DropReason.EPOCH_TOO_FAR_IN_FUTURE
    assert DropReason.CHANNEL_FLUSHED in [d.reason for d in r.drops("channel")]
    assert len(w.verifier.l2.canonical) == 1
    w.post(blocks)
    w.l1.mine()
    w.derive()
    w.assert_safe_chain_matches()
