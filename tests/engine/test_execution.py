"""OP Stack execution rules of the embedded engine: real live-chain blocks, fees, deposits, predeploys, fork rules."""

from __future__ import annotations

import copy

import pytest
from eth.db.atomic import AtomicDB
from eth.db.backends.memory import MemoryDB

from derivation.protocol.crypto import keccak256
from derivation.protocol.deposits import user_deposit_source_hash
from derivation.protocol.hexutil import from_hex
from derivation.protocol.rollup_config import Fork
from derivation.protocol.transactions import BLOB, LEGACY, SET_CODE, Transaction, decode, deposit
from derivation.protocol.trie import EMPTY_TRIE_ROOT as EMPTY_ROOT
from derivation.protocol.tx_json import tx_from_json
from engine.execution.chain import Chain
from engine.execution.chain_spec import ChainSpec
from engine.execution.evm.block import BlockAttributes, BlockBuilder
from engine.execution.evm.fastlz import flz_compress_len
from engine.execution.evm.fees import CostData, L1FeeParams, da_footprint, fjord_l1_cost
from engine.execution.evm.header import Header
from engine.execution.evm.outcome import InvalidTransaction
from engine.execution.evm.precompiles import p256_verify_ok
from engine.execution.genesis import Account, artifact_code, contract_artifacts
from engine.execution.op_genesis import build_op_genesis
from opnode.testing.engine import (
    GENESIS_TIME,
    L1_BLOCK,
    addr,
    attrs,
    dev_chain,
    genesis,
    key,
    l1_info,
    sign,
    transfer,
)
from tests.vectors import load

BASE_FEE_VAULT = bytes.fromhex("4200000000000000000000000000000000000019")
L1_FEE_VAULT = bytes.fromhex("420000000000000000000000000000000000001a")
OPERATOR_FEE_VAULT = bytes.fromhex("420000000000000000000000000000000000001b")
SEQ_VAULT = bytes.fromhex("4200000000000000000000000000000000000011")
MESSAGE_PASSER = bytes.fromhex("4200000000000000000000000000000000000016")
# Test contract: stores CALLVALUE in slot 0 and CALLER in slot 1, emits LOG0, stops.
RECORDER = bytes.fromhex("34600055336001556000 6000a000".replace(" ", ""))
RECORDER_ADDR = bytes.fromhex("00000000000000000000000000000000000c0de1")
REVERTER_ADDR = bytes.fromhex("00000000000000000000000000000000000c0de2")


def _chain_with_contracts() -> Chain:
    g = copy.deepcopy(genesis())
    g.alloc[RECORDER_ADDR] = Account(code=RECORDER)
    g.alloc[REVERTER_ADDR] = Account(code=bytes.fromhex("60006000fd"))
    return Chain(g)


def _hdr(j: dict) -> Header:
    def q(k):
        return None if j.get(k) is None else int(j[k], 16)

    def b(k):
        return None if j.get(k) is None else from_hex(j[k])

    return Header(parent_hash=b("parentHash"), ommers_hash=b("sha3Uncles"), coinbase=b("miner"),
                  state_root=b("stateRoot"), transactions_root=b("transactionsRoot"), receipts_root=b("receiptsRoot"),
                  logs_bloom=b("logsBloom"), difficulty=q("difficulty"), number=q("number"), gas_limit=q("gasLimit"),
                  gas_used=q("gasUsed"), timestamp=q("timestamp"), extra_data=b("extraData"), mix_hash=b("mixHash"),
                  nonce=b("nonce"), base_fee=q("baseFeePerGas"), withdrawals_root=b("withdrawalsRoot"),
                  blob_gas_used=q("blobGasUsed"), excess_blob_gas=q("excessBlobGas"),
                  parent_beacon_root=b("parentBeaconBlockRoot"))


# ---------------------------------------------------------------------------------------------------- live chain


