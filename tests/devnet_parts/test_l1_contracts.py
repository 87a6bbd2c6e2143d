"""The devnet's L1 contracts on a real anvil: what they emit is read back through the verifying L1 client and decoded
by derivation's own deposit and SystemConfig parsers, and compared byte for byte with independent vectors."""

from __future__ import annotations

import dataclasses

import pytest

from derivation.protocol.config_update import (
    CONFIG_UPDATE_TOPIC,
    UpdateType,
    apply_receipts,
    config_update_log,
    unsafe_block_signer_updates,
)
from derivation.protocol.crypto import keccak256
from derivation.protocol.deposits import (
    TRANSACTION_DEPOSITED_TOPIC,
    deposit_log,
    user_deposit_source_hash,
    user_deposits,
)
from derivation.protocol.hexutil import from_hex, to_hex
from derivation.protocol.system_config import SystemConfig
from derivation.protocol.transactions import deposit
from opnode.jsonrpc.errors import RpcError
from opnode.testing.harness.world import test_config as rollup_test_config
from opnode.tools.anvil import DEV_KEYS
from opnode.tools.batcher.txmgr import SendError, TxCandidate
from opnode.tools.l1contracts import portal as P
from opnode.tools.l1contracts import system_config as S
from opnode.tools.l1contracts.abi import Function, event_topic
from opnode.tools.l1contracts.asm import AsmError, assemble, init_code
from opnode.tools.l1contracts.deploy import deploy_forwarder, deploy_l1_contracts
from opnode.tools.l1contracts.helpers import forward_call
from tests.devnet_parts.conftest import block_receipts, eth_call, sender
from tests.vectors import load

BATCHER = bytes.fromhex("ba7c4e5000000000000000000000000000000001")


async def _deploy(rpc, owner_key=DEV_KEYS[0], **kw):
    owner = sender(rpc, owner_key)
    initial = S.InitialValues(owner=owner.address, batcher=BATCHER, gas_limit=30_000_000, basefee_scalar=1368,
                              blobbasefee_scalar=810949, **kw)
    return owner, await deploy_l1_contracts(owner, initial)


def _logs(receipts, address, topic0):
    return [log for r in receipts for log in r.logs if log.address == address and log.topics[0] == topic0]


# ------------------------------------------------------------------------------------------------ assembler


def test_assembler_labels_constants_and_errors():
    code = assemble("push 0\npush 0x100\njump @end\nend:\npush $X\nstop", {"X": 7})
    assert code == bytes.fromhex("5f" "610100" "610008" "56" "5b" "6007" "00")
    for bad in ("jump @nowhere", "frobnicate", "push $MISSING", "x:\nx:", f"push {1 << 256}"):
        with pytest.raises(AsmError):
            assemble(bad)


def test_init_code_returns_the_runtime():
    runtime = bytes(range(200)) * 2
    code = init_code(runtime, b"\x60\x01\x5f\x55")  # constructor: sstore(0, 1)
    assert code.endswith(runtime)
    # The copier pushes the runtime's length and its offset in the creation code.
    copier = code[4:-len(runtime)]
    assert copier == bytes.fromhex("610190" "80" f"60{4 + len(copier):02x}" "5f" "39" "5f" "f3")


def test_signatures_are_the_real_contracts():
    v = load("l1_contracts.json")
    ours = {f.signature for f in (P.DEPOSIT_TRANSACTION, P.MINIMUM_GAS_LIMIT, S.SET_BATCHER_HASH, S.SET_GAS_CONFIG,
                                  S.SET_GAS_CONFIG_ECOTONE, S.SET_GAS_LIMIT, S.SET_UNSAFE_BLOCK_SIGNER,
                                  S.SET_EIP1559_PARAMS, S.SET_OPERATOR_FEE_SCALARS, S.SET_MIN_BASE_FEE,
                                  S.SET_DA_FOOTPRINT_GAS_SCALAR, S.TRANSFER_OWNERSHIP)}
    assert ours == {f["signature"] for f in v["functions"]}
    assert sorted(f["update_type"] for f in v["functions"] if "update_type" in f) == [0, 1, 1, 2, 3, 4, 5, 6, 7]
    events = {e["signature"]: e["topic0"] for e in v["events"]}
    assert to_hex(event_topic(P.TRANSACTION_DEPOSITED)) == events[P.TRANSACTION_DEPOSITED]
    assert event_topic(P.TRANSACTION_DEPOSITED) == TRANSACTION_DEPOSITED_TOPIC
    assert to_hex(event_topic(S.CONFIG_UPDATE)) == events[S.CONFIG_UPDATE]
    assert event_topic(S.CONFIG_UPDATE) == CONFIG_UPDATE_TOPIC
    c = v["constants"]
    assert S.UNSAFE_BLOCK_SIGNER_SLOT == int(c["unsafe_block_signer_slot"]["value"], 16)
    assert keccak256(c["unsafe_block_signer_slot"]["preimage"].encode()) == S.UNSAFE_BLOCK_SIGNER_SLOT.to_bytes(32, "big")
    assert P.RECEIVE_DEFAULT_GAS_LIMIT == c["receive_default_gas_limit"]["value"]
    assert P.ALIAS_OFFSET == int(c["alias_offset"]["value"], 16)
    assert P.MAX_DEPOSIT_DATA == c["max_deposit_data"]["value"]


