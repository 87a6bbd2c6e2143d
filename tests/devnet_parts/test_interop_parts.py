"""Parts of ``opnode devnet --interop`` that run without processes: the summary's message checks over a fake chain
view (interop_summary.py) and the access list a traffic transaction carries (txmgr.TxCandidate)."""

from __future__ import annotations

from derivation.protocol.crypto import keccak256
from derivation.protocol.predeploys import CROSS_L2_INBOX
from derivation.protocol.rollup_config import RollupConfig
from derivation.protocol.transactions import decode
from opnode.tools.batcher.txmgr import Fees, TxCandidate, TxManager
from opnode.tools.devnet.interop_summary import ChainNodes, check_invalid, check_valid, parse_invalidations
from opnode.tools.devnet.summary import NodeRef

ORIG, NEW = "0x" + "aa" * 32, "0x" + "bb" * 32


class FakeRpc:
    """Per URL: block hashes by number and the transactions' receipts."""

    def __init__(self, chains: dict[str, dict]):
        self.chains = chains

    def call(self, url, method, *params):
        c = self.chains[url]
        if method == "eth_getBlockByNumber":
            h = c["blocks"].get(int(params[0], 16))
            return None if h is None else {"hash": h}
        if method == "eth_getTransactionReceipt":
            return c["receipts"].get(params[0])
        raise AssertionError(method)


def _nodes() -> dict[int, ChainNodes]:
    seq = NodeRef("sequencer", "sequencer", "seq-rpc", "seq")
    light = NodeRef("light-1", "light", "light-rpc", "light")
    return {901: ChainNodes(901, RollupConfig.__new__(RollupConfig), "sn/901", "sn", seq, (light,))}


def _fault(kind="wrong_log_index", tx="0x01", block=5, h=ORIG, status=1):
    return {"kind": kind, "chain_id": 901, "tx": tx, "block_number": block, "block_hash": h, "status": status}


def _replaced_everywhere(**over):
    view = {u: {"blocks": {5: NEW}, "receipts": {}} for u in ("sn", "seq", "light")}
    view.update(over)
    return FakeRpc(view)


LOG_FOUND = {(901, 5): ["initiating-log-not-found"]}
# a line as opnode/supernode/verifier.py logs an invalidation (two blocks in one decision)
LINE = ('t=2026-12-06T03:37:37+0000 lvl=info msg="interop invalidate at 1796528254 chain 901 block 43: invalid: '
        'initiating-log-not-found: chain 902 block 37 has 1 logs, message says index 1; chain 902 block 41: invalid: '
        'checksum-mismatch: chain 902 block 37 log 0: origin or payload hash differ"')


def test_parse_invalidations_reads_every_block_of_a_decision():
    assert parse_invalidations("noise\n" + LINE) == {(901, 43): ["initiating-log-not-found"],
                                                     (902, 41): ["checksum-mismatch"]}


def test_a_fault_replaced_on_every_node_for_its_rule_passes():
    r = check_invalid(_replaced_everywhere(), _nodes(), {901: 6}, [_fault()], faults=True, reasons=LOG_FOUND)
    assert r["ok"], r


def test_a_fault_replaced_for_another_rule_fails():
    r = check_invalid(_replaced_everywhere(), _nodes(), {901: 6}, [_fault("expired")], faults=True, reasons=LOG_FOUND)
    assert not r["ok"] and not r["faults"][0]["right_reason"]


def test_a_fault_still_on_a_light_node_fails():
    rpc = _replaced_everywhere(light={"blocks": {5: ORIG}, "receipts": {"0x01": {"blockHash": ORIG}}})
    r = check_invalid(rpc, _nodes(), {901: 6}, [_fault()], faults=True, reasons=LOG_FOUND)
    assert not r["ok"] and r["faults"][0]["nodes"]["light-1"]["tx_in_chain"]


