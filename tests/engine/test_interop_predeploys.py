"""The interop predeploys in a genesis built with ``interop_predeploys`` (engine/execution/interop_predeploys.py):
CrossL2Inbox and L2ToL2CrossDomainMessenger from Lagoon's pinned NUT bundle, run by the embedded engine.

What could fail: the implementation addresses must be those the bundle's L2ContractsManager lists (read from the
bundle here, not from our code); ``validateMessage`` must succeed only when the message's checksum slot is warm
through the access list (EIP-2929/2930 gas as op-geth charges it: the contract measures its SLOAD); the emitted
``ExecutingMessage`` must decode to the message sent; a relayed ``sendMessage`` must reach its target.
Selectors and the SentMessage topic are the ones the specs and op-supernode's research notes name
(``0xab4d6f75``, ``0x7056f41f``, ``0x8d1d298f``, ``0x382409ac…f320``).
"""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path

import pytest
from eth.db.account import AccountDB

from derivation.interop.messages import Identifier, Message, access_list_entries, executing_messages
from derivation.protocol.crypto import keccak256
from derivation.protocol.predeploys import CROSS_L2_INBOX, L2_TO_L2_CROSS_DOMAIN_MESSENGER
from derivation.protocol.rollup_config import Fork
from derivation.protocol.transactions import DYNAMIC_FEE, Transaction
from derivation.protocol.types import Log
from engine.execution.chain import Chain
from engine.execution.evm.call import call_message
from engine.execution.genesis import Account
from engine.execution.interop_predeploys import decode_deploy
from engine.execution.op_genesis import IMPLEMENTATION_SLOT, build_op_genesis
from opnode.testing.engine import GENESIS_TIME, addr, attrs, key, l1_info, sign
from opnode.tools.devnet.interop_calls import (
    MESSAGE_NONCE,
    RELAY_MESSAGE,
    SEND_MESSAGE,
    SENT_MESSAGE_TOPIC,
    VALIDATE_MESSAGE,
    inbox_access_list,
    relay_message_data,
    send_message_data,
    sent_message_payload,
    validate_message_data,
)

RECORDER = bytes.fromhex("00000000000000000000000000000000000c0de1")
RECORDER_CODE = bytes.fromhex("34600055336001550000")  # SSTORE(0, CALLVALUE); SSTORE(1, CALLER); STOP
FORKS = {Fork.CANYON: 0, Fork.ECOTONE: 0, Fork.FJORD: 0, Fork.GRANITE: 0, Fork.HOLOCENE: 0, Fork.ISTHMUS: 0,
         Fork.JOVIAN: 0}
_CHAINS: dict = {}


def _chain(chain_id: int) -> Chain:
    if chain_id not in _CHAINS:
        g = build_op_genesis(chain_id, GENESIS_TIME, {f: GENESIS_TIME for f in FORKS},
                             funded={addr(i): 10**24 for i in range(3)}, interop_predeploys=True)
        g.alloc[RECORDER] = Account(code=RECORDER_CODE)
        _CHAINS[chain_id] = g
    return Chain(_CHAINS[chain_id])


def _tx(chain_id: int, nonce: int, to: bytes, data: bytes, access_list=(), gas: int = 300_000) -> Transaction:
    return sign(Transaction(DYNAMIC_FEE, chain_id=chain_id, nonce=nonce, max_priority_fee_per_gas=10**6,
                            max_fee_per_gas=10**10, gas=gas, to=to, value=0, data=data,
                            access_list=[[a, list(keys)] for a, keys in access_list]), key(0))


def _block(chain: Chain, txs):
    g = chain.head
    return chain.build(g.hash, attrs(g), [l1_info(), *txs])


def _logs(result) -> list[Log]:
    return [Log(lg.address, lg.topics, lg.data, i) for i, lg in enumerate(result.receipt.logs)]


def _bundle_l2cm_words() -> set[bytes]:
    raw = resources.files("derivation.protocol.nut_bundles").joinpath("lagoon_nut_bundle.json").read_text()
    txs = {t["intent"]: t for t in json.loads(raw)["transactions"]}
    _, code = decode_deploy(bytes.fromhex(txs["Deploy L2ContractsManager Implementation"]["data"][2:]))
    return {code[i:i + 32] for i in range(0, len(code) - 31)}


VECTORS = json.loads((Path(__file__).resolve().parents[2] / "spec-vectors/interop/predeploys.json").read_text())


def test_selectors_are_the_published_ones():
    want = VECTORS["selectors"]
    assert "0x" + VALIDATE_MESSAGE.hex() == want["validateMessage((address,uint256,uint256,uint256,uint256),bytes32)"]
    assert "0x" + SEND_MESSAGE.hex() == want["sendMessage(uint256,address,bytes)"]
    assert "0x" + RELAY_MESSAGE.hex() == want["relayMessage((address,uint256,uint256,uint256,uint256),bytes)"]
    assert "0x" + SENT_MESSAGE_TOPIC.hex() == want["SentMessage(uint256,address,uint256,address,bytes)"]