@pytest.mark.parametrize("block", load("engine_op_sepolia_blocks.json")["blocks"], ids=lambda b: str(b["number"]))
def test_real_op_sepolia_block_is_rebuilt_to_its_hash(block):
    times = {Fork.parse(k[:-5]): v for k, v in block["fork_times"].items()}
    op = block["chain_op_config"]
    spec = ChainSpec(block["l2_chain_id"], times, op["eip1559Elasticity"], op["eip1559Denominator"],
                     op["eip1559DenominatorCanyon"])
    witness = {}
    for w in block["witness"]:
        v = from_hex(w)
        witness[keccak256(v)] = v
    parent = _hdr(block["parent_header"])
    assert parent.hash in witness or parent.number > 0
    a = block["payload_attributes"]

    def ancestors(h=parent):
        for _ in range(256):
            yield h.hash
            raw = witness.get(h.parent_hash)
            if raw is None:
                return
            h = Header.decode(raw)

    attrs_ = BlockAttributes(timestamp=int(a["timestamp"], 16), prev_randao=from_hex(a["prevRandao"]),
                             fee_recipient=from_hex(a["suggestedFeeRecipient"]), gas_limit=int(a["gasLimit"], 16),
                             parent_beacon_root=from_hex(a["parentBeaconBlockRoot"]),
                             eip1559_params=from_hex(a["eip1559Params"]))
    b = BlockBuilder(spec, AtomicDB(MemoryDB(witness)), parent, attrs_, ancestors())
    for raw in a["transactions"]:
        b.apply(decode(from_hex(raw)))
    sealed = b.seal()
    assert "0x" + sealed.header.hash.hex() == block["expected_block_hash"]


# ---------------------------------------------------------------------------------------------------- fee formulas


def test_fastlz_lengths_match_op_geth():
    v = load("engine_l1_cost.json")
    empty_tx = Transaction(LEGACY, nonce=0, gas_price=0, gas=0, to=from_hex(v["empty_tx"]["to"]), value=0, data=b"")
    empty_tx.encode()
    for case in v["flz_compress_len"]:
        if "input_repeat" in case:
            data = bytes.fromhex(case["input_repeat"][0]) * case["input_repeat"][1]
        elif case["input"] == "empty_tx":
            data = empty_tx.raw
        else:
            data = from_hex(case["input"])
        assert flz_compress_len(data) == case["expected"]


def test_l1_cost_functions_match_op_geth():
    v = load("engine_l1_cost.json")
    p = v["params"]
    empty_tx = Transaction(LEGACY, nonce=0, gas_price=0, gas=0, to=from_hex(v["empty_tx"]["to"]), value=0, data=b"")
    cd = CostData.of(empty_tx.encode())
    exp = v["empty_tx_costs"]
    bedrock = dict(l1_base_fee=p["base_fee"], overhead=p["overhead"], scalar=p["scalar"])
    assert L1FeeParams("bedrock", regolith=False, **bedrock).l1_cost(cd) == exp["bedrock"]
    assert L1FeeParams("bedrock", regolith=True, **bedrock).l1_cost(cd) == exp["regolith"]
    eco = dict(l1_base_fee=p["base_fee"], blob_base_fee=p["blob_base_fee"], base_fee_scalar=p["base_fee_scalar"],
               blob_base_fee_scalar=p["blob_base_fee_scalar"])
    assert L1FeeParams("ecotone", **eco).l1_cost(cd) == exp["ecotone"]
    gas = v["empty_tx_l1_gas_used"]
    assert L1FeeParams("bedrock", regolith=False, **bedrock).l1_gas_used(cd) == gas["bedrock"]
    assert L1FeeParams("bedrock", regolith=True, **bedrock).l1_gas_used(cd) == gas["regolith"]
    assert L1FeeParams("ecotone", **eco).l1_gas_used(cd) == gas["ecotone"]
    assert L1FeeParams("fjord", **eco).l1_gas_used(CostData(0, 0, 100)) == gas["fjord_minimum"]
    for size in v["fjord_min_bound_fastlz_sizes"]:
        assert L1FeeParams("fjord", **eco).l1_cost(CostData(0, 0, size)) == exp["fjord"]
    s = v["fjord_solidity_parity"]
    assert fjord_l1_cost(s["fastlz_size"], s["l1_base_fee"], s["blob_base_fee"], s["base_fee_scalar"],
                         s["blob_base_fee_scalar"]) == s["expected_fee"]


