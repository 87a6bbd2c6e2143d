"""Network-upgrade deposits: byte-exact against spec-vectors/upgrade_transactions.json (kona's encoded upgrade txs,
op-node's and the specs' source hashes and gas values)."""

import pytest

from derivation import transactions
from derivation.crypto import keccak256
from derivation.deposits import upgrade_source_hash
from derivation.hexutil import from_hex, to_hex
from derivation.predeploys import BEACON_ROOTS, HISTORY_STORAGE
from derivation.rollup_config import Fork, Genesis, RollupConfig
from derivation.system_config import SystemConfig
from derivation.types import BlockID
from derivation.upgrades import (
    cross_l2_inbox_transactions,
    deployments,
    selector,
    upgrade_transactions,
    upgrade_txs_for_block,
)

from .vectors import load

VEC = load("upgrade_transactions.json")
FORKS = {"ecotone": Fork.ECOTONE, "fjord": Fork.FJORD, "isthmus": Fork.ISTHMUS, "jovian": Fork.JOVIAN}


def rollup_config(block_time=2, genesis_time=1_000, **fork_times) -> RollupConfig:
    """A minimal valid config; ``fork_times`` maps fork labels to times."""
    sc = SystemConfig(batcher_addr=b"\x11" * 20, overhead=bytes(32), scalar=b"\x01" + bytes(31), gas_limit=30_000_000)
    return RollupConfig(
        genesis=Genesis(BlockID(b"\x01" * 32, 1), BlockID(b"\x02" * 32, 0), genesis_time, sc),
        block_time=block_time, max_sequencer_drift=600, seq_window_size=3600, channel_timeout=300,
        l1_chain_id=1, l2_chain_id=10, batch_inbox_address=b"\xff" * 20, deposit_contract_address=b"\xaa" * 20,
        l1_system_config_address=b"\xbb" * 20, fork_times={Fork.parse(k): v for k, v in fork_times.items()})


def _cases():
    for name, fork in FORKS.items():
        for i, v in enumerate(VEC["forks"][name]):
            yield pytest.param(fork, i, v, id=f"{name}-{i}")


@pytest.mark.parametrize("fork,i,v", list(_cases()))
def test_upgrade_tx_matches_vector(fork, i, v):
    u = upgrade_transactions(fork)[i]
    tx = u.tx
    assert u.intent == v["intent"]
    assert to_hex(tx.source_hash) == v["source_hash"]
    assert tx.from_ == from_hex(v["from"])
    assert tx.to == (None if v["to"] is None else from_hex(v["to"]))
    assert (tx.mint, tx.value, tx.gas, tx.is_system_tx) == (v["mint"], v["value"], v["gas"], v["is_system_tx"])
    assert len(tx.data) == v["data_len"]
    assert to_hex(keccak256(tx.data)) == v["data_keccak"]
    assert to_hex(tx.raw) == v["raw_tx"]
    assert to_hex(tx.hash) == v["tx_hash"]
    if v.get("created_address"):
        assert u.deployment is not None and u.deployment.address == from_hex(v["created_address"])
        assert u.deployment.init_code == tx.data
    # the encoding decodes back to the same deposit
    again = transactions.decode(tx.raw)
    assert (again.source_hash, again.from_, again.to, again.gas, again.data) == (
        tx.source_hash, tx.from_, tx.to, tx.gas, tx.data)


@pytest.mark.parametrize("name", list(FORKS))
def test_every_vector_tx_is_generated(name):
    assert [u.intent for u in upgrade_transactions(FORKS[name])] == [v["intent"] for v in VEC["forks"][name]]


def test_jovian_uses_live_chain_intents_not_april_2026_spec_text():
    first = VEC["forks"]["jovian"][0]
    assert upgrade_transactions(Fork.JOVIAN)[0].tx.source_hash == from_hex(first["kona_asserted_source_hash"])
    assert upgrade_source_hash(first["spec_intent"]) == from_hex(first["spec_source_hash"])
    assert first["spec_source_hash"] != first["source_hash"]


