"""Network-upgrade deposits: byte-exact against spec-vectors/upgrade_transactions.json (kona's encoded upgrade txs,
op-node's and the specs' source hashes and gas values); Karst and Lagoon NUT deposits, Lagoon's wrappers and the
upgrade gas added and stripped (spec-vectors/nut_bundles.json: op-node's and kona's tests)."""

import dataclasses

import pytest

from derivation.protocol import transactions
from derivation.protocol.config_update import UpdateType, apply_receipts, config_update_log
from derivation.protocol.crypto import keccak256
from derivation.protocol.deposits import upgrade_source_hash
from derivation.protocol.errors import CriticalError
from derivation.protocol.hexutil import from_hex, to_hex
from derivation.protocol.l1_chain_config import BlobFork, L1ChainConfig
from derivation.protocol.l1_info import L1InfoError, l1_info_data, system_config_from_l2_block
from derivation.protocol.nut_bundle import LAGOON_PIN, NutBundleError, bundle_path, nut_bundle
from derivation.protocol.predeploys import BEACON_ROOTS, HISTORY_STORAGE
from derivation.protocol.rollup_config import DependencySet, Fork, Genesis, RollupConfig
from derivation.protocol.system_config import SystemConfig
from derivation.protocol.types import BlockID, L1BlockInfo, Receipt
from derivation.protocol.upgrades import (
    LAGOON_WRAPPER_GAS,
    deployments,
    lagoon_transactions,
    lagoon_wrappers,
    selector,
    upgrade_gas,
    upgrade_gas_for_block,
    upgrade_gas_to_strip,
    upgrade_transactions,
    upgrade_txs_for_block,
)
from tests.vectors import load

VEC = load("upgrade_transactions.json")
NUTS = load("nut_bundles.json")
OP_AND_UNICHAIN = DependencySet((10, 130))
ALONE = DependencySet((10,))
FORKS = {"ecotone": Fork.ECOTONE, "fjord": Fork.FJORD, "isthmus": Fork.ISTHMUS, "jovian": Fork.JOVIAN}


def rollup_config(block_time=2, genesis_time=1_000, extra=None, **fork_times) -> RollupConfig:
    """A minimal valid config; ``fork_times`` maps fork labels to times, ``extra`` sets other fields."""
    sc = SystemConfig(batcher_addr=b"\x11" * 20, overhead=bytes(32), scalar=b"\x01" + bytes(31), gas_limit=30_000_000)
    return RollupConfig(
        genesis=Genesis(BlockID(b"\x01" * 32, 1), BlockID(b"\x02" * 32, 0), genesis_time, sc),
        block_time=block_time, max_sequencer_drift=600, seq_window_size=3600, channel_timeout=300,
        l1_chain_id=1, l2_chain_id=10, batch_inbox_address=b"\xff" * 20, deposit_contract_address=b"\xaa" * 20,
        l1_system_config_address=b"\xbb" * 20, fork_times={Fork.parse(k): v for k, v in fork_times.items()},
        **(extra or {}))


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


def test_karst_activation_block_carries_the_31_nuts_after_jovians_forks():
    cfg = rollup_config(jovian=0, karst=1_004)
    karst = nut_bundle(Fork.KARST).deposits()
    assert [t.raw for t in upgrade_txs_for_block(cfg, 1_004)] == [t.raw for t in karst]
    assert upgrade_txs_for_block(cfg, 1_002) == [] and upgrade_txs_for_block(cfg, 1_006) == []
    assert [u.intent for u in upgrade_transactions(Fork.KARST)][30] == "Karst 30: L2ProxyAdmin Upgrade Predeploys"


