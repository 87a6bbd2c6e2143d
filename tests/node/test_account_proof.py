"""eth_getProof verification against real recorded proofs (op-node's test data) and py-trie's tries."""

from __future__ import annotations

import copy
import random

import pytest
from trie import HexaryTrie

from derivation.protocol import rlp
from derivation.protocol.crypto import keccak256
from derivation.protocol.hexutil import from_hex
from derivation.protocol.output_root import output_root_v0
from opnode.node.account_proof import AccountProofError, verify_account_proof, verify_proof
from tests.vectors import load

VECTORS = {v["name"].split(",")[0].split(" at ")[0]: v for v in load("account_proofs.json")["vectors"]}
GOERLI = VECTORS["Goerli SystemConfig proxy"]
MAINNET = VECTORS["Ethereum mainnet eth2 deposit contract"]


@pytest.mark.parametrize("vec", [GOERLI, MAINNET], ids=["goerli-systemconfig", "mainnet-deposit-contract"])
def test_recorded_proofs_verify(vec):
    r = vec["result"]
    acct = verify_account_proof(from_hex(vec["state_root"]), from_hex(r["address"]), r)
    assert acct.storage_hash == from_hex(r["storageHash"])
    assert acct.nonce == int(r["nonce"], 16)


def test_goerli_proof_fails_for_the_neighbouring_state_root():
    r = GOERLI["result"]
    with pytest.raises(AccountProofError):
        verify_account_proof(from_hex(GOERLI["expected"]["verifies_with_state_root"]), from_hex(r["address"]), r)


@pytest.mark.parametrize("where", ["account", "storage"])
def test_goerli_proof_fails_with_a_corrupted_first_node(where):
    r = copy.deepcopy(GOERLI["result"])
    if where == "account":
        r["accountProof"][0] = "0x00" + r["accountProof"][0][4:]
    else:
        r["storageProof"][0]["proof"][0] = "0x00" + r["storageProof"][0]["proof"][0][4:]
    with pytest.raises(AccountProofError):
        verify_account_proof(from_hex(GOERLI["state_root"]), from_hex(r["address"]), r)


@pytest.mark.parametrize("field,value", [("balance", "0x1"), ("nonce", "0x2"), ("storageHash", "0x" + "11" * 32),
                                         ("codeHash", "0x" + "22" * 32)])
def test_claimed_account_fields_must_match_the_proof(field, value):
    r = copy.deepcopy(MAINNET["result"])
    r[field] = value
    with pytest.raises(AccountProofError, match="does not prove|storage proof"):
        verify_account_proof(from_hex(MAINNET["state_root"]), from_hex(r["address"]), r)


def test_storage_value_must_match():
    r = copy.deepcopy(GOERLI["result"])
    r["storageProof"][0]["value"] = "0x715b7219d986641df9efd9c7ef01218d528e19ed"
    with pytest.raises(AccountProofError, match="storage proof 0"):
        verify_account_proof(from_hex(GOERLI["state_root"]), from_hex(r["address"]), r)


def test_proof_for_another_address_is_refused():
    r = MAINNET["result"]
    with pytest.raises(AccountProofError, match="not 0x4200"):
        verify_account_proof(from_hex(MAINNET["state_root"]), from_hex("0x4200000000000000000000000000000000000016"), r)


def test_op_node_output_root_from_the_recorded_proof():
    """op-node TestOutputAtBlock: output root of (header.stateRoot, proven storageHash, block hash)."""
    r = MAINNET["result"]
    acct = verify_account_proof(from_hex(MAINNET["state_root"]), from_hex(r["address"]), r)
    root = output_root_v0(from_hex(MAINNET["header"]["stateRoot"]), acct.storage_hash,
                          from_hex(MAINNET["expected"]["block_hash"]))
    assert "0x" + root.hex() == MAINNET["expected"]["output_root"]


@pytest.mark.parametrize("bad", [
    {"address": "0x00"}, {}, "x", {"address": "0x" + "00" * 20, "nonce": "0x0", "balance": "0x0",
                                   "storageHash": "0x" + "00" * 32, "codeHash": "0x" + "00" * 32,
                                   "accountProof": "nope"},
])
def test_malformed_results_are_proof_errors(bad):
    with pytest.raises(AccountProofError):
        verify_account_proof(bytes(32), bytes(20), bad)


def test_against_py_trie_inclusion_and_absence():
    rng = random.Random(7)
    t = HexaryTrie({})
    keys = [keccak256(rng.randbytes(20)) for _ in range(300)]
    for k in keys:
        t[k] = rlp.encode([rng.randrange(1000), rng.randrange(10**20), rng.randbytes(32), rng.randbytes(32)])
    for k in keys[:50]:
        proof = [rlp.encode(n) for n in t.get_proof(k)]
        assert verify_proof(t.root_hash, k, proof) == t[k]
    for _ in range(50):
        absent = keccak256(rng.randbytes(20))
        proof = [rlp.encode(n) for n in t.get_proof(absent)]
        assert verify_proof(t.root_hash, absent, proof) is None
    # a proof missing its last node no longer reaches the leaf
    proof = [rlp.encode(n) for n in t.get_proof(keys[0])]
    with pytest.raises(AccountProofError, match="missing"):
        verify_proof(t.root_hash, keys[0], proof[:-1])


def test_small_trie_with_embedded_nodes():
    t = HexaryTrie({})
    t[b"\x01" * 32] = b"\x05"
    t[b"\x01" * 31 + b"\x02"] = b"\x06"  # the two leaves are short: embedded in their branch
    proof = [rlp.encode(n) for n in t.get_proof(b"\x01" * 31 + b"\x02")]
    assert verify_proof(t.root_hash, b"\x01" * 31 + b"\x02", proof) == b"\x06"
    assert verify_proof(t.root_hash, b"\x01" * 31 + b"\x03", [rlp.encode(n) for n in t.get_proof(
        b"\x01" * 31 + b"\x03")]) is None


def test_bounds():
    with pytest.raises(AccountProofError, match="nodes"):
        verify_proof(bytes(32), bytes(32), [b"\xc0"] * 65)
    with pytest.raises(AccountProofError, match="too large"):
        verify_proof(bytes(32), bytes(32), [b"\x00" * 70_000])
