"""SyncStatus: op-node's JSON shape and tolerant parsing (kona without pending_safe_l2, proxyd's float64 numbers
and sorted keys, Go's case-insensitive keys and zero values)."""

from __future__ import annotations

import json

import pytest

from derivation.protocol.types import ZERO_L2_REF, BlockID, L1BlockRef, L2BlockRef
from opnode.node.sync_status import FIELDS, SyncStatus, SyncStatusError

# The OP Sepolia sample of the op-node JSON-RPC docs (follow-and-rpc.md §2.3), as op-node serialises it.
DOC_SAMPLE = {
    "current_l1": {"hash": "0xff3b3253058411b727ac662f4c9ae1698918179e02ecebd304beb1a1ae8fc4fd", "number": 4427350,
                   "parentHash": "0xb26586390c3f04678706dde13abfb5c6e6bb545e59c22774e651db224b16cd48",
                   "timestamp": 1696478784},
    "current_l1_finalized": {"hash": "0x7157f91b8ae21ef869c604e5b268e392de5aa69a9f44466b9b0f838d56426541",
                             "number": 4706784,
                             "parentHash": "0x1ac2612a500b9facd650950b8755d97cf2470818da2d88552dea7cd563e86a17",
                             "timestamp": 1700160084},
    "head_l1": {"hash": "0x6110a8e6ed4c4aaab20477a3eac81bf99e505bf6370cd4d2e3c6d34aa5f4059a", "number": 4706863,
                "parentHash": "0xee8a9cba5d93481f11145c24890fd8f536384f3c3c043f40006650538fbdcb56",
                "timestamp": 1700161272},
    "safe_l1": {"hash": "0x8407c9968ce278ab435eeaced18ba8f2f94670ad9d3bdd170560932cf46e2804", "number": 4706811,
                "parentHash": "0x6593cccab3e772776418ff691f6e4e75597af18505373522480fdd97219c06ef",
                "timestamp": 1700160480},
    "finalized_l1": {"hash": "0x7157f91b8ae21ef869c604e5b268e392de5aa69a9f44466b9b0f838d56426541", "number": 4706784,
                     "parentHash": "0x1ac2612a500b9facd650950b8755d97cf2470818da2d88552dea7cd563e86a17",
                     "timestamp": 1700160084},
    "unsafe_l2": {"hash": "0x9a3b2edab72150de252d45cabe2f1ac57d48ddd52bb891831ffed00e89408fe4", "number": 2338094,
                  "parentHash": "0x935b94ec0bac0e63c67a870b1a97d79e3fa84dda86d31996516cb2f940753f53",
                  "timestamp": 1696478728,
                  "l1origin": {"hash": "0x38731e0a6eeb40091f0c4a00650e911c57d054aaeb5b158f55cd5705fa6a3ebf",
                               "number": 4427339}, "sequenceNumber": 3},
    "safe_l2": {"hash": "0x9a3b2edab72150de252d45cabe2f1ac57d48ddd52bb891831ffed00e89408fe4", "number": 2338094,
                "parentHash": "0x935b94ec0bac0e63c67a870b1a97d79e3fa84dda86d31996516cb2f940753f53",
                "timestamp": 1696478728,
                "l1origin": {"hash": "0x38731e0a6eeb40091f0c4a00650e911c57d054aaeb5b158f55cd5705fa6a3ebf",
                             "number": 4427339}, "sequenceNumber": 3},
    "finalized_l2": {"hash": "0x285b03afb46faad747be1ca7ab6ef50ef0ff1fe04e4eeabafc54f129d180fad2", "number": 2337942,
                     "parentHash": "0x7e7f36cba1fd1ccdcdaa81577a1732776a01c0108ab5f98986cf997724eb48ac",
                     "timestamp": 1696478424,
                     "l1origin": {"hash": "0x983309dadf7e0ab8447f3050f2a85b179e9acde1cd884f883fb331908c356412",
                                  "number": 4427314}, "sequenceNumber": 7},
}
for _k in ("pending_safe_l2", "cross_unsafe_l2", "local_safe_l2"):
    DOC_SAMPLE[_k] = DOC_SAMPLE["safe_l2"]

