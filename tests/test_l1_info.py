"""L1-info deposits: every vector of spec-vectors/l1_info_deposits.json, the fork/format rules, the Ecotone scalar
rules, the blob base fee schedule and SystemConfig reconstruction from an L2 block."""

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from derivation.protocol import transactions
from derivation.protocol.deposits import l1_info_source_hash
from derivation.protocol.errors import CriticalError, ParseError
from derivation.protocol.hexutil import from_hex, to_hex
from derivation.protocol.l1_chain_config import (
    CANCUN_UPDATE_FRACTION,
    PRAGUE_UPDATE_FRACTION,
    L1ChainConfig,
    fake_exponential,
    l1_chain_config,
)
from derivation.protocol.l1_info import (
    BEDROCK,
    ECOTONE,
    ISTHMUS,
    JOVIAN,
    LENGTHS,
    MAX_U32,
    SELECTORS,
    ExtraDataError,
    InvalidScalarError,
    L1InfoData,
    L1InfoError,
    blob_base_fee_update_fraction,
    decode_l1_info,
    ecotone_scalars,
    is_valid_ecotone_scalar,
    l1_info_data,
    l1_info_deposit,
    l1_info_format,
    system_config_from_l2_block,
)
from derivation.protocol.predeploys import L1_BLOCK, L1_INFO_DEPOSITOR
from derivation.protocol.system_config import SystemConfig
from derivation.protocol.types import L1BlockInfo
from tests.test_upgrades import rollup_config
from tests.vectors import load

VEC = load("l1_info_deposits.json")
FIELDS = ("number", "time", "base_fee", "sequence_number", "l1_fee_overhead", "l1_fee_scalar", "base_fee_scalar",
          "blob_base_fee_scalar", "blob_base_fee", "operator_fee_scalar", "operator_fee_constant",
          "da_footprint_gas_scalar")
MAINNET = l1_chain_config(1)


def version1_scalar(blob: int, base: int) -> bytes:
    return b"\x01" + bytes(23) + blob.to_bytes(4, "big") + base.to_bytes(4, "big")


def calldata_of(v) -> bytes:
    if v["kind"] == "calldata":
        return from_hex(v["calldata"])
    return transactions.decode(from_hex(v["raw_tx"])).data


# ------------------------------------------------------------------------------------------------ vectors


@pytest.mark.parametrize("v", VEC["vectors"], ids=lambda v: v["name"][:50])
def test_decode_vector(v):
    data = calldata_of(v)
    info = decode_l1_info(data)
    d = v["decoded"]
    assert info.format == d["format"]
    assert SELECTORS[info.format] == from_hex(d["selector"]) and LENGTHS[info.format] == d["calldata_len"]
    for f in FIELDS:
        assert getattr(info, f) == d.get(f), f
    assert info.block_hash == from_hex(d["block_hash"])
    assert info.batcher_addr == from_hex(d["batcher_address"])
    for k, want in v.get("asserted_by_upstream", {}).items():
        got = info.batcher_addr if k == "batcher_address" else getattr(info, k)
        assert got == (from_hex(want) if isinstance(want, str) else want), k
    assert info.encode() == data  # re-encoding is exact


@pytest.mark.parametrize("v", [v for v in VEC["vectors"] if v["kind"] == "deposit_tx"], ids=lambda v: v["name"][:50])
def test_deposit_tx_vector(v):
    tx = transactions.decode(from_hex(v["raw_tx"]))
    assert to_hex(tx.hash) == v["tx_hash"]
    f = v["deposit_fields"]
    assert to_hex(tx.source_hash) == f["source_hash"]
    assert tx.from_ == from_hex(f["from"]) == L1_INFO_DEPOSITOR and tx.to == from_hex(f["to"]) == L1_BLOCK
    assert (tx.mint, tx.value, tx.gas, tx.is_system_tx) == (f["mint"], f["value"], f["gas"], f["is_system_tx"])
    s = v["source_hash_inputs"]
    assert s["domain"] == 1
    assert to_hex(l1_info_source_hash(from_hex(s["l1_block_hash"]), s["sequence_number"])) == f["source_hash"]


@pytest.mark.parametrize("v", [v for v in VEC["vectors"] if v["kind"] == "deposit_tx" and v["decoded"].get(
    "blob_base_fee", 1) == 1], ids=lambda v: v["name"][:50])
