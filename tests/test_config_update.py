"""ConfigUpdate logs → SystemConfig: kona's and op-node's cases, the Ecotone scalar rule, receipts filtering,
malformed updates skipped (spec system-config.md; op-node UpdateSystemConfigWithL1Receipts since PR #18292), the
unsafe block signer and property tests. config_update_cases.json's "error" cases are the malformed ones: they were
a halt before op-node PR #18292 and are skipped now."""

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from derivation.protocol.config_update import (
    CONFIG_UPDATE_TOPIC,
    ConfigUpdateError,
    UpdateType,
    apply_receipts,
    apply_receipts_reporting,
    apply_update,
    config_update_log,
    parse_config_update,
    unsafe_block_signer_updates,
)
from derivation.protocol.errors import ParseError
from derivation.protocol.hexutil import from_hex
from derivation.protocol.system_config import SystemConfig
from derivation.protocol.types import Log, Receipt
from tests.test_upgrades import rollup_config
from tests.vectors import load

SYSCFG_ADDR = b"\x5c" * 20
ZERO = SystemConfig(bytes(20), bytes(32), bytes(32), 0)
ECOTONE_AT_100 = rollup_config(regolith=0, ecotone=100)
W = lambda n: n.to_bytes(32, "big")  # noqa: E731


def fields_of(sc: SystemConfig) -> dict:
    return {"batcher_addr": sc.batcher_addr, "overhead": sc.overhead, "scalar": sc.scalar, "gas_limit": sc.gas_limit,
            "eip1559_params": sc.eip1559_params, "operator_fee_scalar": sc.operator_fee_scalar,
            "operator_fee_constant": sc.operator_fee_constant, "min_base_fee": sc.min_base_fee,
            "da_footprint_gas_scalar": sc.da_footprint_gas_scalar}


@pytest.mark.parametrize("v", load("config_update_cases.json")["cases"], ids=lambda v: v["name"])
def test_config_update_cases(v):
    log = Log(SYSCFG_ADDR, tuple(from_hex(t) for t in v["topics"]), from_hex(v["log_data"]), 3)
    l1_time = 200 if v["ecotone_active"] else 50
    receipts = [Receipt(2, 1, 0, (log,))]
    if v["expect"] == "error":
        got, skipped = apply_receipts_reporting(ZERO, receipts, SYSCFG_ADDR, ECOTONE_AT_100, l1_time)
        assert got == ZERO and len(skipped) == 1 and "log 3" in skipped[0]
        with pytest.raises(ConfigUpdateError):
            apply_update(ZERO, parse_config_update(log), ECOTONE_AT_100, l1_time)
        return
    got = apply_receipts(ZERO, receipts, SYSCFG_ADDR, ECOTONE_AT_100, l1_time)
    expected = dict(v.get("expected_fields", {}))
    signer = expected.pop("unsafe_block_signer", None)
    want = fields_of(ZERO)
    want.update({k: from_hex(x) if isinstance(x, str) else x for k, x in expected.items()})
    assert fields_of(got) == want
    if v["expect"] == "ignored":
        assert got == ZERO
    assert unsafe_block_signer_updates(receipts, SYSCFG_ADDR) == ([from_hex(signer)] if signer else [])


# ------------------------------------------------------------------------------------------------ fee scalars


def _fee_log(overhead: bytes, scalar: bytes) -> Log:
    return config_update_log(UpdateType.FEE_SCALARS, overhead + scalar, SYSCFG_ADDR)


def test_fee_scalars_before_and_after_ecotone_by_l1_time():
    start = dataclasses.replace(ZERO, overhead=W(2100), scalar=W(1_000_000))
    v1 = b"\x01" + bytes(23) + (7).to_bytes(4, "big") + (9).to_bytes(4, "big")
    rec = [Receipt(2, 1, 0, (_fee_log(W(188), v1),))]
    before = apply_receipts(start, rec, SYSCFG_ADDR, ECOTONE_AT_100, 99)
    assert before.overhead == W(188) and before.scalar == v1  # pre-Ecotone: both stored raw
    after = apply_receipts(start, rec, SYSCFG_ADDR, ECOTONE_AT_100, 100)
    assert after.overhead == bytes(32) and after.scalar == v1


