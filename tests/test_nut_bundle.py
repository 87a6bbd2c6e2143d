"""NUT bundles: the deposit rule against op-alloy's own vectors, the vendored Karst bundle against op-node's lock
hash and the published fingerprints, and refusal of altered or missing bundles (spec-vectors/nut_bundles.json)."""

import dataclasses
import json

import pytest

from derivation.protocol import transactions
from derivation.protocol.hexutil import from_hex, to_hex
from derivation.protocol.nut_bundle import (
    KARST_PIN,
    LAGOON_PIN,
    BundleTx,
    NutBundle,
    NutBundleError,
    bundle_path,
    nut_bundle,
    parse_bundle,
)
from derivation.protocol.rollup_config import Fork
from tests.vectors import load

VEC = load("nut_bundles.json")


def _vector_bundle() -> NutBundle:
    rule = VEC["deposit_rule"]
    txs = tuple(BundleTx(t["intent"], from_hex(t["from"]), from_hex(t["to"]), from_hex(t["data"]), t["gasLimit"])
                for t in rule["transactions"])
    return NutBundle(Fork.KARST, rule["label"], "", "", "1.0.0", 0, txs)


def test_deposit_rule_matches_op_alloy_vectors():
    rule = VEC["deposit_rule"]
    b = _vector_bundle()
    deps = b.deposits()
    assert [to_hex(d.source_hash) for d in deps] == rule["expected_source_hashes"]
    assert [to_hex(d.raw) for d in deps] == rule["expected_encodings"]
    assert b.total_gas == rule["expected_total_gas"]
    assert b.qualified_intent(1) == "Test 1: Second Transaction"


def test_karst_bundle_is_the_locked_one_with_its_fingerprints():
    k = VEC["karst"]
    b = nut_bundle(Fork.KARST)
    assert b.sha256 == k["sha256"] == KARST_PIN.sha256
    assert len(b.transactions) == k["tx_count"] and b.total_gas == k["upgrade_gas"]
    assert b.label == k["label"]
    last = b.deposits()[-1]
    assert to_hex(last.to) == k["last_tx"]["to"] and to_hex(last.data) == k["last_tx"]["data"]
    deps = b.deposits()
    assert all(d.raw[0] == 0x7E and d.mint == 0 and d.value == 0 and not d.is_system_tx for d in deps)
    assert sum(d.gas for d in deps) == k["upgrade_gas"]
    for d in deps:  # every encoding decodes back to the same deposit
        again = transactions.decode(d.raw)
        assert (again.source_hash, again.from_, again.to, again.gas, again.data) == (
            d.source_hash, d.from_, d.to, d.gas, d.data)
    assert k["activation_gas_limit_example"]["system_config_gas_limit"] + b.total_gas == \
        k["activation_gas_limit_example"]["activation_block_gas_limit"]


def test_karst_intents_carry_fork_label_and_index():
    b = nut_bundle(Fork.KARST)
    assert b.qualified_intent(0) == f"Karst 0: {b.transactions[0].intent}"
    assert b.qualified_intent(30) == "Karst 30: L2ProxyAdmin Upgrade Predeploys"
    assert len({d.source_hash for d in b.deposits()}) == 31


def test_bundle_is_loaded_once():
    assert nut_bundle(Fork.KARST) is nut_bundle(Fork.KARST)
    assert nut_bundle(Fork.KARST).deposits() is nut_bundle(Fork.KARST).deposits()


def test_a_changed_byte_is_refused():
    raw = bundle_path(KARST_PIN.file).read_bytes()
    i = raw.index(b'"gasLimit": 580000')
    altered = raw[:i] + b'"gasLimit": 580001' + raw[i + 18:]
    with pytest.raises(NutBundleError, match="sha256 .* expected 08f5df36"):
        parse_bundle(Fork.KARST, altered, KARST_PIN)


def test_fingerprints_are_checked_after_the_hash():
    raw = bundle_path(KARST_PIN.file).read_bytes()
    d = json.loads(raw)
    d["transactions"] = d["transactions"][:-1]
    short = json.dumps(d).encode()
    from derivation.protocol.crypto import sha256
    pin = dataclasses.replace(KARST_PIN, sha256=sha256(short).hex())
    with pytest.raises(NutBundleError, match="30 transactions, expected 31"):
        parse_bundle(Fork.KARST, short, pin)


def test_malformed_bundle_is_a_clear_error():
    from derivation.protocol.crypto import sha256
    raw = b'{"metadata": {"version": "1.0.0", "extraGas": 5}, "transactions": []}'
    pin = dataclasses.replace(KARST_PIN, sha256=sha256(raw).hex())
    with pytest.raises(NutBundleError, match="must not declare extraGas"):
        parse_bundle(Fork.KARST, raw, pin)
    raw = b'{"metadata": {"version": "1.0.0"}, "transactions": [{"intent": "", "from": "0x00", "gasLimit": 1}]}'
    pin = dataclasses.replace(KARST_PIN, sha256=sha256(raw).hex())
    with pytest.raises(NutBundleError, match="tx 0: missing intent"):
        parse_bundle(Fork.KARST, raw, pin)


def test_lagoon_bundle_is_op_nodes_locked_one():
    lag = VEC["lagoon"]
    b = nut_bundle(Fork.LAGOON)
    assert b.label == lag["label"] == "Interop" and b.sha256 == lag["sha256"] == LAGOON_PIN.sha256
    assert len(b.transactions) == lag["tx_count"] == 29 and b.version == "1.0.0"
    assert b.qualified_intent(0) == lag["first_intent"] and b.qualified_intent(28) == lag["last_intent"]
    last = b.transactions[-1]
    assert (to_hex(last.to), to_hex(last.data)) == (lag["last_tx"]["to"], lag["last_tx"]["data"])
    assert last.gas_limit == 4_000_000 and b.transactions[-2].gas_limit == 8_900_000
    assert b.total_gas == sum(t.gas_limit for t in b.transactions) == LAGOON_PIN.total_gas


def test_a_missing_lagoon_bundle_is_refused_naming_the_file_to_provide(monkeypatch):
    import derivation.protocol.nut_bundle as nb

    real = nb._read
    monkeypatch.setattr(nb, "_read", lambda pin: None if pin is LAGOON_PIN else real(pin))
    nut_bundle.cache_clear()
    try:
        with pytest.raises(NutBundleError, match=f"provide .*{LAGOON_PIN.file} \\(sha256 {LAGOON_PIN.sha256}") as e:
            nut_bundle(Fork.LAGOON)
        assert "\n" not in str(e.value)
        nut_bundle(Fork.KARST)  # the other bundle is unaffected
    finally:
        nut_bundle.cache_clear()


def test_forks_without_a_bundle_are_refused():
    with pytest.raises(NutBundleError, match="jovian has no NUT bundle"):
        nut_bundle(Fork.JOVIAN)


def test_another_bundle_given_as_the_lagoon_bundle_is_refused():
    karst_raw = bundle_path(KARST_PIN.file).read_bytes()
    with pytest.raises(NutBundleError, match=f"expected {LAGOON_PIN.sha256}"):
        parse_bundle(Fork.LAGOON, karst_raw, LAGOON_PIN)