def test_l1_info_deposit_rebuilds_real_transactions(v):
    """Build the deposit from its inputs (L1 header fields, SystemConfig) and get the vector's bytes."""
    d = v["decoded"]
    fmt = d["format"]
    forks = {BEDROCK: {}, ECOTONE: dict(regolith=0, ecotone=0), ISTHMUS: dict(regolith=0, isthmus=0),
             JOVIAN: dict(regolith=0, jovian=0)}[fmt]
    cfg = rollup_config(**forks)
    if fmt == BEDROCK:
        overhead, scalar = d["l1_fee_overhead"].to_bytes(32, "big"), d["l1_fee_scalar"].to_bytes(32, "big")
    else:
        overhead, scalar = bytes(32), version1_scalar(d["blob_base_fee_scalar"], d["base_fee_scalar"])
    op_fee = bytes(20) + d.get("operator_fee_scalar", 0).to_bytes(4, "big") + d.get(
        "operator_fee_constant", 0).to_bytes(8, "big")
    sys_cfg = SystemConfig(from_hex(d["batcher_address"]), overhead, scalar, 30_000_000, operator_fee_params=op_fee)
    l1 = L1BlockInfo(from_hex(d["block_hash"]), d["number"], bytes(32), d["time"], base_fee=d["base_fee"],
                     excess_blob_gas=0)
    tx = l1_info_deposit(cfg, sys_cfg, d["sequence_number"], l1, cfg.genesis.l2_time + 100, MAINNET)
    assert to_hex(tx.raw) == v["raw_tx"]


def test_source_hash_vectors():
    for v in VEC["source_hash_vectors"]:
        got = l1_info_source_hash(from_hex(v["l1_block_hash"]), v["sequence_number"])
        assert to_hex(got) == v["expected_source_hash"]


def test_deposit_tx_constants():
    c = VEC["deposit_tx_constants"]
    assert L1_INFO_DEPOSITOR == from_hex(c["from"]) and L1_BLOCK == from_hex(c["to"])
    l1 = L1BlockInfo(b"\x01" * 32, 5, bytes(32), 100, base_fee=7)
    sys_cfg = SystemConfig(b"\x02" * 20, bytes(32), bytes(32), 1)
    pre = l1_info_deposit(rollup_config(), sys_cfg, 0, l1, 1_002, MAINNET)
    post = l1_info_deposit(rollup_config(regolith=0), sys_cfg, 0, l1, 1_002, MAINNET)
    assert (pre.gas, pre.is_system_tx) == (c["gas_pre_regolith"], c["is_system_tx_pre_regolith"])
    assert (post.gas, post.is_system_tx) == (c["gas_post_regolith"], c["is_system_tx_post_regolith"])
    assert pre.mint == post.mint == c["mint"] and pre.value == post.value == c["value"]


# ------------------------------------------------------------------------------------------------ format rules


def test_activation_blocks_use_the_previous_format():
    """The shared vectors' activation_rules: first Ecotone block → Bedrock, first Isthmus → Ecotone, first Jovian →
    Isthmus, Interop keeps Jovian; forks at genesis use the new format from the genesis block on."""
    rules = " ".join(VEC["activation_rules"])
    assert "First Ecotone block uses the Bedrock format" in rules and "interop keeps Jovian format" in rules
    cfg = rollup_config(regolith=0, ecotone=1_010, isthmus=1_020, jovian=1_030, interop=1_040)
    assert [l1_info_format(cfg, t) for t in (1_008, 1_010, 1_012, 1_020, 1_022, 1_030, 1_032, 1_040, 1_042)] == [
        BEDROCK, BEDROCK, ECOTONE, ECOTONE, ISTHMUS, ISTHMUS, JOVIAN, JOVIAN, JOVIAN]
    genesis = rollup_config(jovian=0)
    assert l1_info_format(genesis, genesis.genesis.l2_time) == JOVIAN
    assert l1_info_format(genesis, genesis.genesis.l2_time + 2) == JOVIAN
    together = rollup_config(ecotone=1_010, isthmus=1_010, jovian=1_010)
    assert l1_info_format(together, 1_010) == BEDROCK and l1_info_format(together, 1_012) == JOVIAN