def test_p256verify_matches_op_geth_cases():
    cases = load("engine_p256verify.json")["cases"]
    assert len(cases) > 700
    for c in cases:
        got = p256_verify_ok(bytes.fromhex(c["input"]))
        assert got == (c["expected"] == "0" * 63 + "1"), c["name"]
        assert c["gas"] == 3450


# ---------------------------------------------------------------------------------------------------- genesis


def test_genesis_predeploys_are_the_published_contracts():
    """A Jovian genesis holds contracts-bedrock's published predeploys (a Karst genesis runs the NUT bundle, which
    replaces several implementations: tests/engine/test_karst.py checks those)."""
    g = build_op_genesis(901, GENESIS_TIME, {Fork.JOVIAN: 0}, funded={addr(0): 10**22})
    h = g.header()
    adb = Chain(g).account_db(h)
    proxy = artifact_code("Proxy")
    for n in (0x0F, 0x11, 0x15, 0x16, 0x19, 0x1A, 0x1B):
        a = bytes.fromhex("42" + "00" * 18) + bytes([n])
        assert adb.get_code(a) == proxy
    impl = adb.get_storage(MESSAGE_PASSER, int("360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc", 16))
    assert adb.get_code(impl.to_bytes(20, "big")) == artifact_code("L2ToL1MessagePasser")
    # Fee vaults: deployed by their creation code; equal to the published runtime except at the immutables.
    art = contract_artifacts()["SequencerFeeVault"]
    impl = adb.get_storage(SEQ_VAULT, int("360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc", 16))
    code = bytearray(adb.get_code(impl.to_bytes(20, "big")))
    for refs in art["runtime_immutables"].values():
        for r in refs:
            code[r["start"]:r["start"] + r["length"]] = bytes(r["length"])
    assert bytes(code) == from_hex(art["runtime_code"])
    # Every fork through Jovian ran its upgrade deposits: L1Block points at the Jovian implementation.
    l1_impl = adb.get_storage(L1_BLOCK, int("360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc", 16))
    assert l1_impl.to_bytes(20, "big") == bytes.fromhex("3Ba4007f5C922FBb33C454B41ea7a1f11E83df2C")
    assert keccak256(adb.get_code(bytes.fromhex("13b0d85ccb8bf860b6b79af3029fca081ae9bef2"))).hex().startswith(
        "b0550b5b431e30d3")
    assert h.extra_data == bytes([1]) + (250).to_bytes(4, "big") + (6).to_bytes(4, "big") + bytes(8)
    # Isthmus at genesis: withdrawalsRoot is the message passer's storage root (its proxy slots), requestsHash set.
    assert h.withdrawals_root == Chain(g).withdrawals_storage_root(h) != EMPTY_ROOT
    assert h.requests_hash == bytes.fromhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")


def test_genesis_json_round_trips_to_the_same_hash():
    from engine.execution.genesis import Genesis

    g = genesis()
    assert Genesis.from_json(g.to_json()).header().hash == g.header().hash


# ---------------------------------------------------------------------------------------------------- deposits & fees


def test_l1block_storage_layout_matches_the_deployed_contract():
    c = dev_chain()
    g = c.head
    s = c.build(g.hash, attrs(g), [l1_info(op_scalar=7, op_const=11, da_scalar=500, base_scalar=1368,
                                           blob_scalar=810_949, base_fee=5, blob_base_fee=9),
                                   transfer(key(0), 0, addr(1), 1)])
    p = s.results[1].extra
    assert (p["operatorFeeScalar"], p["operatorFeeConstant"], p["daFootprintGasScalar"]) == (7, 11, 500)
    assert (p["l1BaseFeeScalar"], p["l1BlobBaseFeeScalar"], p["l1BaseFee"], p["l1BlobBaseFee"]) == (1368, 810_949, 5, 9)


