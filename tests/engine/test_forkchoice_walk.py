"""A forkchoice update whose safe/finalized labels are far behind the head checks them through the canonical index,
not by reading every header in between (the soak's chain maker slowed down past the header cache: one sqlite read
and decode per block of distance, on every update)."""

import pytest

from engine.execution.engine_api import EngineAPI
from engine.execution.payload import RpcError
from opnode.testing.engine import attrs, dev_chain, l1_info


def _fcu(api, head: bytes, safe: bytes) -> dict:
    state = {"headBlockHash": "0x" + head.hex(), "safeBlockHash": "0x" + safe.hex(),
             "finalizedBlockHash": "0x" + safe.hex()}
    return api.forkchoice_updated(3, state, None)


def test_far_behind_labels_are_checked_without_walking_every_header():
    c = dev_chain()
    api = EngineAPI(c)
    genesis = c.head
    parent, built = genesis, []
    for _ in range(12):
        parent = c.build(parent.hash, attrs(parent), [l1_info()]).header
        built.append(parent)
    assert _fcu(api, built[5].hash, genesis.hash)["payloadStatus"]["status"] == "VALID"
    reads = []
    header = c.header
    c.header = lambda h: reads.append(h) or header(h)
    assert _fcu(api, built[-1].hash, built[1].hash)["payloadStatus"]["status"] == "VALID"  # head 6 past canon
    reads.clear()
    assert _fcu(api, built[-1].hash, genesis.hash)["payloadStatus"]["status"] == "VALID"  # labels 12 behind
    assert len(reads) <= 4  # head, the two labels, set_forkchoice's head: not one per block of distance (was 28)
    # a label off the canonical chain is still refused
    side = c.build(genesis.hash, attrs(genesis, dt=3), [l1_info()]).header
    with pytest.raises(RpcError, match="not in canonical chain"):
        _fcu(api, built[-1].hash, side.hash)