def test_karst_and_lagoon_in_one_block_are_ordered_karst_first():
    cfg = rollup_config(jovian=0, lagoon=1_004, extra=dict(dependency_set=ALONE))
    txs = upgrade_txs_for_block(cfg, 1_004)  # a Lagoon time alone activates Karst in the same block
    karst, lagoon = nut_bundle(Fork.KARST).deposits(), nut_bundle(Fork.LAGOON).deposits()
    assert [t.raw for t in txs] == [t.raw for t in (*karst, *lagoon)]
    assert upgrade_gas_for_block(cfg, 1_004) == NUTS["karst"]["upgrade_gas"] + nut_bundle(Fork.LAGOON).total_gas + 150_000


def test_lagoon_wrappers_match_op_node_and_kona():
    w = NUTS["lagoon_wrappers"]
    pre, post = lagoon_wrappers()
    for u, v in ((pre, w["pre"]), (post, w["post"])):
        tx = u.tx
        assert u.intent == v["intent"] and tx.source_hash == upgrade_source_hash(v["intent"])
        assert (tx.from_, tx.to) == (from_hex(v["from"]), from_hex(v["to"]))
        assert (tx.gas, tx.mint, tx.value, tx.is_system_tx) == (v["gas"], v["mint"], v["value"], False)
        assert tx.data[:4] == keccak256(v["selector_signature"].encode())[:4]
    assert pre.tx.data[4:] == w["pre"]["argument_ascii_right_padded"].encode().ljust(32, b"\0")
    assert len(post.tx.data) == 4
    assert LAGOON_WRAPPER_GAS == w["pre"]["gas"] + w["post"]["gas"]


def test_lagoon_activation_wraps_the_bundle_only_for_a_multi_chain_set():
    bundle = nut_bundle(Fork.LAGOON)
    single = rollup_config(karst=0, lagoon=1_004, extra=dict(dependency_set=ALONE))
    multi = rollup_config(karst=0, lagoon=1_004, extra=dict(dependency_set=OP_AND_UNICHAIN))
    core = [t.raw for t in bundle.deposits()]
    assert [t.raw for t in upgrade_txs_for_block(single, 1_004)] == core
    pre, post = lagoon_wrappers()
    assert [t.raw for t in upgrade_txs_for_block(multi, 1_004)] == [pre.tx.raw, *core, post.tx.raw]
    assert [u.intent for u in lagoon_transactions(bundle, False)][0] == NUTS["lagoon"]["first_intent"]
    # The reserved gas is the same for both sets, and the read-back strips exactly that (TestLagoonUpgradeGasAddEqualsStrip).
    for cfg in (single, multi):
        added = upgrade_gas_for_block(cfg, 1_004)
        assert added == bundle.total_gas + 150_000 == upgrade_gas_to_strip(cfg, 1_004)
    assert sum(t.gas for t in upgrade_txs_for_block(multi, 1_004)) == upgrade_gas_for_block(multi, 1_004)


def test_lagoon_needs_a_dependency_set():
    cfg = rollup_config(karst=0, lagoon=1_004, extra={})
    with pytest.raises(CriticalError, match="no interop dependency set"):
        upgrade_txs_for_block(cfg, 1_004)


def test_a_lagoon_activation_block_without_its_bundle_is_refused(monkeypatch):
    import derivation.protocol.nut_bundle as nb

    monkeypatch.setattr(nb, "_read", lambda pin: None if pin is LAGOON_PIN else nb.bundle_path(pin.file).read_bytes())
    nut_bundle.cache_clear()
    cfg = rollup_config(karst=0, lagoon=1_004, extra=dict(dependency_set=OP_AND_UNICHAIN))
    for f in (upgrade_txs_for_block, upgrade_gas_for_block, upgrade_gas_to_strip):
        with pytest.raises(NutBundleError) as e:
            f(cfg, 1_004)
        msg = str(e.value)
        assert "\n" not in msg and str(bundle_path(LAGOON_PIN.file)) in msg and LAGOON_PIN.sha256 in msg
    assert upgrade_txs_for_block(cfg, 1_006) == []  # only the activation block needs it
    nut_bundle.cache_clear()


