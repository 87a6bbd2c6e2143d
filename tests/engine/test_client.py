"""The node's Engine API client: op-node's method versions per fork, typed results and errors, JWT."""

from __future__ import annotations

import json
from dataclasses import replace

import httpx
import pytest

from derivation.protocol.attributes import PayloadAttributes
from derivation.protocol.crypto import keccak256
from derivation.protocol.errors import TemporaryError
from derivation.protocol.rollup_config import Fork
from engine.client import (
    EngineAuthError,
    EngineClient,
    EngineTransportError,
    ForkchoiceState,
    UnknownPayload,
)
from engine.execution.op_genesis import rollup_config_for
from engine.execution.service import EngineService
from opnode.jsonrpc.http import bind
from opnode.jsonrpc.jwt import verify_token
from opnode.testing.engine import genesis, l1_info

SECRET = b"\x22" * 32
T0 = 1_700_000_000
PAYLOAD = {"parentHash": "0x" + "11" * 32, "feeRecipient": "0x" + "00" * 20, "stateRoot": "0x" + "44" * 32,
           "receiptsRoot": "0x" + "55" * 32, "logsBloom": "0x" + "00" * 256, "prevRandao": "0x" + "66" * 32,
           "blockNumber": "0x1", "gasLimit": "0x1c9c380", "gasUsed": "0x0", "timestamp": "0x2", "extraData": "0x",
           "baseFeePerGas": "0x7", "blockHash": "0x" + "22" * 32, "transactions": []}


def _config(times: dict):
    import dataclasses

    cfg = rollup_config_for(genesis(), b"\x01" * 32)
    return dataclasses.replace(cfg, fork_times=times)


def _recording_transport(calls: list):
    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        verify_token(SECRET, request.headers["authorization"].split(" ", 1)[1])
        calls.append((body["method"], body["params"]))
        m = body["method"]
        if m.startswith("engine_forkchoiceUpdated"):
            res = {"payloadStatus": {"status": "VALID", "latestValidHash": "0x" + "11" * 32, "validationError": None},
                   "payloadId": "0x0300000000000001"}
        elif m.startswith("engine_getPayload"):
            res = {"executionPayload": PAYLOAD, "blockValue": "0x5", "parentBeaconBlockRoot": "0x" + "33" * 32}
        else:
            res = {"status": "VALID", "latestValidHash": "0x" + "22" * 32, "validationError": None}
        return httpx.Response(200, json={"jsonrpc": "2.0", "id": body["id"], "result": res})

    return httpx.MockTransport(handler)


def _attrs(cfg, t, randao, recipient, txs, beacon_root) -> PayloadAttributes:
    """Attributes shaped for the fork at ``t``, as the attributes builder makes them."""
    return PayloadAttributes(
        timestamp=t, prev_randao=randao, suggested_fee_recipient=recipient, transactions=txs, gas_limit=30_000_000,
        withdrawals=() if cfg.is_active(Fork.CANYON, t) else None,
        parent_beacon_block_root=beacon_root if cfg.is_active(Fork.ECOTONE, t) else None,
        eip1559_params=bytes(8) if cfg.is_active(Fork.HOLOCENE, t) else None,
        min_base_fee=0 if cfg.is_active(Fork.JOVIAN, t) else None)


