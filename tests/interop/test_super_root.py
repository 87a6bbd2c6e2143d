"""superroot_atTimestamp shape and SuperV1 JSON (spec-vectors/interop/super_root.json: Go TestSuperRootV1JSON and the
fields of specs/interop/superroot.md). The super root hash is tested in tests/test_output_root.py."""

import pytest

from derivation.interop.super_root import (
    OptimisticOutput,
    super_root_v1,
    super_v1_from_json,
    super_v1_json,
    superroot_at_timestamp_json,
)
from derivation.protocol.hexutil import from_hex
from derivation.protocol.output_root import OutputRootError, OutputV0
from derivation.protocol.types import BlockID
from tests.vectors import load

VEC = load("interop/super_root.json")


def _super(v):
    return super_root_v1(v["timestamp"], [(cid, from_hex(root, 32)) for cid, root in v["chains"]])


def test_go_timestamp_is_hex():
    v = VEC["super_v1_json"]
    assert super_v1_json(_super(v))["timestamp"] == v["json_timestamp"]


def test_go_round_trip():
    sr = _super(VEC["super_v1_round_trip"])
    j = super_v1_json(sr)
    assert [c["ChainID"] for c in j["chains"]] == ["11", "12", "13"]
    assert super_v1_from_json(j) == sr


def test_unsorted_or_malformed_super_json_is_refused():
    j = super_v1_json(_super(VEC["super_v1_round_trip"]))
    j["chains"].reverse()
    with pytest.raises(OutputRootError):
        super_v1_from_json(j)
    with pytest.raises(OutputRootError):
        super_v1_from_json({"timestamp": "0x1"})


def test_response_has_the_spec_fields_and_the_verified_root():
    out = OutputV0(b"\x11" * 32, b"\x22" * 32, b"\x33" * 32)
    l1 = BlockID(b"\x05" * 32, 8)
    sr = super_root_v1(101, [(10, out.root())])
    resp = superroot_at_timestamp_json(BlockID(b"\x01" * 32, 9), 100, 101, 90, [10],
                                       {10: OptimisticOutput(out, l1)}, (sr, l1))
    assert sorted(resp) == sorted(VEC["response_fields"])
    opt = resp["optimistic_at_timestamp"]["10"]
    assert sorted(opt) == sorted(VEC["optimistic_fields"]) and sorted(opt["output"]) == sorted(VEC["output_v0_fields"])
    assert from_hex(opt["output_root"]) == out.root()
    assert sorted(resp["data"]) == sorted(VEC["data_fields"])
    assert from_hex(resp["data"]["super_root"]) == sr.root() and resp["chain_ids"] == ["10"]
    pending = superroot_at_timestamp_json(BlockID(b"\x01" * 32, 9), 100, 101, 90, [10], {}, None)
    assert "data" not in pending and pending["optimistic_at_timestamp"] == {}