def test_minting_deposit_calls_a_contract():
    c = _chain_with_contracts()
    g = c.head
    sender = bytes.fromhex("00000000000000000000000000000000000d0001")
    dep = deposit(user_deposit_source_hash(keccak256(b"l1"), 0), sender, RECORDER_ADDR, mint=10**18, value=3 * 10**17,
                  gas=100_000, is_system_tx=False, data=b"")
    s = c.build(g.hash, attrs(g), [l1_info(), dep])
    r = s.results[1]
    assert r.receipt.status == 1 and r.receipt.deposit_nonce == 0 and r.receipt.deposit_receipt_version == 1
    assert len(r.receipt.logs) == 1 and r.receipt.logs[0].address == RECORDER_ADDR
    adb = c.account_db(s.header)
    assert adb.get_storage(RECORDER_ADDR, 0) == 3 * 10**17
    assert adb.get_storage(RECORDER_ADDR, 1) == int.from_bytes(sender, "big")
    assert adb.get_balance(sender) == 7 * 10**17 and adb.get_balance(RECORDER_ADDR) == 3 * 10**17
    assert adb.get_nonce(sender) == 1
    # No fee for deposits: gas used is metered, but nothing reaches the vaults.
    assert 21_000 < r.gas_used < 100_000
    assert adb.get_balance(BASE_FEE_VAULT) == 0


def test_failing_deposit_keeps_the_mint_and_bumps_the_nonce():
    c = _chain_with_contracts()
    g = c.head
    sender = bytes.fromhex("00000000000000000000000000000000000d0002")
    # value > balance after mint: a non-EVM failure, recorded as failed with all its gas used.
    bad = deposit(user_deposit_source_hash(keccak256(b"l1"), 1), sender, RECORDER_ADDR, mint=5, value=10,
                  gas=80_000, is_system_tx=False, data=b"")
    reverting = deposit(user_deposit_source_hash(keccak256(b"l1"), 2), sender, REVERTER_ADDR, mint=7, value=0,
                        gas=90_000, is_system_tx=False, data=b"")
    s = c.build(g.hash, attrs(g), [l1_info(), bad, reverting])
    r1, r2 = s.results[1], s.results[2]
    assert r1.receipt.status == 0 and r1.gas_used == 80_000 and "insufficient funds" in r1.error
    assert r2.receipt.status == 0 and r2.gas_used < 90_000  # an EVM revert reports real gas (Regolith)
    assert (r1.receipt.deposit_nonce, r2.receipt.deposit_nonce) == (0, 1)
    adb = c.account_db(s.header)
    assert adb.get_balance(sender) == 12 and adb.get_nonce(sender) == 2
    assert adb.get_balance(RECORDER_ADDR) == 0


def test_isthmus_deposits_are_held_to_the_eip7623_floor():
    """op-geth stateTransition.execute / op-revm (revm's validate_initial_tx_gas and eip7623_check_gas_floor, not
    overridden for deposits): below the floor the deposit fails with all its gas used, the mint kept and the nonce
    bumped; above it, the gas it reports is raised to the floor. Before Isthmus no floor applies."""
    data = bytes(range(1, 201))  # 200 non-zero bytes: intrinsic 21,000 + 3,200; floor 21,000 + 8,000
    intrinsic, floor = 21_000 + 16 * 200, 21_000 + 10 * 4 * 200
    sender = bytes.fromhex("00000000000000000000000000000000000d0003")

    def dep(i, gas):
        return deposit(user_deposit_source_hash(keccak256(b"floor"), i), sender, addr(5), mint=1000, value=0, gas=gas,
                       is_system_tx=False, data=data)

    c = _chain_with_contracts()  # Jovian (so Isthmus) at genesis
    g = c.head
    s = c.build(g.hash, attrs(g), [l1_info(), dep(0, floor - 1), dep(1, floor + 5_000)])
    below, above = s.results[1], s.results[2]
    assert below.receipt.status == 0 and below.gas_used == floor - 1 and "floor data gas" in below.error
    assert above.receipt.status == 1 and above.gas_used == floor > intrinsic
    adb = c.account_db(s.header)
    assert adb.get_balance(sender) == 2000 and adb.get_nonce(sender) == 2
    pre = Chain(build_op_genesis(901, GENESIS_TIME, {Fork.HOLOCENE: 0}, funded={}))
    s2 = pre.build(pre.head.hash, attrs(pre.head), [l1_info(fmt="ecotone"), dep(0, floor - 1)])
    assert s2.results[1].receipt.status == 1 and s2.results[1].gas_used == intrinsic