def test_l1_info_deposit_on_an_activation_block_has_the_old_format():
    cfg = rollup_config(regolith=0, ecotone=0, isthmus=1_010)
    sys_cfg = SystemConfig(b"\x02" * 20, bytes(32), version1_scalar(3, 4), 1, operator_fee_params=bytes(31) + b"\x09")
    l1 = L1BlockInfo(b"\x01" * 32, 5, bytes(32), 100, base_fee=None)
    first = decode_l1_info(l1_info_deposit(cfg, sys_cfg, 1, l1, 1_010, MAINNET).data)
    assert first.format == ECOTONE and first.base_fee == 0 and first.blob_base_fee == 1
    later = decode_l1_info(l1_info_deposit(cfg, sys_cfg, 2, l1, 1_012, MAINNET).data)
    assert later.format == ISTHMUS and later.operator_fee_constant == 9 and later.sequence_number == 2


def test_jovian_da_footprint_default_400():
    cfg = rollup_config(regolith=0, jovian=0)
    l1 = L1BlockInfo(b"\x01" * 32, 5, bytes(32), 100)
    base = SystemConfig(b"\x02" * 20, bytes(32), version1_scalar(0, 1), 1)
    assert l1_info_data(cfg, base, 0, l1, 1_002, MAINNET).da_footprint_gas_scalar == 400
    custom = dataclasses.replace(base, da_footprint_gas_scalar=7)
    assert l1_info_data(cfg, custom, 0, l1, 1_002, MAINNET).da_footprint_gas_scalar == 7


# ------------------------------------------------------------------------------------------------ scalars


def test_ecotone_scalar_rules():
    assert ecotone_scalars(version1_scalar(810949, 1368)) == (810949, 1368)
    assert ecotone_scalars((684000).to_bytes(32, "big")) == (0, 684000)
    # version 0 with non-zero padding: base scalar is MaxUint32 (op-node; spec system-config.md)
    assert ecotone_scalars((1 << 32).to_bytes(32, "big")) == (0, MAX_U32)
    assert ecotone_scalars(bytes(1) + b"\x01" + bytes(30)) == (0, MAX_U32)
    for bad in (b"\x01" + b"\x01" + bytes(30), b"\x02" + bytes(31), b"\xff" * 32):
        assert not is_valid_ecotone_scalar(bad)
        with pytest.raises(InvalidScalarError):
            ecotone_scalars(bad)
    assert issubclass(InvalidScalarError, CriticalError)
    assert is_valid_ecotone_scalar(version1_scalar(1, 2)) and is_valid_ecotone_scalar(bytes(32))
    assert not is_valid_ecotone_scalar((1 << 32).to_bytes(32, "big"))


# ------------------------------------------------------------------------------------------------ blob base fee


def test_blob_base_fee_follows_the_l1_fork_at_the_origin_time():
    cfg = rollup_config(regolith=0, ecotone=0)
    sys_cfg = SystemConfig(b"\x02" * 20, bytes(32), version1_scalar(0, 1), 1)
    excess = 0x5080000
    prague_time = MAINNET.blob_schedule[1].time

    def fee(t, rollup=cfg, chain=MAINNET):
        l1 = L1BlockInfo(b"\x01" * 32, 5, bytes(32), t, excess_blob_gas=excess)
        return l1_info_data(rollup, sys_cfg, 0, l1, 1_002, chain).blob_base_fee

    assert fee(prague_time - 1) == fake_exponential(1, excess, CANCUN_UPDATE_FRACTION)
    assert fee(prague_time) == fake_exponential(1, excess, PRAGUE_UPDATE_FRACTION)
    assert fee(MAINNET.blob_schedule[3].time) == fake_exponential(1, excess, 11_684_671)
    # no excess_blob_gas in the header (pre-Cancun L1): 1
    l1 = L1BlockInfo(b"\x01" * 32, 5, bytes(32), 100)
    assert l1_info_data(cfg, sys_cfg, 0, l1, 1_002, MAINNET).blob_base_fee == 1


def test_pectra_blob_schedule_keeps_cancun_until_its_time():
    """kona test_try_new_ecotone_with_optional_prague_fee_fork: L1 Prague at 2, pectra_blob_schedule_time 2."""
    chain = L1ChainConfig.from_genesis_config({"chainId": 11155111, "cancunTime": 0, "pragueTime": 1})
    cfg = dataclasses.replace(rollup_config(regolith=0, ecotone=0), pectra_blob_schedule_time=2)
    assert blob_base_fee_update_fraction(cfg, chain, 1) == CANCUN_UPDATE_FRACTION  # Prague on L1, fix not active
    assert blob_base_fee_update_fraction(cfg, chain, 2) == PRAGUE_UPDATE_FRACTION
    plain = rollup_config(regolith=0, ecotone=0)
    assert blob_base_fee_update_fraction(plain, chain, 1) == PRAGUE_UPDATE_FRACTION