def test_a_fault_not_yet_past_cross_safe_fails():
    assert not check_invalid(_replaced_everywhere(), _nodes(), {901: 4}, [_fault()], faults=True,
                             reasons=LOG_FOUND)["ok"]


def test_two_faults_in_one_block_fail_as_not_alone():
    r = check_invalid(_replaced_everywhere(), _nodes(), {901: 6}, [_fault(), _fault("expired", tx="0x02")],
                      faults=True, reasons=LOG_FOUND)
    assert not r["ok"] and not r["faults"][0]["alone_in_block"]


def test_a_fault_the_inbox_reverted_fails_and_no_faults_fail_with_faults_on():
    r = check_invalid(_replaced_everywhere(), _nodes(), {901: 6}, [_fault(status=0)], faults=True)
    assert not r["ok"] and "reverted" in r["faults"][0]["why"]
    assert not check_invalid(_replaced_everywhere(), _nodes(), {901: 6}, [], faults=True)["ok"]


def _valid(kind, tx, block):
    return {"kind": kind, "chain_id": 901, "tx": tx, "block_number": block}


def test_valid_messages_cross_safe_pending_and_missing():
    receipts = {"0x01": {"blockHash": ORIG, "blockNumber": "0x5", "status": "0x1"},
                "0x02": {"blockHash": NEW, "blockNumber": "0x6", "status": "0x1"},
                "0x03": {"blockHash": ORIG, "blockNumber": "0x9", "status": "0x1"}}
    rpc = FakeRpc({"sn": {"blocks": {5: ORIG, 6: NEW, 9: ORIG}, "receipts": receipts}})
    ok = check_valid(rpc, _nodes(), {901: 6}, [_valid("relay", "0x01", 5), _valid("validate", "0x02", 6),
                                               _valid("relay", "0x03", 9)])
    assert ok["ok"] and [m["state"] for m in ok["messages"]] == ["cross-safe", "cross-safe", "pending"]
    missing = check_valid(rpc, _nodes(), {901: 6}, [_valid("relay", "0x01", 5), _valid("validate", "0x04", 6)])
    assert not missing["ok"] and missing["messages"][1]["state"] == "missing"
    # executed by the sequencer in block 7, not yet derived by the supernode when the run ended: pending
    underived = check_valid(rpc, _nodes(), {901: 6}, [_valid("relay", "0x01", 5), _valid("validate", "0x02", 6),
                                                      _valid("relay", "0x05", 7)])
    assert underived["ok"] and underived["messages"][2]["state"] == "pending"
    only_relay = check_valid(rpc, _nodes(), {901: 6}, [_valid("relay", "0x01", 5)])
    assert not only_relay["ok"]  # no direct validateMessage reached cross-safe


def test_tx_candidate_access_list_is_signed_into_the_transaction():
    key = keccak256(b"interop parts key")
    slot = keccak256(b"slot")
    m = TxManager(None, key)
    m.chain_id = 901
    tx, wire = m._build(TxCandidate(CROSS_L2_INBOX, b"\x01", gas_limit=100_000,
                                    access_list=((CROSS_L2_INBOX, (slot,)),)), 0, 100_000, Fees(1, 10))
    back = decode(wire)
    assert [[bytes(a), [bytes(k) for k in keys]] for a, keys in back.access_list] == [[CROSS_L2_INBOX, [slot]]]
    assert back.sender() == m.address


def test_free_port_never_hands_out_a_port_twice(monkeypatch):
    """The kernel offered a just-released port again: the supernode's port, picked ahead, went to an engine."""
    from opnode.tools.devnet import procs

    offered = iter([61_000, 61_000, 61_001])

    class FakeSocket:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def bind(self, addr):
            self.port = next(offered)

        def getsockname(self):
            return ("127.0.0.1", self.port)

    monkeypatch.setattr(procs.socket, "socket", FakeSocket)
    monkeypatch.setattr(procs, "_GIVEN", set(), raising=False)
    assert [procs.free_port(), procs.free_port()] == [61_000, 61_001]
