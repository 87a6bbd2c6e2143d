"""The verifier reproduces the sequencer's chain from L1, across every fork activation, with every kind of batch,
compression and data availability, with deposits and upgrade transactions."""

import pytest

from derivation.protocol.compression import BROTLI, ZLIB
from derivation.protocol.rollup_config import Fork
from derivation.protocol.transactions import Transaction
from opnode.testing.harness import World
from opnode.testing.harness.world import GENESIS_TIME
from opnode.testing.txgen import KEYS, make_tx

# L2 time offsets of each activation: 12 L2 blocks (24 s, two L1 blocks) apart.
SCHEDULE = {"regolith": 0, "canyon": 0, "delta": 24, "ecotone": 48, "fjord": 72, "granite": 96, "holocene": 120,
            "isthmus": 144, "jovian": 168}


def _deposit(n: int) -> Transaction:
    return Transaction(0x7E, source_hash=b"", from_=bytes([n]) * 20, to=b"\x42" * 20, mint=10**18, value=n,
                       gas=100_000, data=b"\x01\x02")


@pytest.mark.parametrize("mode", ["singular-zlib-calldata", "span-zlib-calldata", "span-brotli-blobs",
                                  "singular-brotli-blobs"])
def test_all_activations(mode):
    kind, compression, da = mode.split("-")
    w = World(SCHEDULE)
    cfg = w.cfg
    nonce = {k: 0 for k in KEYS}
    posted = 0
    for round_ in range(20):  # 20 rounds of one L1 block and 6 L2 blocks: past every activation
        if round_ % 3 == 1:
            w.deposit(_deposit(round_))
        else:
            w.l1.mine()
        for _ in range(6):
            key = KEYS[round_ % 4]
            ts = w.seq_l2.head.time + cfg.block_time
            txs = [make_tx(2 if cfg.is_active(Fork.ECOTONE, ts) else 0, cfg.l2_chain_id, key, nonce[key])]
            nonce[key] += 1
            w.sequence(1, txs=txs)
        new = w.blocks[posted:]
        l1_time = w.l1.head.time + w.l1.block_time
        use_span = kind == "span" and cfg.is_active(Fork.DELTA, w.l1.block_by_hash(new[0].batch.epoch_hash).time)
        use_brotli = compression == "brotli" and cfg.is_active(Fork.FJORD, l1_time)
        use_blobs = da == "blobs" and cfg.is_active(Fork.ECOTONE, l1_time)
        w.post(new, span=use_span, compression=BROTLI if use_brotli else ZLIB, da="blobs" if use_blobs else "calldata")
        posted = len(w.blocks)
    w.l1.mine()
    r = w.derive()
    assert r.failure is None and not r.drops(), (r.failure, r.drop_reasons())
    w.assert_safe_chain_matches()
    read = {(e.batch_type, e.compression) for e in r.events if type(e).__name__ == "BatchRead"}
    assert (kind, compression) in read
    blob_txs = sum(1 for b in w.l1.canonical for t in b.txs if t.type == 3)
    assert (blob_txs > 0) == (da == "blobs")
    # Every activation block of a fork with upgrade transactions carries them, right after the deposits.
    for fork, count in ((Fork.ECOTONE, 6), (Fork.FJORD, 3), (Fork.ISTHMUS, 8), (Fork.JOVIAN, 5)):
        (act,) = [b for b in w.blocks if cfg.is_activation_block(fork, b.attributes.timestamp)]
        upgrade = [t for t in act.attributes.transactions[1:] if t[0] == 0x7E]
        assert len(upgrade) >= count, fork
    # Activation blocks use the previous fork's L1-info format (ecotone/isthmus/jovian l1-attributes.md).
    from derivation.protocol.l1_info import decode_l1_info
    from derivation.protocol.transactions import decode as decode_tx

    for fork, fmt in ((Fork.ECOTONE, "bedrock"), (Fork.ISTHMUS, "ecotone"), (Fork.JOVIAN, "isthmus")):
        act = next(b for b in w.blocks if cfg.is_activation_block(fork, b.attributes.timestamp))
        nxt = w.blocks[w.blocks.index(act) + 1]
        assert decode_l1_info(decode_tx(act.attributes.transactions[0]).data).format == fmt
        assert decode_l1_info(decode_tx(nxt.attributes.transactions[0]).data).format == fork.label
    jovian = next(b for b in w.blocks if cfg.is_activation_block(Fork.JOVIAN, b.attributes.timestamp))
    assert all(t[0] == 0x7E for t in jovian.attributes.transactions)
    holocene = next(b for b in w.blocks if cfg.is_activation_block(Fork.HOLOCENE, b.attributes.timestamp))
    assert holocene.attributes.eip1559_params == bytes(8)
    assert all(b.attributes.min_base_fee is not None for b in w.blocks
               if cfg.is_active(Fork.JOVIAN, b.attributes.timestamp))
    assert sum(1 for b in w.blocks for t in b.attributes.transactions if t[0] == 0x7E) > len(w.blocks)
    assert w.blocks[-1].attributes.timestamp > GENESIS_TIME + SCHEDULE["jovian"]
