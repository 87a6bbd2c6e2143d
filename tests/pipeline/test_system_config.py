"""SystemConfig updates on L1 take effect in the first L2 block of their epoch (specs derivation.md §Deriving Payload
Attributes, system-config.md), both in the sequencer's and in the verifier's attributes, and batcher rotation applies
to retrieval in the same L1 block (derivation.md §L1 Traversal)."""

import pytest

from derivation.protocol.config_update import UpdateType, config_update_log
from derivation.protocol.l1_info import decode_l1_info
from derivation.protocol.transactions import decode as decode_tx
from opnode.testing.harness import World
from opnode.testing.harness.world import SYSTEM_CONFIG

ALL = {"jovian": 0}


def _u(n: int, size: int = 32) -> bytes:
    return n.to_bytes(size, "big")


CASES = [
    (UpdateType.GAS_LIMIT, _u(45_000_000), lambda a, i: a.gas_limit == 45_000_000),
    (UpdateType.FEE_SCALARS, bytes(32) + bytes.fromhex("01" + "00" * 23 + "00000011" + "00000022"),
     lambda a, i: (i.blob_base_fee_scalar, i.base_fee_scalar) == (0x11, 0x22)),
    (UpdateType.EIP_1559_PARAMS, _u((250 << 32) | 7), lambda a, i: a.eip1559_params == _u(250, 4) + _u(7, 4)),
    (UpdateType.OPERATOR_FEE_PARAMS, _u((1234 << 64) | 5678),
     lambda a, i: (i.operator_fee_scalar, i.operator_fee_constant) == (1234, 5678)),
    (UpdateType.MIN_BASE_FEE, _u(10**9), lambda a, i: a.min_base_fee == 10**9),
    (UpdateType.DA_FOOTPRINT_GAS_SCALAR, _u(777), lambda a, i: i.da_footprint_gas_scalar == 777),
]


@pytest.mark.parametrize("kind, payload, changed", CASES, ids=[c[0].name.lower() for c in CASES])
def test_update_takes_effect_at_the_epoch(kind, payload, changed):
    w = World(ALL)
    w.l1.mine()
    w.sequence(6)
    w.config_update(kind, payload)
    update_block = w.l1.head.number
    w.sequence(12)
    w.post()
    w.l1.mine()
    w.derive()
    w.assert_safe_chain_matches()
    for b in w.blocks:
        info = decode_l1_info(decode_tx(b.attributes.transactions[0]).data)
        assert changed(b.attributes, info) == (info.number >= update_block), (b.ref.number, info.number)
    assert any(decode_l1_info(decode_tx(b.attributes.transactions[0]).data).number >= update_block for b in w.blocks)


def test_a_malformed_update_is_skipped_and_derivation_goes_on():
    """Spec system-config.md: a malformed ConfigUpdate is "not applied and instead skipped"; op-node applies the
    block's other updates and keeps deriving (UpdateSystemConfigWithL1Receipts, errors ignored by its callers)."""
    w = World(ALL)
    w.l1.mine()
    w.sequence(6)
    bad = w.config_update(UpdateType.GAS_LIMIT, _u(1, 33), mine=False)  # 33-byte payload: malformed
    good = config_update_log(UpdateType.GAS_LIMIT, _u(45_000_000), SYSTEM_CONFIG, log_index=1)
    w.l1.mine(logs=[bad, good])
    update_block = w.l1.head.number
    w.sequence(12)
    w.post()
    w.l1.mine()
    r = w.derive()
    assert r.failure is None
    w.assert_safe_chain_matches()
    assert [d.reason.value for d in r.drops("config_update")] == ["malformed_config_update"]
    for b in w.blocks:
        info = decode_l1_info(decode_tx(b.attributes.transactions[0]).data)
        assert (b.attributes.gas_limit == 45_000_000) == (info.number >= update_block)
