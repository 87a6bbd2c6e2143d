"""Karst ("Osaka on L2") in the embedded engine: the activation block's 31 NUTs, the Osaka EVM changes as
op-acceptance-tests/tests/osaka_on_l2_test.go checks them, the EIP-7825 cap, the Engine API's V5 and eth_config.

The acceptance-test cases (gas figures, inputs, expectations) are from osaka_on_l2_test.go (okx/optimism main
7573e762, file last changed f0b2b80e, 2026-04-21); spec-vectors/osaka_on_l2.json keeps them with that provenance.
"""

from __future__ import annotations

import zlib

import pytest

from derivation.protocol.crypto import keccak256
from derivation.protocol.deposits import user_deposit_source_hash
from derivation.protocol.hexutil import from_hex, to_hex
from derivation.protocol.transactions import deposit
from engine.execution.chain import Chain
from engine.execution.engine_api import EngineAPI
from engine.execution.eth_api import EthAPI
from engine.execution.evm.block import BlockAttributes
from engine.execution.evm.call import call_message
from engine.execution.evm.outcome import InvalidTransaction
from engine.execution.evm.precompiles import osaka_modexp_gas
from engine.execution.op_genesis import IMPLEMENTATION_SLOT
from engine.execution.payload import UNSUPPORTED_FORK, RpcError, attributes_from_json
from engine.execution.server import engine_methods, eth_methods
from engine.execution.txpool import TxPool, TxPoolError
from opnode.testing.engine import (
    GENESIS_TIME,
    KARST_UPGRADE_GAS,
    SEQ_VAULT,
    addr,
    karst_genesis,
    karst_nut_deposits,
    key,
    l1_info,
    transfer,
)
from tests.vectors import load

T_KARST = GENESIS_TIME + 2
BASE_GAS_LIMIT = 30_000_000
MODEXP = bytes(19) + b"\x05"
P256 = bytes(18) + b"\x01\x00"
MAX_TX_GAS = 2**24


def _attrs(parent, gas_limit=BASE_GAS_LIMIT, dt=2):
    return BlockAttributes(parent.timestamp + dt, keccak256(parent.hash), SEQ_VAULT, gas_limit, keccak256(b"beacon"),
                           bytes(8), 0)


@pytest.fixture(scope="module")
def activated():
    """A chain through the Karst activation block (the 31 NUTs) and one Karst block after it."""
    c = Chain(karst_genesis(2))
    g = c.head
    act = c.build(g.hash, _attrs(g, BASE_GAS_LIMIT + KARST_UPGRADE_GAS), [l1_info(), *karst_nut_deposits()])
    c.set_forkchoice(act.hash)
    nxt = c.build(act.hash, _attrs(act.header), [l1_info(seq=1), transfer(key(0), 0, addr(1), 1)])
    c.set_forkchoice(nxt.hash)
    return c, g, act, nxt


# ---------------------------------------------------------------------------------------------------- NUTs


def test_karst_activation_block_runs_all_31_nuts_and_each_one_takes_effect(activated):
    c, _g, act, _ = activated
    nuts = karst_nut_deposits()
    assert len(nuts) == 31 and sum(t.gas for t in nuts) == KARST_UPGRADE_GAS
    assert all(r.receipt.status == 1 for r in act.results), [(i, r.error) for i, r in enumerate(act.results)]
    assert act.header.gas_limit == BASE_GAS_LIMIT + KARST_UPGRADE_GAS
    adb = c.account_db(act.header)

    def impl(n: int) -> bytes:
        return adb.get_storage(bytes.fromhex("42" + "00" * 17) + n.to_bytes(2, "big"),
                               IMPLEMENTATION_SLOT).to_bytes(32, "big")[12:]

    # NUT 1 and NUT 28 name the implementations they install (upgradeTo(address) calldata).
    assert impl(0x2C) == nuts[1].data[16:36] and adb.get_code(impl(0x2C))
    assert impl(0x18) == nuts[28].data[16:36] and adb.get_code(impl(0x18))
    # NUT 30 is upgradePredeploys(L2CM): the L2ContractsManager NUT 29 deployed exists and ran - every predeploy
    # it upgrades left its genesis implementation (0xc0d3…) for a new one with code.
    l2cm = nuts[30].data[16:36]
    assert nuts[30].data[:4] == bytes.fromhex("7c36f37e") and adb.get_code(l2cm)
    for n in (0x07, 0x0F, 0x10, 0x11, 0x12, 0x14, 0x15, 0x16, 0x17, 0x19, 0x1A, 0x1B, 0x20, 0x21, 0x2D):
        new = impl(n)
        assert adb.get_code(new) and not new.startswith(bytes.fromhex("c0d3c0d3")), hex(n)