@pytest.mark.parametrize("times,t,fcu,getp,newp", [
    ({Fork.REGOLITH: 0}, T0, "V1", "V2", "V2"),
    ({Fork.CANYON: 0}, T0, "V2", "V2", "V2"),
    ({Fork.ECOTONE: 0}, T0, "V3", "V3", "V3"),
    ({Fork.HOLOCENE: 0}, T0, "V3", "V3", "V3"),
    ({Fork.ISTHMUS: 0}, T0, "V3", "V4", "V4"),
    ({Fork.JOVIAN: 0}, T0, "V3", "V4", "V4"),
    ({Fork.KARST: 0}, T0, "V3", "V5", "V4"),  # optimism PR #21337: getPayloadV5 from Karst, nothing else changes
    ({Fork.LAGOON: 0}, T0, "V3", "V5", "V4"),
    ({Fork.JOVIAN: 0, Fork.KARST: T0 + 2}, T0, "V3", "V4", "V4"),
    ({Fork.JOVIAN: 0, Fork.KARST: T0 + 2}, T0 + 2, "V3", "V5", "V4"),
    ({Fork.CANYON: 0, Fork.ECOTONE: T0 + 2}, T0, "V2", "V2", "V2"),
    ({Fork.CANYON: 0, Fork.ECOTONE: T0 + 2}, T0 + 2, "V3", "V3", "V3"),
])
async def test_method_versions_follow_op_node(times, t, fcu, getp, newp):
    calls: list = []
    cfg = _config(times)
    async with EngineClient("http://engine", SECRET, cfg, transport=_recording_transport(calls)) as c:
        attrs = _attrs(cfg, t, bytes(32), bytes(20), (), bytes(32))
        res = await c.forkchoice_updated(ForkchoiceState(b"\x01" * 32, bytes(32), bytes(32)), attrs)
        assert res.payload_id == bytes.fromhex("0300000000000001") and res.payload_status.valid
        env = await c.get_payload(res.payload_id, t)
        assert env.payload.to_json() == PAYLOAD and env.parent_beacon_block_root == b"\x33" * 32
        st = await c.new_payload(replace(env, payload=replace(env.payload, timestamp=t)))
        assert st.latest_valid_hash == b"\x22" * 32
        await c.forkchoice_updated(ForkchoiceState(b"\x01" * 32, bytes(32), bytes(32)))
    methods = [m for m, _ in calls]
    assert methods == [f"engine_forkchoiceUpdated{fcu}", f"engine_getPayload{getp}", f"engine_newPayload{newp}",
                       "engine_forkchoiceUpdatedV3"]
    sent_attrs = calls[0][1][1]
    assert ("withdrawals" in sent_attrs) == (fcu != "V1")
    assert ("parentBeaconBlockRoot" in sent_attrs) == (fcu == "V3")
    assert ("minBaseFee" in sent_attrs) == any(f >= Fork.JOVIAN for f in times)
    if newp == "V3":
        assert calls[2][1][1:] == [[], "0x" + "33" * 32]
    if newp == "V4":
        assert calls[2][1][1:] == [[], "0x" + "33" * 32, []]


async def test_client_drives_the_real_engine_and_maps_errors(nursery):
    svc = EngineService(genesis(), SECRET, http_port=0, auth_port=0)
    ports = await nursery.start(svc.run)
    g = svc.chain.head
    cfg = rollup_config_for(genesis(), g.hash)
    url = f"http://127.0.0.1:{ports.auth}"
    async with EngineClient(url, SECRET, cfg) as c:
        attrs = _attrs(cfg, g.timestamp + 2, keccak256(b"r"), bytes.fromhex("42" + "00" * 18 + "11"),
                       (l1_info().raw,), keccak256(b"b"))
        fc = await c.forkchoice_updated(ForkchoiceState(g.hash, g.hash, g.hash), attrs)
        env = await c.get_payload(fc.payload_id, attrs.timestamp)
        assert env.parent_hash == g.hash and env.transactions == (l1_info().raw,)
        st = await c.new_payload(env)
        assert st.valid and st.latest_valid_hash == env.block_hash
        fc = await c.forkchoice_updated(ForkchoiceState(env.block_hash, g.hash, g.hash))
        assert fc.payload_status.valid and fc.payload_id is None
        assert (await c.block("latest"))["hash"] == "0x" + env.block_hash.hex()
        with pytest.raises(UnknownPayload):
            await c.get_payload(bytes.fromhex("0300000000000009"), attrs.timestamp)
    async with EngineClient(url, b"\x23" * 32, cfg) as bad:
        with pytest.raises(EngineAuthError):
            await bad.exchange_capabilities([])
    closed = bind("127.0.0.1", 0)
    port = closed.getsockname()[1]
    closed.close()
    async with EngineClient(f"http://127.0.0.1:{port}", SECRET, cfg, timeout=2) as down:
        with pytest.raises(EngineTransportError) as e:
            await down.exchange_capabilities([])
        assert isinstance(e.value, TemporaryError)
    svc.shutdown.set()