def test_the_bundle_is_the_pinned_one():
    raw = resources.files("derivation.protocol.nut_bundles").joinpath("lagoon_nut_bundle.json").read_bytes()
    assert hashlib.sha256(raw).hexdigest() == VECTORS["bundle"]["sha256"]


def test_proxies_point_at_the_implementations_the_l2_contracts_manager_lists():
    g = _CHAINS.get(901) or (_chain(901) and _CHAINS[901])
    words = _bundle_l2cm_words()
    for proxy in (CROSS_L2_INBOX, L2_TO_L2_CROSS_DOMAIN_MESSENGER):
        impl = g.alloc[proxy].storage[IMPLEMENTATION_SLOT].to_bytes(20, "big")
        assert bytes(12) + impl in words
        assert len(g.alloc[impl].code) > 1000


def _initiating(chain_id: int = 902) -> tuple[Log, Identifier]:
    log = Log(RECORDER, (keccak256(b"topic"),), b"payload", 3)
    return log, Identifier(RECORDER, 7, 3, GENESIS_TIME - 10, chain_id)


def test_validate_message_needs_the_checksum_slot_warm():
    log, ident = _initiating()
    msg = Message(ident, keccak256(b"".join(log.topics) + log.data))
    chain = _chain(901)
    warm = _tx(901, 0, CROSS_L2_INBOX, validate_message_data(msg), inbox_access_list(msg))
    cold = _tx(901, 1, CROSS_L2_INBOX, validate_message_data(msg))
    lookup_only = _tx(901, 2, CROSS_L2_INBOX, validate_message_data(msg),
                      [(CROSS_L2_INBOX, [access_list_entries(msg)[0]])])
    other = Message(ident, keccak256(b"another payload"))
    wrong_slot = _tx(901, 3, CROSS_L2_INBOX, validate_message_data(msg), inbox_access_list(other))
    b = _block(chain, [warm, cold, lookup_only, wrong_slot])
    ok, *refused = b.results[1:]
    assert ok.receipt.status == 1
    assert executing_messages(_logs(ok)) and executing_messages(_logs(ok))[0].message == msg
    for r in refused:
        assert r.receipt.status == 0 and r.receipt.logs == ()


def test_send_message_then_relay_on_the_other_chain_calls_the_target():
    src, dst = _chain(902), _chain(901)
    payload = b"\x12\x34hello"
    before = call_message(src.spec, src.store.state_db, src.head, addr(0), L2_TO_L2_CROSS_DOMAIN_MESSENGER, 0,
                          MESSAGE_NONCE, 100_000)
    assert before.success
    sent = _block(src, [_tx(902, 0, L2_TO_L2_CROSS_DOMAIN_MESSENGER, send_message_data(901, RECORDER, payload))])
    r = sent.results[1]
    assert r.receipt.status == 1
    (log,) = [lg for lg in _logs(r) if lg.topics[0] == SENT_MESSAGE_TOPIC]
    assert log.address == L2_TO_L2_CROSS_DOMAIN_MESSENGER and int.from_bytes(log.topics[1], "big") == 901
    ident = Identifier(L2_TO_L2_CROSS_DOMAIN_MESSENGER, sent.header.number, log.log_index, sent.header.timestamp, 902)
    sent_message = b"".join(log.topics) + log.data
    # the payload the devnet's cycle fault predicts before sending: messageNonce() just before the send
    assert sent_message == sent_message_payload(901, RECORDER, int.from_bytes(before.output, "big"), addr(0), payload)
    msg = Message(ident, keccak256(sent_message))
    relay = _tx(901, 0, L2_TO_L2_CROSS_DOMAIN_MESSENGER, relay_message_data(ident, sent_message),
                inbox_access_list(msg), gas=500_000)
    b = _block(dst, [relay])
    rr = b.results[1]
    assert rr.receipt.status == 1, rr.error
    (em,) = executing_messages(_logs(rr))
    assert em.message == msg
    state = AccountDB(dst.store.state_db, b.header.state_root)
    assert state.get_storage(RECORDER, 1) == int.from_bytes(L2_TO_L2_CROSS_DOMAIN_MESSENGER, "big")  # the caller
    replay = _tx(901, 1, L2_TO_L2_CROSS_DOMAIN_MESSENGER, relay_message_data(ident, sent_message),
                 inbox_access_list(msg), gas=500_000)
    assert dst.build(b.hash, attrs(b.header), [l1_info(), replay]).results[1].receipt.status == 0  # no replay


@pytest.mark.parametrize("chain_id", [901])
def test_genesis_without_interop_has_bare_proxies(chain_id):
    g = build_op_genesis(chain_id, GENESIS_TIME, {f: GENESIS_TIME for f in FORKS}, funded={})
    assert IMPLEMENTATION_SLOT not in g.alloc[CROSS_L2_INBOX].storage