def test_activation_block_imports_on_a_second_engine_and_the_gas_limit_drops_back(activated):
    from engine.execution.payload import envelope_of

    c, g, act, nxt = activated
    other = Chain(karst_genesis(2))
    for b in (act, nxt):
        p = envelope_of(other.spec, b.header, [t.raw for t in b.transactions], True)
        assert other.import_payload(p).hash == b.hash
    # The block after the activation block drops back to 30M; its base fee uses the parent's (inflated) limit:
    # target = parent.gasLimit / elasticity, denominator 250 (Canyon constants from the parent's extraData).
    parent = act.header
    target = parent.gas_limit // 6
    assert parent.gas_used > target  # the NUTs used more than the inflated limit's target: the fee rises
    want = parent.base_fee + max(1, (parent.gas_used - target) * parent.base_fee // target // 250)
    assert nxt.header.gas_limit == BASE_GAS_LIMIT and nxt.header.base_fee == want


def test_user_transaction_in_the_activation_block_is_refused():
    c = Chain(karst_genesis(2))
    g = c.head
    with pytest.raises(InvalidTransaction, match="non-deposit transactions in fork activation block"):
        c.build(g.hash, _attrs(g, BASE_GAS_LIMIT + KARST_UPGRADE_GAS),
                [l1_info(), *karst_nut_deposits(), transfer(key(0), 0, addr(1), 1)])
    # the pool is not consulted on an activation block: a pending transfer stays out, the block still builds
    s = c.build(g.hash, _attrs(g, BASE_GAS_LIMIT + KARST_UPGRADE_GAS), [l1_info(), *karst_nut_deposits()],
                pool_txs=[transfer(key(0), 0, addr(1), 1)])
    assert len(s.transactions) == 32


# ---------------------------------------------------------------------------------------------------- Osaka EVM


def _call(c, header, to, data=b"", gas=1_000_000):
    return call_message(c.spec, c.store.state_db, header, addr(0), to, 0, data, gas)


def _modexp_input(base: bytes, exp: bytes, mod: bytes) -> bytes:
    return b"".join(len(x).to_bytes(32, "big") for x in (base, exp, mod)) + base + exp + mod


def test_eip7823_modexp_operand_bound(activated):
    c, g, _act, nxt = activated
    v = load("osaka_on_l2.json")["TestEIP7823UpperBoundModExp"]
    oversize = bytearray(v["modulus_len"])
    oversize[-1] = 5
    data = _modexp_input(b"\x02", b"\x03", bytes(oversize))
    pre = _call(c, g, MODEXP, data, 10_000_000)
    assert pre.success and len(pre.output) == v["modulus_len"]
    post = _call(c, nxt.header, MODEXP, data, 10_000_000)
    assert not post.success and post.output == b""
    ok = _call(c, nxt.header, MODEXP, _modexp_input(b"\x02", b"\x03", b"\x05"))
    assert ok.success and ok.output == bytes([v["small_result"]])


def test_eip7883_modexp_floor(activated):
    c, g, _act, nxt = activated
    v = load("osaka_on_l2.json")["TestEIP7883ModExpGasCostIncrease"]
    assert _call(c, g, MODEXP, gas=v["pre_ok_gas"]).success
    assert not _call(c, nxt.header, MODEXP, gas=v["pre_ok_gas"]).success
    assert _call(c, nxt.header, MODEXP, gas=v["post_ok_gas"]).success


def test_eip7883_pricing_matches_go_ethereum_vectors():
    """go-ethereum core/vm/testdata/precompiles/modexp_eip7883.json: gas and output of every case."""
    from engine.execution.evm.precompiles import osaka_modexp

    class _Comp:
        def __init__(self, data):
            self.msg = type("M", (), {"data": data})()
            self.gas = 0
            self.output = b""

        def consume_gas(self, n, reason):
            self.gas += n

    cases = load("modexp_eip7883.json")["cases"]
    assert len(cases) >= 29
    for case in cases:
        data = bytes.fromhex(case["Input"])
        assert osaka_modexp_gas(data) == case["Gas"], case["Name"]
        comp = _Comp(data)
        osaka_modexp(comp)
        assert comp.output.hex() == case["Expected"], case["Name"]


def test_eip7951_p256verify_costs_6900(activated):
    c, g, _act, nxt = activated
    v = load("osaka_on_l2.json")["TestEIP7951P256VerifyGasCostIncrease"]
    assert _call(c, g, P256, gas=v["pre_ok_gas"]).success
    assert not _call(c, nxt.header, P256, gas=v["pre_ok_gas"]).success
    assert _call(c, nxt.header, P256, gas=v["post_ok_gas"]).success


def test_eip7939_clz(activated):
    c, g, _act, nxt = activated
    v = load("osaka_on_l2.json")["TestEIP7939CLZ"]
    code = bytes.fromhex(v["init_code"])
    assert not _call(c, g, None, code).success  # 0x1e is an invalid opcode before Karst
    r = _call(c, nxt.header, None, code)
    assert r.success and r.output == (v["result"]).to_bytes(32, "big")
    zero = bytes.fromhex("6000" "1e" "60005260206000f3")  # CLZ(0)
    assert _call(c, nxt.header, None, zero).output == (256).to_bytes(32, "big")


def test_bn256_pairing_limit_is_57600_from_karst(activated):
    c, g, _act, nxt = activated
    pairing = bytes(19) + b"\x08"
    data = bytes(57_600 + 192)  # 301 pairs: below Jovian's 81,984, above Karst's 57,600
    assert _call(c, g, pairing, data, 20_000_000).success
    assert not _call(c, nxt.header, pairing, data, 20_000_000).success
    assert _call(c, nxt.header, pairing, bytes(57_600), 20_000_000).success


# ---------------------------------------------------------------------------------------------------- EIP-7825


def test_eip7825_cap_for_user_transactions_not_deposits():
    c = Chain(karst_genesis(0))
    g = c.head
    at_cap = transfer(key(0), 0, addr(1), 1, gas=MAX_TX_GAS)
    s = c.build(g.hash, _attrs(g, 60_000_000), [l1_info(), at_cap])
    assert s.results[1].receipt.status == 1
    over = transfer(key(0), 1, addr(1), 1, gas=MAX_TX_GAS + 1)
    with pytest.raises(InvalidTransaction, match="EIP-7825"):
        c.build(s.hash, _attrs(s.header, 60_000_000), [l1_info(seq=1), over])
    # a deposit above the cap is included and succeeds (TestEIP7825DepositBypassesTxGasLimitCap)
    dep = deposit(user_deposit_source_hash(keccak256(b"l1 block"), 0), addr(2), addr(2), 10**16, 10**16,
                  MAX_TX_GAS + 1, False, b"")
    s2 = c.build(s.hash, _attrs(s.header, 60_000_000), [l1_info(seq=1), dep])
    assert s2.results[1].receipt.status == 1
    # before Karst the same transaction is fine
    pre = Chain(karst_genesis(2))
    s3 = pre.build(pre.head.hash, _attrs(pre.head, 60_000_000, dt=1), [l1_info(), transfer(key(0), 0, addr(1), 1,
                                                                                          gas=MAX_TX_GAS + 1)])
    assert s3.results[1].receipt.status == 1


def test_eip7825_cap_in_the_txpool():
    pool = TxPool(901)
    nonce = lambda _a: 0  # noqa: E731
    pool.add(transfer(key(0), 0, addr(1), 1, gas=MAX_TX_GAS + 1).raw, nonce, karst=False)
    pool.add(transfer(key(1), 0, addr(1), 1, gas=MAX_TX_GAS).raw, nonce, karst=True)
    with pytest.raises(TxPoolError, match="EIP-7825"):
        pool.add(transfer(key(2), 0, addr(1), 1, gas=MAX_TX_GAS + 1).raw, nonce, karst=True)


def test_eip7934_block_size_cap_is_not_enforced():
    """osaka-on-l2.md: the 8 MiB RLP block cap of EIP-7934 is not adopted on L2."""
    c = Chain(karst_genesis(0))
    g = c.head
    big = deposit(user_deposit_source_hash(keccak256(b"big"), 0), addr(2), addr(3), 0, 0, 100_000_000, False,
                  bytes(9 * 1024 * 1024))
    s = c.build(g.hash, _attrs(g, 120_000_000), [l1_info(), big])
    assert s.results[1].receipt.status == 1 and sum(len(t.raw) for t in s.transactions) > 8 * 1024 * 1024


# ---------------------------------------------------------------------------------------------------- Engine API


def _fcu_attrs(parent, txs, gas_limit=BASE_GAS_LIMIT):
    return {"timestamp": hex(parent.timestamp + 2), "prevRandao": to_hex(keccak256(b"r")),
            "suggestedFeeRecipient": to_hex(SEQ_VAULT), "transactions": [to_hex(t.raw) for t in txs],
            "noTxPool": True, "gasLimit": hex(gas_limit), "eip1559Params": "0x" + "00" * 8, "minBaseFee": "0x0",
            "withdrawals": [], "parentBeaconBlockRoot": to_hex(keccak256(b"beacon"))}


def _fcs(head: bytes) -> dict:
    z = "0x" + "00" * 32
    return {"headBlockHash": to_hex(head), "safeBlockHash": z, "finalizedBlockHash": z}


def test_get_payload_v5_serves_karst_and_v4_refuses_it():
    api = EngineAPI(Chain(karst_genesis(2)))
    assert "engine_getPayloadV5" in api.exchange_capabilities()
    assert "engine_getPayloadV5" in engine_methods(api)
    g = api.chain.head
    res = api.forkchoice_updated(3, _fcs(g.hash), _fcu_attrs(g, [l1_info(), *karst_nut_deposits()],
                                                              BASE_GAS_LIMIT + KARST_UPGRADE_GAS))
    pid = res["payloadId"]
    with pytest.raises(RpcError) as e:
        api.get_payload(4, pid)
    assert e.value.code == UNSUPPORTED_FORK
    env = api.get_payload(5, pid)
    # V5 carries the same OP envelope as V4 (op-reth: ExecutionPayloadEnvelopeV5 = OpExecutionPayloadEnvelopeV4)
    assert set(env) == {"executionPayload", "blockValue", "blobsBundle", "shouldOverrideBuilder",
                        "parentBeaconBlockRoot", "executionRequests"}
    assert "withdrawalsRoot" in env["executionPayload"]
    st = api.new_payload(4, env["executionPayload"], [], env["parentBeaconBlockRoot"], [])
    assert st["status"] == "VALID"
    # a Jovian payload is not served by V5
    jov = EngineAPI(Chain(karst_genesis(4)))
    g2 = jov.chain.head
    pid2 = jov.forkchoice_updated(3, _fcs(g2.hash), _fcu_attrs(g2, [l1_info()]))["payloadId"]
    with pytest.raises(RpcError) as e:
        jov.get_payload(5, pid2)
    assert e.value.code == UNSUPPORTED_FORK
    assert jov.get_payload(4, pid2)["executionPayload"]


def test_new_payload_recomputes_the_hash_of_a_known_block():
    """A payload whose blockHash names a known block but whose fields were altered is INVALID (op-geth
    ExecutableDataToBlock runs before the known-block shortcut); the known block itself stays VALID."""
    api = EngineAPI(Chain(karst_genesis(2)))
    g = api.chain.head
    pid = api.forkchoice_updated(3, _fcs(g.hash), _fcu_attrs(g, [l1_info(), *karst_nut_deposits()],
                                                              BASE_GAS_LIMIT + KARST_UPGRADE_GAS))["payloadId"]
    env = api.get_payload(5, pid)
    p, beacon = env["executionPayload"], env["parentBeaconBlockRoot"]
    assert api.new_payload(4, p, [], beacon, [])["status"] == "VALID"
    tampered = dict(p, stateRoot=to_hex(keccak256(b"tampered")))
    st = api.new_payload(4, tampered, [], beacon, [])
    assert st["status"] == "INVALID" and "blockhash mismatch" in st["validationError"]
    assert st["latestValidHash"] is None
    assert api.new_payload(4, p, [], beacon, [])["status"] == "VALID"


def test_forced_transactions_over_the_da_footprint_limit_fail_the_build():
    """op-geth miner: forced txs whose DA footprint exceeds the gas limit fail the build
    (TestMinerJovianDAFootprintBlockLimit/jovian-forced-txs-exceed-limit); one fewer builds."""
    api = EngineAPI(Chain(karst_genesis(4)))
    g = api.chain.head
    # the largest DA footprint scalar makes a minimum-size tx cost 100 * 65,535 = 6,553,500 of the DA limit
    info = l1_info(da_scalar=65_535)
    txs = [transfer(key(0), i, addr(1), 1) for i in range(5)]
    with pytest.raises(RpcError) as e:
        api.forkchoice_updated(3, _fcs(g.hash), _fcu_attrs(g, [info, *txs]))
    assert e.value.code == -38003 and "DA footprint" in e.value.message
    res = api.forkchoice_updated(3, _fcs(g.hash), _fcu_attrs(g, [info, *txs[:4]]))
    assert res["payloadStatus"]["status"] == "VALID" and res["payloadId"]


# ---------------------------------------------------------------------------------------------------- eth_config


def test_eth_config_reports_current_next_and_last(activated):
    c = Chain(karst_genesis(2))
    x = EthAPI(c, TxPool(901), None)
    assert eth_methods(x)["eth_config"].fn == x.config
    cfg = x.config()
    cur, nxt, last = cfg["current"], cfg["next"], cfg["last"]
    assert cur["activationTime"] == 0 and nxt["activationTime"] == T_KARST and last == nxt
    assert cur["chainId"] == "0x385" and cur["blobSchedule"] is None
    # EIP-2124: no fork after genesis yet -> CRC-32 of the genesis hash; Karst's adds its time
    assert from_hex(cur["forkId"]) == zlib.crc32(c.genesis_hash).to_bytes(4, "big")
    assert from_hex(nxt["forkId"]) == zlib.crc32(T_KARST.to_bytes(8, "big"), zlib.crc32(c.genesis_hash)).to_bytes(4, "big")
    assert nxt["precompiles"]["P256VERIFY"] == "0x" + "00" * 18 + "0100"
    assert nxt["systemContracts"] == {"BEACON_ROOTS_ADDRESS": "0x000f3df6d732807ef1319fb7b8bb8522d0beac02",
                                      "HISTORY_STORAGE_ADDRESS": "0x0000f90827f1c53a10cb7a02335b175320002935"}
    after = activated[0]
    cfg2 = EthAPI(after, TxPool(901), None).config()
    assert cfg2["current"]["activationTime"] == T_KARST and cfg2["next"] is None and cfg2["last"] is None


def test_attributes_may_carry_the_jovian_fields_on_karst():
    a = attributes_from_json(_fcu_attrs(Chain(karst_genesis(0)).head, [l1_info()]))
    assert a.min_base_fee == 0 and a.gas_limit == BASE_GAS_LIMIT


def test_estimate_gas_searches_below_the_eip7825_cap(activated):
    c, _g, _act, _nxt = activated
    x = EthAPI(c, TxPool(901), None)
    # a loop that burns all the gas it gets: the estimate cannot be found below the cap, and says so
    burn = bytes.fromhex("5b600056")  # JUMPDEST PUSH1 0 JUMP
    with pytest.raises(RpcError, match=str(MAX_TX_GAS)):
        x.estimate_gas({"from": to_hex(addr(0)), "data": to_hex(burn), "gas": hex(40_000_000)})
    assert int(x.estimate_gas({"from": to_hex(addr(0)), "to": to_hex(addr(1)), "value": "0x1"}), 16) == 21_000