@pytest.mark.parametrize("scalar", [
    b"\x02" + bytes(31),  # unknown version
    b"\x01" + b"\x01" + bytes(30),  # version 1 with padding
    W(1 << 32),  # version 0 with padding
])
def test_invalid_scalar_after_ecotone_is_ignored_not_an_error(scalar):
    start = dataclasses.replace(ZERO, overhead=bytes(32), scalar=W(1368))
    rec = [Receipt(2, 1, 0, (_fee_log(W(5), scalar),))]
    assert apply_receipts(start, rec, SYSCFG_ADDR, ECOTONE_AT_100, 150) == start
    # before Ecotone the same bytes are a plain Bedrock scalar
    assert apply_receipts(start, rec, SYSCFG_ADDR, ECOTONE_AT_100, 50).scalar == scalar


# ------------------------------------------------------------------------------------------------ receipts


def test_apply_receipts_filters_and_orders():
    batcher1, batcher2 = W(int.from_bytes(b"\x11" * 20, "big")), W(int.from_bytes(b"\x22" * 20, "big"))
    good = config_update_log(UpdateType.BATCHER, batcher1, SYSCFG_ADDR, 0)
    later = config_update_log(UpdateType.GAS_LIMIT, W(45_000_000), SYSCFG_ADDR, 1)
    failed = config_update_log(UpdateType.BATCHER, batcher2, SYSCFG_ADDR, 2)
    foreign = config_update_log(UpdateType.BATCHER, batcher2, b"\x99" * 20, 3)
    other_event = Log(SYSCFG_ADDR, (b"\x01" * 32,), b"garbage", 4)
    receipts = [Receipt(2, 1, 0, (good, foreign, other_event)), Receipt(2, 0, 0, (failed,)),
                Receipt(2, 1, 0, (later,))]
    got = apply_receipts(ZERO, receipts, SYSCFG_ADDR, ECOTONE_AT_100, 10)
    assert got.batcher_addr == b"\x11" * 20 and got.gas_limit == 45_000_000
    assert ZERO.batcher_addr == bytes(20)  # values are immutable
    twice = [Receipt(2, 1, 0, (good, config_update_log(UpdateType.BATCHER, batcher2, SYSCFG_ADDR, 1)))]
    assert apply_receipts(ZERO, twice, SYSCFG_ADDR, ECOTONE_AT_100, 10).batcher_addr == b"\x22" * 20


def test_every_update_type_round_trips_through_its_log():
    op_fee = bytes(20) + (0xABCD).to_bytes(4, "big") + (0xDCBA).to_bytes(8, "big")
    updates = [(UpdateType.BATCHER, W(0xAA)), (UpdateType.GAS_LIMIT, W(60_000_000)),
               (UpdateType.EIP_1559_PARAMS, W((250 << 32) | 6)), (UpdateType.OPERATOR_FEE_PARAMS, op_fee),
               (UpdateType.MIN_BASE_FEE, W(10**9)), (UpdateType.DA_FOOTPRINT_GAS_SCALAR, W(400))]
    logs = tuple(config_update_log(k, p, SYSCFG_ADDR, i) for i, (k, p) in enumerate(updates))
    got = apply_receipts(ZERO, [Receipt(2, 1, 0, logs)], SYSCFG_ADDR, ECOTONE_AT_100, 150)
    assert got.batcher_addr == bytes(19) + b"\xaa" and got.gas_limit == 60_000_000
    assert (got.eip1559_denominator, got.eip1559_elasticity) == (250, 6)
    assert (got.operator_fee_scalar, got.operator_fee_constant) == (0xABCD, 0xDCBA)
    assert got.min_base_fee == 10**9 and got.da_footprint_gas_scalar == 400