def test_user_tx_fees_reach_the_vaults_and_l1_fee_follows_the_fjord_formula():
    c = dev_chain()
    g = c.head
    before = c.account_db(g)
    tx = transfer(key(2), 0, addr(3), 10**15, tip=2 * 10**6, max_fee=10**10)
    info = l1_info(base_fee=9 * 10**9, blob_base_fee=17, base_scalar=2000, blob_scalar=700_000, op_scalar=3,
                   op_const=1000)
    s = c.build(g.hash, attrs(g), [info, tx])
    r = s.results[1]
    base_fee = s.header.base_fee
    size = flz_compress_len(tx.raw)
    est = max(100 * 10**6, -42_585_600 + 836_500 * size)
    want_l1 = est * (2000 * 9 * 10**9 * 16 + 700_000 * 17) // 10**12
    assert r.l1_fee == want_l1 > 0
    assert r.extra["l1GasUsed"] == est * 16 // 10**6
    op_fee = 21_000 * 3 * 100 + 1000  # Jovian operator fee formula
    after = c.account_db(s.header)
    assert after.get_balance(SEQ_VAULT) - before.get_balance(SEQ_VAULT) == 21_000 * 2 * 10**6
    assert after.get_balance(BASE_FEE_VAULT) - before.get_balance(BASE_FEE_VAULT) == 21_000 * base_fee
    assert after.get_balance(L1_FEE_VAULT) - before.get_balance(L1_FEE_VAULT) == want_l1
    assert after.get_balance(OPERATOR_FEE_VAULT) - before.get_balance(OPERATOR_FEE_VAULT) == op_fee
    spent = before.get_balance(addr(2)) - after.get_balance(addr(2))
    assert spent == 10**15 + 21_000 * (base_fee + 2 * 10**6) + want_l1 + op_fee
    assert s.header.blob_gas_used == da_footprint(size, 400)


def test_isthmus_withdrawals_root_is_the_message_passer_storage_root():
    c = dev_chain()
    g = c.head
    target = bytes(19) + b"\x99"
    data = (bytes.fromhex("c2b3e5ac") + bytes(12) + target + (100_000).to_bytes(32, "big") + (96).to_bytes(32, "big")
            + (0).to_bytes(32, "big"))
    tx = transfer(key(4), 0, MESSAGE_PASSER, 12345, gas=200_000, data=data)
    s = c.build(g.hash, attrs(g), [l1_info(), tx])
    assert s.results[1].receipt.status == 1 and len(s.results[1].receipt.logs) == 1
    root = c.withdrawals_storage_root(s.header)
    assert s.header.withdrawals_root == root != g.withdrawals_root


def test_beacon_root_and_history_system_contracts_record_the_block():
    c = dev_chain()
    g = c.head
    a = attrs(g)
    s = c.build(g.hash, a, [l1_info()])
    adb = c.account_db(s.header)
    beacon = bytes.fromhex("000f3df6d732807ef1319fb7b8bb8522d0beac02")
    assert adb.get_storage(beacon, a.timestamp % 8191 + 8191) == int.from_bytes(a.parent_beacon_root, "big")
    history = bytes.fromhex("0000f90827f1c53a10cb7a02335b175320002935")
    assert adb.get_storage(history, 0) == int.from_bytes(g.hash, "big")


# ---------------------------------------------------------------------------------------------------- fork rules


def test_holocene_extra_data_and_jovian_min_base_fee():
    c = dev_chain()
    g = c.head
    s1 = c.build(g.hash, attrs(g, eip1559=(100).to_bytes(4, "big") + (4).to_bytes(4, "big"), min_base_fee=7 * 10**9),
                 [l1_info()])
    assert s1.header.extra_data == b"\x01" + (100).to_bytes(4, "big") + (4).to_bytes(4, "big") + (7 * 10**9).to_bytes(8, "big")
    c.set_forkchoice(s1.hash)
    s2 = c.build(s1.hash, attrs(s1.header), [l1_info(seq=1)])
    assert s2.header.base_fee == 7 * 10**9  # clamped up to the parent's minBaseFee
    # zero eip1559Params: the Canyon constants are written
    assert s2.header.extra_data[1:9] == (250).to_bytes(4, "big") + (6).to_bytes(4, "big")


