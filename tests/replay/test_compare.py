"""Derived attributes against real blocks, field by field, with op-node's consolidation rules per fork."""

from __future__ import annotations

import dataclasses

import pytest

from derivation.protocol.rollup_config import Fork
from opnode.testing.txgen import KEYS, make_tx
from opnode.tools.replay.compare import Outcome, compare
from tests.replay.chains import l2_block, recordable_world


def _block(forks):
    """(cfg, attributes, parent, real block) for a block with a user transaction."""
    w = recordable_world(forks)
    w.l1.mine()
    w.sequence(2)
    s = w.sequence(1, txs=[make_tx(2, w.cfg.l2_chain_id, KEYS[0], 0)])[0]
    parent = w.blocks[-2].ref
    return w.cfg, s.attributes, parent, l2_block(w, w.seq_l2.by_hash[s.ref.hash])


@pytest.mark.parametrize("forks", [{"bedrock": 0}, {"canyon": 0}, {"ecotone": 0}, {"holocene": 0}, {"jovian": 0}],
                         ids=lambda f: next(iter(f)))
def test_the_real_block_matches_its_own_attributes(forks):
    cfg, attrs, parent, block = _block(forks)
    assert compare(cfg, attrs, parent, block).outcome is Outcome.MATCH


def _diffs(cfg, attrs, parent, block) -> dict[str, tuple[str, str]]:
    c = compare(cfg, attrs, parent, block)
    return {d.field: (d.derived, d.recorded) for d in c.diffs}


def test_every_compared_field_is_named():
    cfg, attrs, parent, block = _block({"jovian": 0})
    forged = dataclasses.replace(block, parent_hash=b"\x01" * 32, timestamp=block.timestamp + 2,
                                 prev_randao=b"\x02" * 32, fee_recipient=b"\x03" * 20, gas_limit=1,
                                 parent_beacon_root=b"\x04" * 32, withdrawals=1,
                                 extra_data=b"\x01" + (1).to_bytes(4, "big") + (2).to_bytes(4, "big") + (3).to_bytes(8,
                                                                                                                     "big"))
    d = _diffs(cfg, attrs, parent, forged)
    assert set(d) == {"parent_hash", "timestamp", "prev_randao", "fee_recipient", "gas_limit", "parent_beacon_root",
                      "withdrawals", "eip1559_params", "min_base_fee"}
    assert d["gas_limit"] == (str(attrs.gas_limit), "1")
    assert d["eip1559_params"][1] == "0x0000000100000002" and d["min_base_fee"][1] == "3"
    assert d["withdrawals"] == ("0 withdrawals", "1 withdrawals")


def test_extra_data_by_fork():
    cfg, attrs, parent, block = _block({"holocene": 0})
    assert block.extra_data[:1] == b"\x00" and len(block.extra_data) == 9
    d = _diffs(cfg, attrs, parent, dataclasses.replace(block, extra_data=b""))
    assert set(d) == {"extra_data"}
    cfg, attrs, parent, block = _block({"granite": 0})
    assert compare(cfg, attrs, parent, dataclasses.replace(block, extra_data=b"anything")).outcome is Outcome.MATCH
    cfg, attrs, parent, block = _block({"granite": 0})
    d = _diffs(cfg, attrs, parent, dataclasses.replace(block, parent_beacon_root=None))
    assert d == {"parent_beacon_root": ("0x" + attrs.parent_beacon_block_root.hex(), "null")}


def test_deposit_only_blocks_are_a_replacement_from_holocene_only():
    for forks, outcome in (({"holocene": 0}, Outcome.DEPOSITS_ONLY), ({"granite": 0}, Outcome.MISMATCH)):
        cfg, attrs, parent, block = _block(forks)
        assert not attrs.is_deposits_only
        replaced = dataclasses.replace(block, transactions=attrs.deposits_only().transactions)
        c = compare(cfg, attrs, parent, replaced)
        assert c.outcome is outcome and [d.field for d in c.diffs] == ["transactions"]
        # Deposit-only with another difference is a mismatch, not a replacement.
        c = compare(cfg, attrs, parent, dataclasses.replace(replaced, gas_limit=1))
        assert c.outcome is Outcome.MISMATCH
    assert cfg.is_active(Fork.GRANITE, attrs.timestamp)