# ------------------------------------------------------------------------------------------------ decoding errors


def test_decode_rejects_wrong_selector_length_and_padding():
    good = from_hex(VEC["vectors"][0]["calldata"])  # bedrock
    eco = from_hex(VEC["vectors"][1]["calldata"])
    for bad, why in ((b"", "selector"), (b"\x01\x02\x03\x04" + good[4:], "selector"), (good[:-1], "260"),
                     (good + b"\x00", "260"), (eco[:-1], "164"),
                     (good[:4] + b"\x01" + good[5:], "padding"),  # number word
                     (good[:4 + 5 * 32] + b"\x01" + good[4 + 5 * 32 + 1:], "address"),  # batcher word
                     (eco[:132] + b"\x01" + eco[133:], "address")):
        with pytest.raises(L1InfoError, match=why):
            decode_l1_info(bad)


def test_encode_checks_ranges():
    info = decode_l1_info(from_hex(VEC["vectors"][1]["calldata"]))
    for field, value in (("base_fee_scalar", 1 << 32), ("sequence_number", 1 << 64), ("blob_base_fee", -1),
                         ("format", "granite")):
        with pytest.raises(L1InfoError):
            dataclasses.replace(info, **{field: value}).encode()


# ------------------------------------------------------------------------------------------------ system config


def _sys(fmt_cfg, info: L1InfoData, gas_limit=30_000_000, extra=b"", t=1_100):
    return system_config_from_l2_block(fmt_cfg, info.encode(), gas_limit, extra, t)


def test_system_config_from_bedrock_and_ecotone_blocks():
    v = VEC["vectors"]
    bedrock = decode_l1_info(from_hex(v[0]["calldata"]))
    sc = _sys(rollup_config(regolith=0), bedrock)
    assert sc.batcher_addr == bedrock.batcher_addr and sc.gas_limit == 30_000_000
    assert int.from_bytes(sc.overhead, "big") == 188 and int.from_bytes(sc.scalar, "big") == 684000
    assert sc.eip1559_params == bytes(8) and sc.operator_fee_params == bytes(32)
    eco = decode_l1_info(from_hex(v[1]["calldata"]))
    sc = _sys(rollup_config(regolith=0, ecotone=0), eco)
    assert sc.overhead == bytes(32) and sc.scalar == version1_scalar(810949, 1368)


def test_system_config_from_holocene_isthmus_jovian_blocks():
    isthmus = decode_l1_info(from_hex(VEC["vectors"][2]["calldata"]))
    cfg = rollup_config(regolith=0, holocene=0, isthmus=0)
    sc = _sys(cfg, isthmus, extra=b"\x00" + (250).to_bytes(4, "big") + (6).to_bytes(4, "big"))
    assert (sc.eip1559_denominator, sc.eip1559_elasticity) == (250, 6)
    assert (sc.operator_fee_scalar, sc.operator_fee_constant) == (43981, 56506)
    assert sc.min_base_fee == 0 and sc.da_footprint_gas_scalar == 0
    jovian = decode_l1_info(from_hex(VEC["vectors"][7]["calldata"]))
    assert jovian.format == JOVIAN
    extra = b"\x01" + (250).to_bytes(4, "big") + (6).to_bytes(4, "big") + (10**9).to_bytes(8, "big")
    sc = _sys(rollup_config(regolith=0, jovian=0), jovian, extra=extra)
    assert sc.min_base_fee == 10**9 and sc.da_footprint_gas_scalar == 57005 and sc.operator_fee_scalar == 20000


def test_system_config_on_activation_blocks():
    cfg = rollup_config(regolith=0, ecotone=0, holocene=0, isthmus=1_010)
    eco = decode_l1_info(from_hex(VEC["vectors"][1]["calldata"]))  # activation block carries Ecotone calldata
    extra = b"\x00" + (250).to_bytes(4, "big") + (6).to_bytes(4, "big")
    sc = system_config_from_l2_block(cfg, eco.encode(), 1, extra, 1_010)
    assert sc.operator_fee_params == bytes(32)
    with pytest.raises(L1InfoError, match="isthmus"):  # the next block must carry Isthmus calldata
        system_config_from_l2_block(cfg, eco.encode(), 1, extra, 1_012)