ZERO_L1_JSON = {"hash": "0x" + "00" * 32, "number": 0, "parentHash": "0x" + "00" * 32, "timestamp": 0}
ZERO_L2_JSON = {**ZERO_L1_JSON, "l1origin": {"hash": "0x" + "00" * 32, "number": 0}, "sequenceNumber": 0}


def test_round_trip_keeps_op_nodes_bytes():
    s = SyncStatus.from_json(DOC_SAMPLE)
    assert s.to_json() == DOC_SAMPLE
    assert list(s.to_json()) == list(FIELDS)
    assert s.finalized_l2.l1_origin == BlockID(bytes.fromhex("983309dadf7e0ab8447f3050f2a85b179e9acde1cd884f883fb"
                                                             "331908c356412"), 4427314)
    assert s.head_l1.time == 1700161272


def test_zero_status_serialises_every_field_as_op_node_does():
    out = SyncStatus().to_json()
    assert len(out) == 11
    for name in FIELDS:
        assert out[name] == (ZERO_L2_JSON if name.endswith("_l2") else ZERO_L1_JSON), name
    assert json.dumps(out["safe_l2"], separators=(",", ":")) == (
        '{"hash":"0x' + "00" * 32 + '","number":0,"parentHash":"0x' + "00" * 32 + '","timestamp":0,"l1origin":'
        '{"hash":"0x' + "00" * 32 + '","number":0},"sequenceNumber":0}')


def test_kona_status_without_pending_safe():
    d = {k: v for k, v in DOC_SAMPLE.items() if k != "pending_safe_l2"}
    s = SyncStatus.from_json(d)
    assert s.pending_safe_l2 == ZERO_L2_REF
    assert s.safe_l2.number == 2338094


def test_proxyd_status_sorted_keys_and_float_numbers():
    def floats(x):
        if isinstance(x, dict):
            return {k: floats(v) for k, v in sorted(x.items())}
        return float(x) if isinstance(x, int) else x

    body = json.dumps(floats(DOC_SAMPLE))
    assert "4706863.0" in body
    assert SyncStatus.from_json(json.loads(body)) == SyncStatus.from_json(DOC_SAMPLE)


def test_hex_quantities_case_insensitive_keys_nulls_and_missing_members():
    d = json.loads(json.dumps(DOC_SAMPLE))
    d["head_l1"]["number"] = hex(4706863)
    d["UNSAFE_L2"] = d.pop("unsafe_l2")
    d["UNSAFE_L2"]["l1Origin"] = d["UNSAFE_L2"].pop("l1origin")
    d["safe_l1"] = None
    del d["finalized_l1"]["parentHash"]
    s = SyncStatus.from_json(d)
    assert s.head_l1.number == 4706863
    assert s.unsafe_l2.l1_origin.number == 4427339
    assert s.safe_l1 == L1BlockRef(bytes(32), 0, bytes(32), 0)
    assert s.finalized_l1.parent_hash == bytes(32) and s.finalized_l1.number == 4706784


@pytest.mark.parametrize("bad", [
    [], "x", {"head_l1": []}, {"head_l1": {"hash": "0x12", "number": 1}}, {"unsafe_l2": {"l1origin": 5}},
    {"head_l1": {"hash": "0x" + "00" * 32, "number": 1.5}}, {"head_l1": {"hash": "0x" + "00" * 32, "number": -1}},
    {"safe_l2": {"hash": "0x" + "zz" * 32}},
])
def test_bad_status_is_a_parse_error(bad):
    with pytest.raises(SyncStatusError):
        SyncStatus.from_json(bad)


def test_replace_gives_a_new_value():
    ref = L2BlockRef(b"\x01" * 32, 7, b"\x02" * 32, 99, BlockID(b"\x03" * 32, 3), 1)
    s = SyncStatus().replace(safe_l2=ref)
    assert s.safe_l2 == ref and SyncStatus().safe_l2 == ZERO_L2_REF