def test_upgrade_gas_to_strip_per_fork_with_karst_opt_out():
    """op-node TestUpgradeGasToStrip: each NUT fork strips its own gas at its activation block only; the keep
    flag opts Karst out, never Lagoon."""
    karst_gas = NUTS["karst"]["upgrade_gas"]
    cfg = rollup_config(jovian=0, karst=1_100, lagoon=2_000,
                        extra=dict(dependency_set=OP_AND_UNICHAIN))
    lagoon_gas = upgrade_gas(Fork.LAGOON, nut_bundle(Fork.LAGOON))
    assert upgrade_gas(Fork.KARST) == karst_gas
    assert upgrade_gas_to_strip(cfg, 1_100) == karst_gas
    assert upgrade_gas_to_strip(cfg, 1_098) == upgrade_gas_to_strip(cfg, 1_102) == 0
    assert upgrade_gas_to_strip(cfg, 2_000) == lagoon_gas
    keep = dataclasses.replace(cfg, keep_karst_upgrade_gas=True)
    assert upgrade_gas_to_strip(keep, 1_100) == 0 and upgrade_gas_for_block(keep, 1_100) == karst_gas
    assert upgrade_gas_to_strip(keep, 2_000) == lagoon_gas
    assert upgrade_gas(Fork.JOVIAN) == 0
    at_genesis = rollup_config(karst=0)  # a fork active at genesis has no activation block: nothing added
    assert upgrade_gas_for_block(at_genesis, 1_000) == upgrade_gas_for_block(at_genesis, 1_002) == 0


def _l1_info_calldata(cfg, t: int) -> bytes:
    l1 = L1BlockInfo(b"\x07" * 32, 12, b"\x06" * 32, t - 4, base_fee=7, excess_blob_gas=0)
    return l1_info_data(cfg, cfg.genesis.system_config, 0, l1, t, L1ChainConfig(1, (BlobFork("cancun", 0, 3_338_477),))
                        ).encode()


def test_system_config_read_back_strips_karst_gas_unless_kept():
    """Port of op-node TestPayloadToSystemConfigUpgradeGas (payload_util_test.go, file index id 61172837452):
    Isthmus at genesis, Karst later; the activation header holds base + upgrade gas."""
    base, karst_gas, t = 30_000_000, NUTS["karst"]["upgrade_gas"], 1_100
    cfg = rollup_config(isthmus=0, karst=t)
    # Jovian extraData (op-node's test uses Holocene's: its rollup.Config does not imply Jovian from Karst).
    extra = b"\x01" + (250).to_bytes(4, "big") + (6).to_bytes(4, "big") + bytes(8)
    assert system_config_from_l2_block(cfg, _l1_info_calldata(cfg, t), base + karst_gas, extra, t).gas_limit == base
    after = system_config_from_l2_block(cfg, _l1_info_calldata(cfg, t + 2), base, extra, t + 2)
    assert after.gas_limit == base
    keep = dataclasses.replace(cfg, keep_karst_upgrade_gas=True)
    kept = system_config_from_l2_block(keep, _l1_info_calldata(keep, t), base + karst_gas, extra, t)
    assert kept.gas_limit == base + karst_gas
    # A setGasLimit in the next block's new L1 origin is applied after the strip, and wins.
    stripped = system_config_from_l2_block(cfg, _l1_info_calldata(cfg, t), base + karst_gas, extra, t)
    log = config_update_log(UpdateType.GAS_LIMIT, (45_000_000).to_bytes(32, "big"), cfg.l1_system_config_address)
    receipt = Receipt(tx_type=2, status=1, cumulative_gas_used=0, logs=(log,))
    assert apply_receipts(stripped, [receipt], cfg.l1_system_config_address, cfg, t).gas_limit == 45_000_000
    with pytest.raises(L1InfoError, match="below its upgrade gas"):
        system_config_from_l2_block(cfg, _l1_info_calldata(cfg, t), karst_gas - 1, extra, t)
