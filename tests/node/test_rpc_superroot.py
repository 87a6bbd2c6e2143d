"""``superroot_atTimestamp`` on a single-chain node (op-node/node/superroot_api.go @0f287d47 and its tests): over real
HTTP, against the embedded engine's blocks and a real safe-head DB. The super root is recomputed here by hand from
the spec's preimage (``0x01 ‖ u64 timestamp ‖ u256 chain id ‖ output root``) and ``optimism_outputAtBlock``."""

from __future__ import annotations

import httpx
import pytest

from derivation.protocol.crypto import keccak256
from derivation.protocol.hexutil import from_hex, to_hex
from derivation.protocol.types import BlockID
from opnode.node.safedb import SafeDB
from tests.node.rpc_support import STATUS, Client, FakeNode, start_server
from tests.node.test_rpc_methods import _engine_chain


@pytest.fixture
async def http():
    async with httpx.AsyncClient(timeout=30) as c:
        yield c


def _status_with_local_safe(number: int, time: int):
    ref = STATUS.local_safe_l2
    local = type(ref)(ref.hash, number, ref.parent_hash, time, ref.l1_origin, ref.sequence_number)
    return STATUS.replace(local_safe_l2=local)


async def test_superroot_at_timestamp_on_one_chain(nursery, http, tmp_path):
    svc, cfg, reader, _, blocks = await _engine_chain(nursery, True)
    times = {int(p["blockNumber"], 16): int(p["timestamp"], 16) for p in blocks}
    node = FakeNode(cfg, l2_eth=reader, status=_status_with_local_safe(2, times[2]))
    port, _ = await start_server(nursery, node)
    c = Client(http, f"http://127.0.0.1:{port}/")

    err = (await c.rpc("superroot_atTimestamp", hex(times[1])))["error"]
    assert err == {"code": -32000,
                   "message": "safedb not enabled: --safedb.path is required to serve superroot_atTimestamp"}

    db = node.safedb = SafeDB(tmp_path / "safedb.sqlite")
    l1a, l1b = BlockID(b"\x0a" * 32, 100), BlockID(b"\x0b" * 32, 101)
    b1, b2 = (BlockID(from_hex(blocks[i]["blockHash"]), i + 1) for i in (0, 1))
    db.record(l1a, b1)
    db.record(l1b, b2)

    got = await c.result("superroot_atTimestamp", hex(times[2] + 1))  # block 2 is the highest with time <= ts
    out = await c.result("optimism_outputAtBlock", "0x2")
    preimage = b"\x01" + (times[2] + 1).to_bytes(8, "big") + cfg.l2_chain_id.to_bytes(32, "big") + \
        from_hex(out["outputRoot"])
    cid = str(cfg.l2_chain_id)
    assert got["chain_ids"] == [cid]
    assert got["data"]["super_root"] == to_hex(keccak256(preimage))
    assert got["data"]["verified_required_l1"] == l1b.to_json()
    assert got["optimistic_at_timestamp"][cid]["output_root"] == out["outputRoot"]
    assert got["optimistic_at_timestamp"][cid]["required_l1"] == l1b.to_json()
    assert got["safe_timestamp"] == STATUS.safe_l2.time and got["local_safe_timestamp"] == times[2]

    genesis = await c.result("superroot_atTimestamp", hex(cfg.genesis.l2_time))
    assert genesis["data"]["verified_required_l1"]["number"] == 0  # L2 genesis is safe at L1 block 0

    for ts in (times[3], cfg.genesis.l2_time - 1):  # past local-safe; before genesis
        empty = await c.result("superroot_atTimestamp", hex(ts))
        assert "data" not in empty and empty["optimistic_at_timestamp"] == {}, ts

    # block 1 became safe before the DB's first row (a node bootstrapped past it): history unavailable
    db.truncate_from(0)
    db.record(l1b, b2)
    err = (await c.rpc("superroot_atTimestamp", hex(times[1])))["error"]
    assert err["code"] == -32000 and err["message"].endswith("l1 at safe head history unavailable"), err
    # ... while the first row's own block is known to have become safe there
    assert (await c.result("superroot_atTimestamp", hex(times[2])))["data"]["verified_required_l1"] == l1b.to_json()
    assert (await c.rpc("superroot_atTimestamp", "0x"))["error"]["code"] == -32602
    db.close()
    svc.shutdown.set()
