"""Replay across the Karst activation (the shipped recordings across-karst-strip/-keep, made by
tests/replay/make_recordings.py): the activation block holds exactly the L1-info deposit, the origin's user deposit
and the 31 NUT deposits of the locked bundle, and the gas limits before, at and after it are the SystemConfig's,
the SystemConfig's + 55,370,657, and the SystemConfig's again (keep_karst_upgrade_gas false) or still + 55,370,657
(true) (op-node PreparePayloadAttributes / PayloadToSystemConfig; spec-vectors/nut_bundles.json)."""

from __future__ import annotations

import pytest

from derivation.protocol.deposits import user_deposit_source_hash
from derivation.protocol.l1_info import decode_l1_info
from derivation.protocol.nut_bundle import nut_bundle
from derivation.protocol.rollup_config import Fork
from derivation.protocol.transactions import decode as decode_tx
from opnode.tools.replay import format as fmt
from opnode.tools.replay.replayer import replay
from tests.replay.helpers import VECTORS
from tests.vectors import load

KARST_GAS = load("nut_bundles.json")["karst"]["upgrade_gas"]


@pytest.mark.parametrize("name, keep", [("across-karst-strip.jsonl.gz", False), ("across-karst-keep.jsonl.gz", True)])
def test_replay_across_karst(name, keep):
    result = replay(fmt.read(VECTORS / name))
    assert result.verdict == "match", result.message
    cfg = result.store.cfg
    assert cfg.keep_karst_upgrade_gas is keep
    attrs = [d.attributes.attributes for d in result.derived]
    (i,) = [k for k, a in enumerate(attrs) if cfg.is_activation_block(Fork.KARST, a.timestamp)]
    assert 0 < i < len(attrs) - 1  # the range covers blocks before and after the activation block
    act = attrs[i]
    txs = [decode_tx(t) for t in act.transactions]
    assert len(txs) == 1 + 1 + 31 and all(t.type == 0x7E for t in txs)
    assert txs[0].is_system_tx is False and txs[0].to == bytes.fromhex("4200000000000000000000000000000000000015")
    origin = decode_l1_info(txs[0].data)
    assert origin.sequence_number == 0  # the activation block starts its epoch ...
    assert txs[1].source_hash == user_deposit_source_hash(origin.block_hash, 0) and txs[1].mint > 0  # ... its deposit
    assert [t.raw for t in txs[2:]] == [d.raw for d in nut_bundle(Fork.KARST).deposits()]  # ... then the NUTs
    base = attrs[0].gas_limit
    gas = [a.gas_limit for a in attrs]
    assert gas[:i] == [base] * i and gas[i] == base + KARST_GAS
    assert gas[i + 1:] == [base + KARST_GAS if keep else base] * (len(gas) - i - 1)
    # The derived blocks' batch transactions are all outside the activation block.
    assert all(any(t[0] != 0x7E for t in a.transactions) for a in attrs[i + 1:])