def test_malformed_updates_are_skipped_and_the_others_applied():
    """Spec system-config.md ("not applied and instead skipped") and op-node UpdateSystemConfigWithL1Receipts:
    each log is applied to a copy, kept only if it parsed; later good logs of the same block still apply."""
    good = config_update_log(UpdateType.GAS_LIMIT, W(1), SYSCFG_ADDR)
    bad = [
        Log(SYSCFG_ADDR, good.topics[:2], good.data, 0),  # 2 topics
        Log(SYSCFG_ADDR, good.topics + (bytes(32),), good.data, 0),  # 4 topics
        Log(SYSCFG_ADDR, (good.topics[0], W(1), good.topics[2]), good.data, 0),  # version 1
        Log(SYSCFG_ADDR, (good.topics[0], good.topics[1], W(8)), good.data, 0),  # unknown type
        Log(SYSCFG_ADDR, (good.topics[0], good.topics[1], b"\x01" + bytes(30) + b"\x02"), good.data, 0),
        Log(SYSCFG_ADDR, good.topics, good.data + bytes(32), 0),  # extra bytes
        config_update_log(UpdateType.EIP_1559_PARAMS, W(6), SYSCFG_ADDR),  # denominator 0, elasticity 6
        config_update_log(UpdateType.DA_FOOTPRINT_GAS_SCALAR, W(1 << 16), SYSCFG_ADDR),
        config_update_log(UpdateType.BATCHER, b"\x01" + bytes(31), SYSCFG_ADDR),
    ]
    for log in bad:
        before = config_update_log(UpdateType.GAS_LIMIT, W(45_000_000), SYSCFG_ADDR, 0)
        after = config_update_log(UpdateType.BATCHER, bytes(12) + b"\x22" * 20, SYSCFG_ADDR, 2)
        block = [Receipt(2, 1, 0, (before, dataclasses.replace(log, log_index=1), after))]
        got, skipped = apply_receipts_reporting(ZERO, block, SYSCFG_ADDR, ECOTONE_AT_100, 150)
        assert got == dataclasses.replace(ZERO, gas_limit=45_000_000, batcher_addr=b"\x22" * 20)
        assert len(skipped) == 1 and "(log 1)" in skipped[0]
        assert apply_receipts(ZERO, block, SYSCFG_ADDR, ECOTONE_AT_100, 150) == got


def test_unsafe_block_signer_is_returned_separately():
    signer = b"\x77" * 20
    logs = (config_update_log(UpdateType.UNSAFE_BLOCK_SIGNER, bytes(12) + signer, SYSCFG_ADDR, 0),
            Log(SYSCFG_ADDR, (CONFIG_UPDATE_TOPIC, bytes(32), W(3)), b"\x01", 1),  # malformed: ignored
            config_update_log(UpdateType.UNSAFE_BLOCK_SIGNER, bytes(12) + b"\x88" * 20, SYSCFG_ADDR, 2))
    receipts = [Receipt(2, 1, 0, logs)]
    assert unsafe_block_signer_updates(receipts, SYSCFG_ADDR) == [signer, b"\x88" * 20]
    assert apply_receipts(ZERO, receipts, SYSCFG_ADDR, ECOTONE_AT_100, 150) == ZERO


# ------------------------------------------------------------------------------------------------ properties


@settings(max_examples=300)
@given(kind=st.integers(0, 9), data=st.binary(max_size=200), topics=st.integers(0, 4),
       version=st.sampled_from([bytes(32), W(1)]))
def test_random_logs_parse_or_raise_parse_errors(kind, data, topics, version):
    log = Log(SYSCFG_ADDR, (CONFIG_UPDATE_TOPIC, version, W(kind), bytes(32))[:topics], data, 0)
    try:
        update = parse_config_update(log)
        apply_update(ZERO, update, ECOTONE_AT_100, 150)
    except ParseError:
        pass
    got, skipped = apply_receipts_reporting(ZERO, [Receipt(2, 1, 0, (log,))], SYSCFG_ADDR, ECOTONE_AT_100, 150)
    assert (got == ZERO) or not skipped


@settings(max_examples=300)
@given(kind=st.sampled_from(list(UpdateType)), value=st.binary(min_size=64, max_size=64), pos=st.integers(0, 200),
       byte=st.integers(0, 255))
def test_mutated_logs_parse_or_raise_parse_errors(kind, value, pos, byte):
    payload = value if kind == UpdateType.FEE_SCALARS else value[:32]
    log = config_update_log(kind, payload, SYSCFG_ADDR)
    data = bytearray(log.data)
    data[pos % len(data)] = byte
    try:
        apply_update(ZERO, parse_config_update(Log(SYSCFG_ADDR, log.topics, bytes(data), 0)), ECOTONE_AT_100, 150)
    except ParseError:
        pass