def test_blob_and_wrong_chain_transactions_are_invalid():
    c = dev_chain()
    g = c.head
    b = c.builder(g.hash, attrs(g))
    b.apply(l1_info())
    blob = sign(Transaction(BLOB, chain_id=901, nonce=0, max_priority_fee_per_gas=1, max_fee_per_gas=10**10,
                            gas=50_000, to=addr(1), value=0, data=b"", max_fee_per_blob_gas=1,
                            blob_versioned_hashes=[b"\x01" + bytes(31)]), key(5))
    with pytest.raises(InvalidTransaction, match="blob"):
        b.apply(blob)
    with pytest.raises(InvalidTransaction, match="chain id"):
        b.apply(transfer(key(5), 0, addr(1), 1, chain_id=902))
    with pytest.raises(InvalidTransaction, match="nonce too high"):
        b.apply(transfer(key(5), 3, addr(1), 1))


def test_set_code_transactions_need_isthmus():
    g = build_op_genesis(901, GENESIS_TIME, {Fork.HOLOCENE: 0}, funded={addr(0): 10**20})
    c = Chain(g)
    b = c.builder(c.head.hash, attrs(c.head))
    auth = [[(901).to_bytes(2, "big"), addr(1), b"", b"", (1).to_bytes(1, "big"), (1).to_bytes(1, "big")]]
    tx = sign(Transaction(SET_CODE, chain_id=901, nonce=0, max_priority_fee_per_gas=1, max_fee_per_gas=10**10,
                          gas=100_000, to=addr(1), value=0, data=b"", authorization_list=auth), key(0))
    with pytest.raises(InvalidTransaction, match="before Isthmus"):
        b.apply(tx)


def test_a_set_code_transaction_read_from_json_executes_as_its_signed_bytes():
    """An EIP-7702 transaction rebuilt from its JSON form (authorization fields as quantities, as an RPC returns
    them) executes exactly as the same transaction decoded from its bytes. Probe (issue 18): the executor's
    authorization adapter raised TypeError on the JSON form."""
    auth = [[(901).to_bytes(2, "big"), addr(1), b"", b"\x01", (7).to_bytes(1, "big"), (9).to_bytes(1, "big")]]
    signed = sign(Transaction(SET_CODE, chain_id=901, nonce=0, max_priority_fee_per_gas=1, max_fee_per_gas=10**10,
                              gas=100_000, to=addr(1), value=0, data=b"", authorization_list=auth), key(7))
    q = hex
    as_json = {"type": "0x4", "chainId": q(901), "nonce": "0x0", "to": "0x" + addr(1).hex(), "gas": q(100_000),
               "maxPriorityFeePerGas": "0x1", "maxFeePerGas": q(10**10), "value": "0x0", "input": "0x",
               "accessList": [], "yParity": q(signed.v), "r": q(signed.r), "s": q(signed.s),
               "authorizationList": [{"chainId": q(901), "address": "0x" + addr(1).hex(), "nonce": "0x0",
                                      "yParity": "0x1", "r": "0x7", "s": "0x9"}]}
    from_json = tx_from_json(as_json)
    assert from_json.raw == signed.raw
    results = []
    for tx in (from_json, decode(signed.raw)):
        c = dev_chain()
        b = c.builder(c.head.hash, attrs(c.head))
        b.apply(l1_info())
        results.append(b.apply(tx))
    assert results[0].gas_used == results[1].gas_used and results[0].receipt == results[1].receipt


