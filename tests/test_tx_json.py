"""Transactions from their JSON-RPC form (``derivation.protocol.tx_json``): EIP-7702 authorization tuples given as
JSON quantities become the RLP items a decoded transaction holds, and bad tuples are the project's TxJsonError.
Vector: spec-vectors/set_code_tx_json.json (INFURA/go-ethlibs, a go-ethereum-signed set-code transaction)."""

from __future__ import annotations

import copy

import pytest

from derivation.protocol.hexutil import from_hex, to_hex
from derivation.protocol.transactions import decode
from derivation.protocol.tx_json import TxJsonError, tx_from_json
from tests.vectors import load

CASES = load("set_code_tx_json.json")["cases"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_set_code_transaction_json_rebuilds_the_signed_transaction(case):
    tx = tx_from_json(case["json"])
    assert to_hex(tx.hash) == case["expected_hash"]
    assert to_hex(tx.raw) == case["expected_raw"]
    assert to_hex(tx.sender()) == case["expected_sender"]
    # the same items as decoding the signed bytes gives (what the executor and the span-batch encoder read)
    assert tx.authorization_list == decode(from_hex(case["expected_raw"])).authorization_list


def _with_auth(**changes) -> dict:
    j = copy.deepcopy(CASES[0]["json"])
    j["authorizationList"][0].update(changes)
    return {k: v for k, v in j.items() if k != "hash"}


@pytest.mark.parametrize("changes", [
    {"nonce": hex(2**64)},  # uint64 in geth's SetCodeAuthorization
    {"yParity": "0x100"},  # uint8
    {"chainId": hex(2**256)},  # uint256
    {"r": hex(2**256)},
    {"s": "-0x1"},
    {"s": "zz"},
    {"r": None},
    {"address": "0x1234"},
    {"address": 5},
    {"nonce": [1]},
    {"chainId": {}},
])
def test_bad_authorization_tuples_are_tx_json_errors(changes):
    with pytest.raises(TxJsonError):
        tx_from_json(_with_auth(**changes))


@pytest.mark.parametrize("auths", [None, "0x", {}, [5], [[]], [None]])
def test_an_authorization_list_that_is_no_list_of_objects_is_a_tx_json_error(auths):
    j = {**CASES[0]["json"], "authorizationList": auths}
    with pytest.raises(TxJsonError):
        tx_from_json(j)