# ------------------------------------------------------------------------------------------------ deposits


async def test_deposit_transaction_is_derived_as_sent(anvil, rpc):
    _, dep = await _deploy(rpc)
    user = sender(rpc, DEV_KEYS[1])
    to = bytes.fromhex("ab" * 20)
    data = b"\x01\x02" + bytes(40) + b"hello, L2"
    r = await user.send_and_wait(TxCandidate(dep.portal, P.DEPOSIT_TRANSACTION.encode(to, 7, 150_000, False, data),
                                             value=10**15))
    info, receipts = await block_receipts(anvil.url, r.block_hash)
    (log,) = _logs(receipts, dep.portal, TRANSACTION_DEPOSITED_TOPIC)
    want = deposit(user_deposit_source_hash(r.block_hash, log.log_index), user.address, to, 10**15, 7, 150_000,
                   False, data)
    assert [t.raw for t in user_deposits(receipts, dep.portal, r.block_hash)] == [want.raw]
    assert log == deposit_log(want, dep.portal, log.log_index)


async def test_contract_creation_deposit_and_its_rules(anvil, rpc):
    _, dep = await _deploy(rpc)
    user = sender(rpc, DEV_KEYS[1])
    code = bytes.fromhex("600a600c600039600a6000f3602a60005260206000f3")
    r = await user.send_and_wait(TxCandidate(dep.portal, P.DEPOSIT_TRANSACTION.encode(bytes(20), 0, 500_000, True,
                                                                                      code)))
    _, receipts = await block_receipts(anvil.url, r.block_hash)
    (tx,) = user_deposits(receipts, dep.portal, r.block_hash)
    assert tx.to is None and tx.data == code and tx.gas == 500_000 and tx.mint == 0
    # A creation must target address(0); the gas limit must cover 40 gas per data byte; 120,000 bytes at most.
    bad = [P.DEPOSIT_TRANSACTION.encode(b"\x01" * 20, 0, 500_000, True, code),
           P.DEPOSIT_TRANSACTION.encode(b"\x01" * 20, 0, 21_000 + 40 * len(code) - 1, False, code),
           P.DEPOSIT_TRANSACTION.encode(b"\x01" * 20, 0, 10_000_000, False, bytes(120_001)),
           P.DEPOSIT_TRANSACTION.encode(b"\x01" * 20, 0, 20_000_001, False, b"")]  # over the per-block limit
    for data in bad:
        with pytest.raises(SendError):
            await user.send(TxCandidate(dep.portal, data))
    # exactly the minimum is fine
    ok = P.DEPOSIT_TRANSACTION.encode(b"\x01" * 20, 0, 21_000 + 40 * len(code), False, code)
    assert (await user.send_and_wait(TxCandidate(dep.portal, ok))).status == 1
    assert P.MINIMUM_GAS_LIMIT.decode_result(await eth_call(rpc, dep.portal, P.MINIMUM_GAS_LIMIT.encode(100))) == 25_000


