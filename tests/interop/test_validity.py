"""Executing-message validity: the shared expiry-window vectors and kona's MessageGraph scenarios
(spec-vectors/interop/expiry_window.json, message_validity.json)."""

import pytest

from derivation.interop.dependency_set import from_chain_ids
from derivation.interop.messages import ExecutingMessage, Identifier, Message, payload_hash
from derivation.interop.validity import Reason, Verdict, check_block, check_frontier, check_link, check_message
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


def _frontier(a_logs, b_logs, ts=10):
    """Blocks 5 of chains 1 and 2 at ``ts``, logs given as ("init", data) or ("exec", chain, log_index); initiating
    logs come from one emitter with no topics. Returns each chain's verdict of the round."""
    spec = {1: a_logs, 2: b_logs}
    init = {(c, i): Log(b"\x0c" * 20, (), e[1].encode(), i) for c, logs in spec.items()
            for i, e in enumerate(logs) if e[0] == "init"}
    view, blocks = MemoryLogView(), {}
    for c, logs in spec.items():
        out, ems = [], []
        for i, entry in enumerate(logs):
            if entry[0] == "init":
                out.append(init[(c, i)])
                continue
            src = init[(entry[1], entry[2])]
            msg = Message(Identifier(src.address, 5, entry[2], ts, entry[1]), payload_hash(src))
            out.append(msg.event_log(i))
            ems.append(ExecutingMessage(i, msg))
        view.add(c, 5, ts, out)
        blocks[c] = (ts, ems)
    return check_frontier(ts, blocks, from_chain_ids([1, 2]), {c: rollup_config(c, 0) for c in (1, 2)}, view)


def test_a_same_timestamp_round_trip_is_valid():
    """A initiates at log 0 and executes B:1 at log 1; B executes A:0 at log 0 and initiates at log 1 (acyclic)."""
    got = _frontier([("init", "a"), ("exec", 2, 1)], [("exec", 1, 0), ("init", "b")])
    assert got[1].valid and got[2].valid, got


def test_a_same_timestamp_cycle_invalidates_both_blocks():
    """Each chain executes the other's log 1 before initiating its own: every message exists, the order is a cycle."""
    got = _frontier([("exec", 2, 1), ("init", "a")], [("exec", 1, 1), ("init", "b")])
    assert got[1].reason is Reason.CYCLE and got[2].reason is Reason.CYCLE, got