def test_interop_is_the_kona_set_split_at_the_cross_l2_inbox():
    kona = VEC["forks"]["interop_kona"]
    ours = [*cross_l2_inbox_transactions(), *upgrade_transactions(Fork.LAGOON)]
    assert [to_hex(u.tx.raw) for u in ours] == [v["raw_tx"] for v in kona]
    assert [u.intent for u in ours] == [v["intent"] for v in kona]


def test_interop_source_hashes_match_op_node():
    for v in VEC["forks"]["interop_go_source_hashes"]:
        assert to_hex(upgrade_source_hash(v["intent"])) == v["expected_source_hash"]


def test_selectors_match_the_spec():
    assert selector("setEcotone()").hex() == "22b90ab3"
    assert selector("setFjord()").hex() == "8e98b106"
    assert selector("setIsthmus()").hex() == "291b0383"
    assert selector("setJovian()").hex() == "b3d72079"
    assert selector("upgradeTo(address)").hex() == "3659cfe6"


def test_deployments_expose_init_code_and_system_contract_addresses():
    eco = deployments(Fork.ECOTONE)
    assert [d.intent for d in eco] == ["Ecotone: L1 Block Deployment", "Ecotone: Gas Price Oracle Deployment",
                                       "Ecotone: beacon block roots contract deployment"]
    assert eco[2].address == BEACON_ROOTS
    assert deployments(Fork.ISTHMUS)[-1].address == HISTORY_STORAGE
    assert deployments(Fork.FJORD)[0].init_code[:4] == bytes.fromhex("60806040")
    assert deployments(Fork.BEDROCK) == () and deployments(Fork.KARST) == ()
    for fork in FORKS.values():
        for d in deployments(fork):
            assert d.gas > 0 and len(d.init_code) > 0 and len(d.address) == 20


def test_results_are_cached():
    assert upgrade_transactions(Fork.ECOTONE) is upgrade_transactions(Fork.ECOTONE)


def test_txs_only_on_activation_blocks_in_fork_order():
    cfg = rollup_config(regolith=0, canyon=0, delta=0, ecotone=1_010, fjord=1_010, granite=1_010, holocene=1_020,
                        isthmus=1_031, jovian=1_040)
    assert upgrade_txs_for_block(cfg, 1_008) == []
    both = upgrade_txs_for_block(cfg, 1_010)
    expected = [u.tx for u in (*upgrade_transactions(Fork.ECOTONE), *upgrade_transactions(Fork.FJORD))]
    assert [t.raw for t in both] == [t.raw for t in expected]
    assert upgrade_txs_for_block(cfg, 1_012) == []
    assert upgrade_txs_for_block(cfg, 1_020) == []  # Holocene has no upgrade txs
    # Isthmus at 1031 activates on the first block at or after it: 1032.
    assert upgrade_txs_for_block(cfg, 1_030) == []
    assert [t.raw for t in upgrade_txs_for_block(cfg, 1_032)] == [u.tx.raw for u in upgrade_transactions(Fork.ISTHMUS)]
    assert len(upgrade_txs_for_block(cfg, 1_040)) == 5


def test_forks_at_genesis_have_no_upgrade_txs():
    cfg = rollup_config(ecotone=0, fjord=0, isthmus=0, jovian=0)
    assert upgrade_txs_for_block(cfg, cfg.genesis.l2_time) == []
    assert upgrade_txs_for_block(cfg, cfg.genesis.l2_time + 2) == []


def test_a_later_fork_activates_earlier_unscheduled_ones():
    cfg = rollup_config(jovian=1_100)
    txs = upgrade_txs_for_block(cfg, 1_100)
    n = sum(len(upgrade_transactions(f)) for f in (Fork.ECOTONE, Fork.FJORD, Fork.ISTHMUS, Fork.JOVIAN))
    assert len(txs) == n
    assert txs[0].source_hash == upgrade_source_hash("Ecotone: L1 Block Deployment")
    assert txs[-1].source_hash == upgrade_source_hash("Jovian: Gas Price Oracle Set Jovian")


def test_interop_activation_block():
    cfg = rollup_config(jovian=0, interop=1_004)
    txs = upgrade_txs_for_block(cfg, 1_004)
    assert [t.raw for t in txs] == [u.tx.raw for u in upgrade_transactions(Fork.LAGOON)]
