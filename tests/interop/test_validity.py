"""Executing-message validity: the shared expiry-window vectors and kona's MessageGraph scenarios
(spec-vectors/interop/expiry_window.json, message_validity.json)."""

import pytest

from derivation.interop.dependency_set import from_chain_ids
from derivation.interop.messages import ExecutingMessage, Identifier, Message
from derivation.interop.validity import Reason, Verdict, check_block, check_link, check_message
from derivation.protocol.crypto import keccak256
from derivation.protocol.hexutil import from_hex
from derivation.protocol.rollup_config import DependencySet
from derivation.protocol.types import Log
from tests.interop.support import MemoryLogView, rollup_config
from tests.vectors import load

WINDOW = load("interop/expiry_window.json")
KONA = load("interop/message_validity.json")
ALWAYS = {900: rollup_config(900, 0), 901: rollup_config(901, 0)}


@pytest.mark.parametrize("v", [v for v in WINDOW["vectors"] if not v["configRejected"]], ids=lambda v: v["name"])
def test_window_differential(v):
    """valid iff init <= exec and exec - init <= W (interop active at every time: the rule reduces to the window)."""
    ds = from_chain_ids([900, 901], v["override"])
    got = check_link(ds, ALWAYS, 900, v["exec"], 901, v["init"])
    reason = {"ok": None, "future": Reason.MESSAGE_IN_FUTURE, "expired": Reason.MESSAGE_EXPIRED}[v["reason"]]
    assert got.valid == v["valid"] and got.reason == reason, str(got)


def _scenario(case):
    d, o = KONA["defaults"], case["overrides"]
    lagoon = {int(c): v["lagoon_time"] for c, v in d["chains"].items()}
    lagoon.update({int(c): t for c, t in o.get("lagoon_time", {}).items()})
    times = {int(c): v["timestamp"] for c, v in d["chains"].items()}
    times.update({int(c): t for c, t in o.get("chain_timestamp", {}).items()})
    if "exec_block_timestamp" in o:
        times[d["exec"]["chain"]] = o["exec_block_timestamp"]
    configs = {c: rollup_config(c, lagoon[c], block_time=d["chains"][str(c)]["block_time"]) for c in lagoon}
    ds = DependencySet(tuple(o.get("dependency_set", d["dependency_set"])), o.get("window", d["window"]))
    init, ex = d["init"], d["exec"]
    view = MemoryLogView()
    logs = [] if o.get("no_init") else [Log(from_hex(init["address"], 20), (), from_hex(init["data"]), 0)]
    view.add(init["chain"], 1, times[init["chain"]], logs)
    ident = Identifier(from_hex(o.get("exec_origin", ex["origin"]), 20), 1, ex["log_index"],
                       o.get("exec_origin_timestamp", times[ex["origin_chain"]]), ex["origin_chain"])
    msg = Message(ident, keccak256(from_hex(o.get("exec_message", ex["message"]))))
    return msg, ex["chain"], times[ex["chain"]], ds, configs, view


@pytest.mark.parametrize("case", KONA["cases"], ids=lambda c: c["name"])
def test_kona_message_graph_scenarios(case):
    got = check_message(*_scenario(case))
    if case["expected"] == "ok":
        assert got.valid, str(got)
    else:
        assert got.verdict is Verdict.INVALID and got.reason.value == case["reason"], str(got)


def test_unknown_initiating_block_waits():
    msg, chain, ts, ds, configs, view = _scenario(KONA["cases"][0])
    view.blocks.clear()
    got = check_message(msg, chain, ts, ds, configs, view)
    assert got.verdict is Verdict.WAIT and got.reason is Reason.INITIATING_BLOCK_UNKNOWN


def test_block_verdict_first_invalid_in_log_order_else_wait():
    good, chain, ts, ds, configs, view = _scenario(KONA["cases"][0])
    i = good.identifier
    future = Message(Identifier(i.origin, i.block_number, i.log_index, ts + 1, i.chain_id), good.payload_hash)
    unknown = Message(Identifier(i.origin, 7, 0, i.timestamp, i.chain_id), good.payload_hash)
    verdict, em = check_block([ExecutingMessage(5, future), ExecutingMessage(2, unknown), ExecutingMessage(0, good)],
                              chain, ts, ds, configs, view)
    assert verdict.reason is Reason.MESSAGE_IN_FUTURE and em.log_index == 5
    verdict, em = check_block([ExecutingMessage(2, unknown), ExecutingMessage(0, good)], chain, ts, ds, configs, view)
    assert verdict.verdict is Verdict.WAIT and em.log_index == 2
    verdict, em = check_block([ExecutingMessage(0, good)], chain, ts, ds, configs, view)
    assert verdict.valid and em is None


def test_wrong_log_index_is_invalid():
    """The devnet's ``SendInvalidExecMessage`` fault: the identifier points one log past the initiating one."""
    msg, chain, ts, ds, configs, view = _scenario(KONA["cases"][0])
    i = msg.identifier
    wrong = Message(Identifier(i.origin, i.block_number, i.log_index + 1, i.timestamp, i.chain_id), msg.payload_hash)
    assert check_message(wrong, chain, ts, ds, configs, view).reason is Reason.LOG_NOT_FOUND