def test_system_config_genesis_block():
    cfg = rollup_config(regolith=0)
    assert system_config_from_l2_block(cfg, b"", 0, b"BEDROCK", cfg.genesis.l2_time) is cfg.genesis.system_config


@pytest.mark.parametrize("forks,extra,why", [
    (dict(), b"\x00", "empty before Holocene"),
    (dict(holocene=0), b"", "9 bytes"),
    (dict(holocene=0), b"\x01" + bytes(8), "version byte 0"),
    (dict(holocene=0), b"\x00" + bytes(4) + (6).to_bytes(4, "big"), "zero denominator"),
    (dict(jovian=0), b"\x00" + bytes(8), "17 bytes"),
    (dict(jovian=0), b"\x00" + bytes(16), "version byte 1"),
])
def test_system_config_rejects_bad_extra_data(forks, extra, why):
    cfg = rollup_config(regolith=0, **forks)
    fmt = l1_info_format(cfg, 1_100)
    info = L1InfoData(fmt, 1, 2, 3, b"\x04" * 32, 0, b"\x05" * 20, **(
        dict(l1_fee_overhead=0, l1_fee_scalar=0) if fmt == BEDROCK else dict(
            base_fee_scalar=0, blob_base_fee_scalar=0, blob_base_fee=1)), **(
        dict(operator_fee_scalar=0, operator_fee_constant=0) if fmt in (ISTHMUS, JOVIAN) else {}), **(
        dict(da_footprint_gas_scalar=400) if fmt == JOVIAN else {}))
    with pytest.raises(ExtraDataError, match=why):
        _sys(cfg, info, extra=extra)


# ------------------------------------------------------------------------------------------------ properties

u64 = st.integers(0, 2**64 - 1)
u32 = st.integers(0, 2**32 - 1)
u256 = st.integers(0, 2**256 - 1)
h32 = st.binary(min_size=32, max_size=32)
a20 = st.binary(min_size=20, max_size=20)


@st.composite
def infos(draw):
    fmt = draw(st.sampled_from([BEDROCK, ECOTONE, ISTHMUS, JOVIAN]))
    kw = dict(number=draw(u64), time=draw(u64), base_fee=draw(u256), block_hash=draw(h32),
              sequence_number=draw(u64), batcher_addr=draw(a20))
    if fmt == BEDROCK:
        kw.update(l1_fee_overhead=draw(u256), l1_fee_scalar=draw(u256))
    else:
        kw.update(base_fee_scalar=draw(u32), blob_base_fee_scalar=draw(u32), blob_base_fee=draw(u256))
    if fmt in (ISTHMUS, JOVIAN):
        kw.update(operator_fee_scalar=draw(u32), operator_fee_constant=draw(u64))
    if fmt == JOVIAN:
        kw.update(da_footprint_gas_scalar=draw(st.integers(0, 0xFFFF)))
    return L1InfoData(fmt, **kw)


@given(infos())
def test_round_trip_every_format(info):
    data = info.encode()
    assert len(data) == LENGTHS[info.format] and data[:4] == SELECTORS[info.format]
    assert decode_l1_info(data) == info


@settings(max_examples=400)
@given(info=infos(), pos=st.integers(0, 300), byte=st.integers(0, 255), cut=st.integers(0, 300),
       junk=st.binary(max_size=300))
def test_random_and_mutated_calldata_raise_only_parse_errors(info, pos, byte, cut, junk):
    data = bytearray(info.encode())
    data[pos % len(data)] = byte
    for candidate in (bytes(data), bytes(data[:cut]), junk, SELECTORS[info.format] + junk):
        try:
            decoded = decode_l1_info(candidate)
        except ParseError:
            continue
        assert decoded.encode() == candidate


@settings(max_examples=200)
@given(data=st.binary(max_size=200), extra=st.binary(max_size=20), fork=st.sampled_from(
    [dict(), dict(ecotone=0), dict(holocene=0), dict(isthmus=0), dict(jovian=0)]))
def test_system_config_from_random_blocks_raises_only_parse_errors(data, extra, fork):
    cfg = rollup_config(regolith=0, **fork)
    for calldata in (data, SELECTORS[l1_info_format(cfg, 1_100)] + data):
        try:
            system_config_from_l2_block(cfg, calldata, 30_000_000, extra, 1_100)
        except ParseError:
            pass
