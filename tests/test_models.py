"""One payload model, one fork rule, one home for predeploy addresses (issue 15 "Copies"), and the shared payload
model against real chain data (spec-vectors/p2p_external.json: op-sepolia/op-mainnet Isthmus blocks, provenance in
that file)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from derivation.protocol.attributes import PayloadAttributes
from derivation.protocol.payload import ExecutionPayloadEnvelope, PayloadShapeError, Withdrawal
from engine.execution.chain_spec import ChainSpec
from engine.execution.payload import payload_header
from p2p.service import GossipedPayload
from tests.p2p.gossip_vectors import chain
from tests.vectors import load

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("derivation", "engine", "p2p", "opnode", "bench", "fuzz")


def _sources():
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            yield path.relative_to(ROOT).as_posix(), path.read_text()


def _defining(pattern: str) -> set[str]:
    rx = re.compile(pattern, re.MULTILINE)
    return {name for name, text in _sources() if rx.search(text)}


def test_one_execution_payload_and_one_payload_attributes():
    models = r"^class (ExecutionPayload|ExecutionPayloadEnvelope|PayloadEnvelope|Payload|PayloadAttributes|Attributes)\b"
    assert _defining(models) == {"derivation/protocol/payload.py", "derivation/protocol/attributes.py"}
    assert issubclass(GossipedPayload, ExecutionPayloadEnvelope)  # gossip hands the node the same type


def test_one_fork_activation_rule():
    assert _defining(r"^\s+def is_active\(") == {"derivation/protocol/forks.py"}


def test_predeploy_addresses_are_not_redeclared():
    """In the programs (fuzz seeds are data and may name any address)."""
    literal = r"""["'](0x)?(4200000000000000000000000000000000000[0-9a-fA-F]{3}|deaddeaddeaddeaddeaddeaddeaddeaddead0001|000f3df6d732807ef1319fb7b8bb8522d0beac02|0000f90827f1c53a10cb7a02335b175320002935)["']"""
    rx = re.compile(literal, re.IGNORECASE)
    found = {name for name, text in _sources() if rx.search(text) and not name.startswith("fuzz/")}
    assert found == {"derivation/protocol/predeploys.py"}


@pytest.mark.parametrize("block", load("p2p_external.json")["real_blocks"], ids=lambda b: b["name"])
def test_the_engines_header_of_a_real_payload_has_its_hash(block):
    """The engine reads the shared envelope: its header of a real Isthmus block hashes to the block's hash, and
    the envelope's JSON is the Engine API JSON it came from."""
    doc = {"executionPayload": block["execution_payload"], "parentBeaconBlockRoot": block["parent_beacon_block_root"]}
    env = ExecutionPayloadEnvelope.from_json(doc)
    cfg = chain(block["chain"])
    assert payload_header(ChainSpec(cfg.l2_chain_id, dict(cfg.fork_times)), env).hash.hex() == block["block_hash"][2:]
    assert env.to_json() == doc and env.number == int(block["execution_payload"]["blockNumber"], 16)


def test_payload_attributes_json_follows_op_service():
    """op-service ``eth.PayloadAttributes``: transactions, noTxPool, gasLimit and the fork fields are optional;
    eip1559Params is read at any length (the engine's -38003 rule applies it)."""
    doc = {"timestamp": "0x10", "prevRandao": "0x" + "11" * 32, "suggestedFeeRecipient": "0x" + "22" * 20,
           "withdrawals": [{"index": "0x1", "validatorIndex": "0x2", "address": "0x" + "33" * 20, "amount": "0x3"}],
           "parentBeaconBlockRoot": "0x" + "44" * 32, "transactions": ["0x7e01"], "noTxPool": True,
           "gasLimit": "0x1c9c380", "eip1559Params": "0x0000003200000006", "minBaseFee": "0x0"}
    a = PayloadAttributes.from_json(doc)
    assert a.withdrawals == (Withdrawal(1, 2, b"\x33" * 20, 3),) and a.gas_limit == 30_000_000
    assert a.to_json() == doc
    bare = PayloadAttributes.from_json({k: doc[k] for k in ("timestamp", "prevRandao", "suggestedFeeRecipient")})
    assert (bare.transactions, bare.gas_limit, bare.no_tx_pool, bare.withdrawals) == ((), None, False, None)
    assert PayloadAttributes.from_json({**doc, "eip1559Params": "0x06"}).eip1559_params == b"\x06"
    for bad, message in (({**doc, "noTxPool": 1}, "noTxPool"), ({**doc, "gasLimit": hex(1 << 64)}, "64 bits"),
                         ({**doc, "transactions": "0x7e"}, "must be an array"), ([], "JSON object")):
        with pytest.raises(PayloadShapeError, match=message):
            PayloadAttributes.from_json(bad)