async def test_solidity_abi_checks_revert(anvil, rpc):
    _, dep = await _deploy(rpc)
    user = sender(rpc, DEV_KEYS[1])
    good = P.DEPOSIT_TRANSACTION.encode(b"\x01" * 20, 0, 100_000, False, b"abc")
    sel, words = good[:4], [good[4 + 32 * i:36 + 32 * i] for i in range((len(good) - 4) // 32)]

    def with_word(i, word):
        return sel + b"".join(word if j == i else w for j, w in enumerate(words))

    dirty = [with_word(0, b"\x01" + words[0][1:]),  # address with high bits
             with_word(2, b"\x01" + words[2][1:]),  # uint64 with high bits
             with_word(3, (2).to_bytes(32, "big")),  # bool 2
             with_word(4, (10**6).to_bytes(32, "big")),  # bytes offset beyond the call data
             good[:-32],  # bytes content cut off
             sel + b"".join(words[:4])]  # missing a static argument
    for data in dirty:
        with pytest.raises(SendError):
            await user.send(TxCandidate(dep.portal, data))
        assert await eth_call(rpc, dep.portal, good) == b""  # the well-formed call still works


async def test_receive_deposits_to_the_sender_as_the_real_portal(anvil, rpc):
    # hildr's vector is a receive() deposit of 0.005 ETH on a live portal: same opaque data, byte for byte.
    vec = next(v for v in load("user_deposits.json")["vectors"] if v["name"].startswith("hildr"))
    _, dep = await _deploy(rpc)
    user = sender(rpc, DEV_KEYS[2])
    r = await user.send_and_wait(TxCandidate(dep.portal, b"", value=vec["expected"]["mint"], gas_limit=200_000))
    _, receipts = await block_receipts(anvil.url, r.block_hash)
    (log,) = _logs(receipts, dep.portal, TRANSACTION_DEPOSITED_TOPIC)
    assert log.data == from_hex(vec["input"]["log_data"])
    assert log.topics[1] == log.topics[2] == bytes(12) + user.address
    assert log.topics[3] == from_hex(vec["input"]["topics"][3])
    (tx,) = user_deposits(receipts, dep.portal, r.block_hash)
    assert (tx.from_, tx.to, tx.mint, tx.value, tx.gas) == (user.address, user.address, 5 * 10**15, 5 * 10**15, 100_000)


async def test_deposits_from_a_contract_are_aliased(anvil, rpc):
    _, dep = await _deploy(rpc)
    user = sender(rpc, DEV_KEYS[1])
    fwd = await deploy_forwarder(user)
    call = P.DEPOSIT_TRANSACTION.encode(b"\x02" * 20, 3, 100_000, False, b"via a contract")
    r = await user.send_and_wait(TxCandidate(fwd, forward_call(dep.portal, call), value=12345))
    _, receipts = await block_receipts(anvil.url, r.block_hash)
    (tx,) = user_deposits(receipts, dep.portal, r.block_hash)
    assert tx.from_ == P.alias(fwd) != fwd
    assert (tx.to, tx.mint, tx.value, tx.data) == (b"\x02" * 20, 12345, 3, b"via a contract")
    assert P.alias(b"\xff" * 20) == (0x1111000000000000000000000000000000001110).to_bytes(20, "big")  # wraps


async def test_deposit_gas_is_metered_per_l1_block(anvil, rpc):
    _, dep = await _deploy(rpc)
    user = sender(rpc, DEV_KEYS[3])
    anvil.rpc("evm_setAutomine", False)
    try:
        sent = [await user.send(TxCandidate(dep.portal, P.DEPOSIT_TRANSACTION.encode(b"\x03" * 20, 0, gas, False, b""),
                                            gas_limit=150_000)) for gas in (15_000_000, 5_000_000, 1)]
        anvil.rpc("evm_mine")
    finally:
        anvil.rpc("evm_setAutomine", True)
    receipts = [await user.receipt(p) for p in sent]
    assert len({r.block_number for r in receipts}) == 1
    assert [r.status for r in receipts] == [1, 1, 0]  # 20M bought: the third deposit is over the limit
    # the next block starts again
    ok = await user.send_and_wait(TxCandidate(dep.portal, P.DEPOSIT_TRANSACTION.encode(b"\x03" * 20, 0, 20_000_000,
                                                                                      False, b"")))
    assert ok.status == 1


# ------------------------------------------------------------------------------------------------ SystemConfig


async def _getter(rpc, dep, name):
    fn = S.GETTERS[name]
    return fn.decode_result(await eth_call(rpc, dep.system_config, fn.encode()))


async def test_every_update_type_is_applied_by_derivation(anvil, rpc):
    owner, dep = await _deploy(rpc)
    cfg = rollup_test_config()
    start = SystemConfig(BATCHER, bytes(32), bytes(32), 30_000_000)
    new_batcher, signer = b"\x0b" * 20, b"\x51" * 20
    calls = [S.SET_BATCHER_HASH.encode(bytes(12) + new_batcher),
             S.SET_GAS_CONFIG_ECOTONE.encode(1368, 810949),
             S.SET_GAS_LIMIT.encode(45_000_000),
             S.SET_UNSAFE_BLOCK_SIGNER.encode(signer),
             S.SET_EIP1559_PARAMS.encode(250, 6),
             S.SET_OPERATOR_FEE_SCALARS.encode(7, 3_000),
             S.SET_MIN_BASE_FEE.encode(10**7),
             S.SET_DA_FOOTPRINT_GAS_SCALAR.encode(500)]
    anvil.rpc("evm_setAutomine", False)
    try:
        sent = [await owner.send(TxCandidate(dep.system_config, c)) for c in calls]
        anvil.rpc("evm_mine")
    finally:
        anvil.rpc("evm_setAutomine", True)
    receipts = [await owner.receipt(p) for p in sent]
    assert {r.status for r in receipts} == {1} and len({r.block_hash for r in receipts}) == 1
    info, block = await block_receipts(anvil.url, receipts[0].block_hash)
    got = apply_receipts(start, block, dep.system_config, cfg, info.time)
    scalar = bytes.fromhex("01" + "00" * 23) + (810949).to_bytes(4, "big") + (1368).to_bytes(4, "big")
    assert got == dataclasses.replace(start, batcher_addr=new_batcher, scalar=scalar, gas_limit=45_000_000,
                                      eip1559_params=(250).to_bytes(4, "big") + (6).to_bytes(4, "big"),
                                      operator_fee_params=((7 << 64) | 3_000).to_bytes(32, "big"),
                                      min_base_fee=10**7, da_footprint_gas_scalar=500)
    assert unsafe_block_signer_updates(block, dep.system_config) == [signer]
    logs = _logs(block, dep.system_config, CONFIG_UPDATE_TOPIC)
    assert [int.from_bytes(x.topics[2], "big") for x in logs] == [0, 1, 2, 3, 4, 5, 6, 7]
    # the getters tell the same story, and the signer sits where op-node reads it
    assert await _getter(rpc, dep, "gasLimit") == 45_000_000
    assert await _getter(rpc, dep, "scalar") == int.from_bytes(scalar, "big")
    assert (await _getter(rpc, dep, "eip1559Denominator"), await _getter(rpc, dep, "eip1559Elasticity")) == (250, 6)
    assert await _getter(rpc, dep, "daFootprintGasScalar") == 500
    slot = await rpc.call("eth_getStorageAt", to_hex(dep.system_config), hex(S.UNSAFE_BLOCK_SIGNER_SLOT), "latest")
    assert from_hex(slot)[12:] == signer
    assert await _getter(rpc, dep, "unsafeBlockSigner") == to_hex(signer)


# kona's and op-node's ConfigUpdate unit-test logs, produced by calls a real SystemConfig owner could make.
_VECTOR_CALLS = {
    "kona batcher::test_batcher_update_try_from": [S.SET_BATCHER_HASH.encode((0xBEEF).to_bytes(32, "big"))],
    "kona gas_config::test_gas_config_update_try_from": [S.SET_GAS_CONFIG.encode(0xBABE, 0xBEEF)],
    "kona gas_config::test_gas_config_update_overhead_decoding_succeeds_max_u256":
        [S.SET_GAS_CONFIG.encode(2**256 - 1, 0xBEEF)],
    "kona signer::test_signer_update_try_from": [S.SET_UNSAFE_BLOCK_SIGNER.encode((0xBEEF).to_bytes(20, "big"))],
    "kona eip1559::test_eip1559_update_try_from": [S.SET_EIP1559_PARAMS.encode(0xBABE, 0xBEEF)],
    "kona operator_fee::test_operator_fee_update_try_from": [S.SET_OPERATOR_FEE_SCALARS.encode(0xBABE, 0xBEEF)],
    "kona min_base_fee::test_min_base_fee_update_try_from": [S.SET_MIN_BASE_FEE.encode(0xBEEF)],
    "kona da_footprint_gas_scalar::test_da_footprint_update_try_from": [S.SET_DA_FOOTPRINT_GAS_SCALAR.encode(0xBEEF)],
    "op-node SystemConfigUpdateBatcher": [S.SET_BATCHER_HASH.encode((0xAA).to_bytes(32, "big"))],
    "op-node SystemConfigUpdateGasConfig": [S.SET_GAS_CONFIG.encode(0xFF, 0xAA)],
    # Ecotone keeps the stored overhead in the event: set it first, then the Ecotone scalars.
    "op-node SystemConfigUpdateGasConfigEcotone": [S.SET_GAS_CONFIG.encode(0xFF, 0), S.SET_GAS_CONFIG_ECOTONE.encode(0xBB, 0xB3)],
    "op-node SystemConfigUpdateEIP1559Params": [S.SET_EIP1559_PARAMS.encode(0x01020304, 0x05060708)],
}
# Accepted by the decoders, but no SystemConfig can emit them: the contract reverts.
_IMPOSSIBLE = {
    "kona gas_config::test_gas_config_update_scalar_decoding_succeeds_max_u256": S.SET_GAS_CONFIG.encode(0xBABE, 2**256 - 1),
    "kona gas_limit::test_gas_limit_update_try_from": S.SET_GAS_LIMIT.encode(0xBEEF),
    "op-node SystemConfigUpdateGasLimit": S.SET_GAS_LIMIT.encode(187),
}


async def test_events_match_the_reference_clients_vectors(anvil, rpc):
    cases = {c["name"]: c for c in load("config_update_cases.json")["cases"] if c["expect"] == "ok"}
    assert set(_VECTOR_CALLS) | set(_IMPOSSIBLE) | {"kona eip1559::test_eip1559_update_eip1559_decoding_error"} == set(cases)
    owner, dep = await _deploy(rpc)
    for name, calls in _VECTOR_CALLS.items():
        for c in calls:
            r = await owner.send_and_wait(TxCandidate(dep.system_config, c))
        _, receipts = await block_receipts(anvil.url, r.block_hash)
        (log,) = _logs(receipts, dep.system_config, CONFIG_UPDATE_TOPIC)
        assert [to_hex(t) for t in log.topics] == cases[name]["topics"], name
        assert log.data == from_hex(cases[name]["log_data"]), name
        assert log == config_update_log(UpdateType(log.topics[2][31]), log.data[64:], dep.system_config, log.log_index)
    for c in _IMPOSSIBLE.values():
        with pytest.raises(SendError):
            await owner.send(TxCandidate(dep.system_config, c))


async def test_only_the_owner_may_update_and_arguments_are_checked(anvil, rpc):
    owner, dep = await _deploy(rpc)
    stranger = sender(rpc, DEV_KEYS[1])
    with pytest.raises(SendError):
        await stranger.send(TxCandidate(dep.system_config, S.SET_GAS_LIMIT.encode(40_000_000)))
    for bad in (S.SET_EIP1559_PARAMS.encode(0, 6), S.SET_EIP1559_PARAMS.encode(250, 0),
                S.SET_GAS_LIMIT.encode(S.MAXIMUM_GAS_LIMIT + 1), S.SET_GAS_LIMIT.encode(S.MINIMUM_GAS_LIMIT - 1),
                S.SET_DA_FOOTPRINT_GAS_SCALAR.selector + (1 << 16).to_bytes(32, "big"),  # not a uint16
                S.TRANSFER_OWNERSHIP.encode(bytes(20))):
        with pytest.raises(SendError):
            await owner.send(TxCandidate(dep.system_config, bad))
    assert await _getter(rpc, dep, "gasLimit") == 30_000_000
    assert await _getter(rpc, dep, "batcherHash") == bytes(12) + BATCHER
    # hand the contract over: the old owner is locked out, the new one may update
    r = await owner.send_and_wait(TxCandidate(dep.system_config, S.TRANSFER_OWNERSHIP.encode(stranger.address)))
    assert len(r.logs) == 1 and from_hex(r.logs[0]["topics"][2])[12:] == stranger.address
    assert await _getter(rpc, dep, "owner") == to_hex(stranger.address)
    with pytest.raises(SendError):
        await owner.send(TxCandidate(dep.system_config, S.SET_GAS_LIMIT.encode(40_000_000)))
    await stranger.send_and_wait(TxCandidate(dep.system_config, S.SET_GAS_LIMIT.encode(40_000_000)))
    assert await _getter(rpc, dep, "gasLimit") == 40_000_000
    assert Function("minimumGasLimit()", ("uint64",)).decode_result(
        await eth_call(rpc, dep.system_config, S.MINIMUM_GAS_LIMIT_FN.encode())) == S.MINIMUM_GAS_LIMIT
    with pytest.raises(RpcError):
        await eth_call(rpc, dep.system_config, b"\x12\x34\x56\x78")  # unknown selector reverts