def test_canyon_activation_installs_create2deployer():
    g = build_op_genesis(901, GENESIS_TIME, {Fork.REGOLITH: 0, Fork.CANYON: GENESIS_TIME + 2}, funded={})
    c = Chain(g)
    deployer = bytes.fromhex("13b0d85ccb8bf860b6b79af3029fca081ae9bef2")
    assert c.account_db(c.head).get_code(deployer) == b""
    assert c.head.withdrawals_root is None
    s = c.build(c.head.hash, BlockAttributes(GENESIS_TIME + 2, bytes(32), SEQ_VAULT, 30_000_000), [])
    assert c.account_db(s.header).get_code(deployer) == artifact_code("Create2Deployer")
    assert s.header.withdrawals_root == EMPTY_ROOT and s.header.blob_gas_used is None


def test_jovian_bn256_pairing_input_limit():
    c = dev_chain()
    g = c.head
    too_big = bytes(81_984 + 192)
    small = bytes(192)
    pairing = bytes(19) + b"\x08"
    s = c.build(g.hash, attrs(g), [l1_info(), transfer(key(6), 0, pairing, 0, gas=2_000_000, data=too_big),
                                   transfer(key(6), 1, pairing, 0, gas=200_000, data=small)])
    big, ok = s.results[1], s.results[2]
    assert big.receipt.status == 0 and big.gas_used == 2_000_000
    assert ok.receipt.status == 1 and ok.return_data == (1).to_bytes(32, "big")


def test_granite_genesis_through_holocene_isthmus_jovian_activation_blocks():
    """The devnet path: genesis at Granite, later forks activated by the upgrade deposits derivation supplies."""
    from derivation.protocol.l1_info import l1_info_format
    from derivation.protocol.upgrades import upgrade_txs_for_block
    from engine.execution.op_genesis import rollup_config_for

    t0 = GENESIS_TIME
    times = {Fork.GRANITE: 0, Fork.HOLOCENE: t0 + 2, Fork.ISTHMUS: t0 + 4, Fork.JOVIAN: t0 + 6}
    g = build_op_genesis(901, t0, times, funded={addr(0): 10**22})
    c = Chain(g)
    cfg = rollup_config_for(g, c.genesis_hash)
    assert c.head.extra_data == b"" and c.head.requests_hash is None
    gpo = bytes.fromhex("420000000000000000000000000000000000000f")
    headers = []
    nonce = 0
    for n in range(1, 5):
        parent = c.head
        t = parent.timestamp + 2
        fmt = l1_info_format(cfg, t)
        txs = [l1_info(number=n, fmt=fmt), *upgrade_txs_for_block(cfg, t)]
        if not cfg.is_activation_block(Fork.JOVIAN, t):  # from Jovian an activation block holds only deposits
            txs.append(transfer(key(0), nonce, addr(1), 1))
            nonce += 1
        s = c.build(parent.hash, BlockAttributes(t, keccak256(parent.hash), SEQ_VAULT, 30_000_000,
                                                 keccak256(b"beacon%d" % n), bytes(8) if t >= t0 + 2 else None,
                                                 0 if t >= t0 + 6 else None), txs)
        assert all(r.receipt.status == 1 for r in s.results), [(r.error, r.receipt.status) for r in s.results]
        c.set_forkchoice(s.hash)
        headers.append(s.header)
    h1, h2, h3, h4 = headers
    assert h1.extra_data == b"\x00" + (250).to_bytes(4, "big") + (6).to_bytes(4, "big")  # Holocene activation
    assert h2.requests_hash is not None and h2.withdrawals_root == c.withdrawals_storage_root(h2)  # Isthmus
    assert h1.requests_hash is None and h1.withdrawals_root == EMPTY_ROOT
    assert h3.extra_data[:1] == b"\x01" and len(h3.extra_data) == 17  # Jovian
    assert h4.blob_gas_used > 0 and h3.blob_gas_used == 0 and h2.blob_gas_used == 0
    flags = c.account_db(h4).get_storage(gpo, 0).to_bytes(32, "big")
    assert flags[-4:] == b"\x01\x01\x01\x01"  # isEcotone, isFjord, isIsthmus, isJovian
    history = bytes.fromhex("0000f90827f1c53a10cb7a02335b175320002935")
    assert c.account_db(h4).get_storage(history, h3.number % 8191) == int.from_bytes(h3.hash, "big")
