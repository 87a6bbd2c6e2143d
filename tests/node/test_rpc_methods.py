"""RPC contract tests: field names, types and encodings of op-node's methods, served over real HTTP from a fake
NodeAPI; optimism_outputAtBlock against the embedded engine (eth_getProof before Isthmus, withdrawalsRoot after)."""

from __future__ import annotations

import logging
import re

import httpx
import pytest
from trie import HexaryTrie

from derivation.protocol import rlp
from derivation.protocol.crypto import keccak256
from derivation.protocol.hexutil import from_hex, to_hex
from derivation.protocol.predeploys import L2_TO_L1_MESSAGE_PASSER
from derivation.protocol.rollup_config import Fork, RollupConfig
from derivation.protocol.types import BlockID
from engine.execution.op_genesis import build_op_genesis, rollup_config_for
from engine.execution.service import EngineService
from opnode.node import logs
from opnode.node.l2_reader import L2Reader
from opnode.node.metrics import Metrics
from opnode.node.networks import load_rollup_config
from opnode.node.safedb import SafeDB
from opnode.testing.engine import GENESIS_TIME, SEQ_VAULT, addr, genesis, key, l1_info, transfer
from tests.node.rpc_support import STATUS, Client, FakeNode, start_server
from tests.vectors import load

CFG = load_rollup_config("op-sepolia")
HASH = re.compile(r"^0x[0-9a-f]{64}$")
SECRET = bytes(range(32))


@pytest.fixture
async def http():
    async with httpx.AsyncClient(timeout=30) as c:
        yield c


async def serve(nursery, http, node, **kw) -> Client:
    port, _ = await start_server(nursery, node, **kw)
    return Client(http, f"http://127.0.0.1:{port}/")


def _check_l1_ref(d):
    assert list(d) == ["hash", "number", "parentHash", "timestamp"]
    assert HASH.match(d["hash"]) and HASH.match(d["parentHash"])
    assert type(d["number"]) is int and type(d["timestamp"]) is int


def _check_l2_ref(d):
    assert list(d) == ["hash", "number", "parentHash", "timestamp", "l1origin", "sequenceNumber"]
    _check_l1_ref({k: d[k] for k in ("hash", "number", "parentHash", "timestamp")})
    assert list(d["l1origin"]) == ["hash", "number"] and HASH.match(d["l1origin"]["hash"])
    assert type(d["l1origin"]["number"]) is int and type(d["sequenceNumber"]) is int


def _check_status(s):
    assert list(s) == ["current_l1", "current_l1_finalized", "head_l1", "safe_l1", "finalized_l1", "unsafe_l2",
                       "safe_l2", "finalized_l2", "pending_safe_l2", "cross_unsafe_l2", "local_safe_l2"]
    for k, v in s.items():
        (_check_l2_ref if k.endswith("_l2") else _check_l1_ref)(v)


async def test_sync_status_shape(nursery, http):
    c = await serve(nursery, http, FakeNode(CFG))
    s = await c.result("optimism_syncStatus")
    _check_status(s)
    assert s == STATUS.to_json()
    assert s["unsafe_l2"]["number"] == 520 and s["safe_l2"]["l1origin"]["number"] == 94


@pytest.mark.parametrize("name", sorted(load("rollup_configs.json")["chains"]))
async def test_rollup_config_is_op_nodes_rollup_json(nursery, http, name):
    """The registry's rollup.json comes back with op-node's keys and values; addresses in lower case, as Go's
    common.Address marshals them."""
    expected = load("rollup_configs.json")["chains"][name]["rollup_json"]
    cfg = RollupConfig.from_json(expected)
    c = await serve(nursery, http, FakeNode(cfg))
    out = await c.result("optimism_rollupConfig")
    assert out == cfg.to_json()
    for field in ("batch_inbox_address", "deposit_contract_address", "l1_system_config_address"):
        assert out[field] == expected[field].lower()
    assert out["genesis"]["system_config"]["batcherAddr"] == expected["genesis"]["system_config"]["batcherAddr"].lower()
    exp = {k: v for k, v in expected.items() if k != "genesis"}
    assert {k: out[k] for k in exp} == {k: v.lower() if isinstance(v, str) else v for k, v in exp.items()}
    assert out["genesis"]["l2"] == expected["genesis"]["l2"] and out["genesis"]["l2_time"] == expected["genesis"]["l2_time"]
    assert type(out["block_time"]) is int and type(out["genesis"]["l1"]["number"]) is int


async def test_version(nursery, http):
    c = await serve(nursery, http, FakeNode(CFG))
    assert await c.result("optimism_version") == "v9.9.9-test"


async def test_safe_head_at_l1_block(nursery, http, tmp_path):
    c = await serve(nursery, http, FakeNode(CFG))
    assert (await c.rpc("optimism_safeHeadAtL1Block", "0x10"))["error"] == {
        # op-node wraps safedb.ErrNotEnabled (everything but ErrNotFound): op-node/node/api.go SafeHeadAtL1Block
        "code": -32000, "message": "failed to get safe head at l1 block 0x10: safe head database not enabled"}
    db = SafeDB(tmp_path / "safedb")
    c = await serve(nursery, http, FakeNode(CFG, safedb=db))
    assert (await c.rpc("optimism_safeHeadAtL1Block", "0x10"))["error"] == {"code": -32000, "message": "not found"}
    db.record(BlockID(b"\xdd" + bytes(31), 5221), BlockID(b"\xee" + bytes(31), 223))
    # op-node TestSafeHeadAtL1Block: the entry two L1 blocks before the one asked for
    assert await c.result("optimism_safeHeadAtL1Block", hex(5223)) == {
        "l1Block": {"hash": "0xdd" + "00" * 31, "number": 5221},
        "safeHead": {"hash": "0xee" + "00" * 31, "number": 223}}
    db.close()


async def test_peer_stats_zero_without_p2p_and_from_p2p(nursery, http):
    c = await serve(nursery, http, FakeNode(CFG))
    assert await c.result("opp2p_peerStats") == {"connected": 0, "table": 0, "blocksTopic": 0, "blocksTopicV2": 0,
                                                 "blocksTopicV3": 0, "blocksTopicV4": 0, "banned": 0, "known": 0}

    class P2P:
        def peer_stats(self):
            return {"connected": 3, "blocksTopicV4": 2, "known": 9}

    c = await serve(nursery, http, FakeNode(CFG, p2p=P2P()))
    stats = await c.result("opp2p_peerStats")
    assert stats["connected"] == 3 and stats["blocksTopicV4"] == 2 and stats["known"] == 9 and stats["banned"] == 0


async def test_admin_sequencer_controls(nursery, http):
    node = FakeNode(CFG)
    c = await serve(nursery, http, node, admin=True)
    head = "0x" + STATUS.unsafe_l2.hash.hex()
    assert await c.result("admin_stopSequencer") == head
    assert await c.result("admin_sequencerActive") is False
    err = (await c.rpc("admin_startSequencer", "0x" + "01" * 32))["error"]
    assert err["code"] == -32000 and err["message"].startswith("block hash does not match")
    assert await c.result("admin_startSequencer", head) is None
    assert await c.result("admin_sequencerActive") is True
    err = (await c.rpc("admin_startSequencer", "0x1234"))["error"]
    assert err == {"code": -32602, "message": "invalid argument 0: hex string has length 4, want 64 for common.Hash"}
    assert [x[0] for x in node.calls] == ["stop", "active", "start", "start", "active"]


async def test_admin_post_unsafe_payload_checks_the_envelope(nursery, http):
    node = FakeNode(CFG)
    c = await serve(nursery, http, node, admin=True)
    payload = {"parentHash": "0x" + "11" * 32, "feeRecipient": "0x" + "22" * 20, "stateRoot": "0x" + "33" * 32,
               "receiptsRoot": "0x" + "44" * 32, "logsBloom": "0x" + "00" * 256, "prevRandao": "0x" + "55" * 32,
               "blockNumber": "0x10", "gasLimit": "0x1c9c380", "gasUsed": "0x0", "timestamp": "0x6553f100",
               "extraData": "0x", "baseFeePerGas": "0x7", "blockHash": "0x" + "66" * 32, "transactions": ["0x7e01"],
               "withdrawals": []}
    assert await c.result("admin_postUnsafePayload", {"executionPayload": payload,
                                                      "parentBeaconBlockRoot": "0x" + "77" * 32}) is None
    env = node.calls[-1][1]
    assert env.block_hash == b"\x66" * 32 and env.number == 16 and env.parent_beacon_block_root == b"\x77" * 32
    for bad in ({}, {"executionPayload": {**payload, "blockHash": "0x12"}},
                {"executionPayload": {k: v for k, v in payload.items() if k != "stateRoot"}}):
        err = (await c.rpc("admin_postUnsafePayload", bad))["error"]
        assert err["code"] == -32602 and err["message"].startswith("invalid argument 0: ")
    assert len(node.calls) == 1


async def test_admin_set_log_level(nursery, http):
    root = logging.getLogger()
    before = root.level
    try:
        c = await serve(nursery, http, FakeNode(CFG), admin=True)
        assert await c.result("admin_setLogLevel", "debug") is None
        assert logs.current_level() == "debug"
        assert (await c.rpc("admin_setLogLevel", "loud"))["error"] == {"code": -32000, "message": "unknown level: loud"}
        assert logs.current_level() == "debug"
    finally:
        root.setLevel(before)


# ------------------------------------------------------------------------------------------- outputAtBlock


WITHDRAWAL = (bytes.fromhex("c2b3e5ac") + bytes(31) + b"\x99" + (100_000).to_bytes(32, "big")
              + (96).to_bytes(32, "big") + bytes(32))  # initiateWithdrawal(0x..99, 100000, "")


async def _build(reader: L2Reader, txs, *, isthmus: bool) -> dict:
    head = await reader.block_by_number("latest")
    a = {"timestamp": hex(int(head["timestamp"], 16) + 2), "prevRandao": to_hex(keccak256(b"randao")),
         "suggestedFeeRecipient": to_hex(SEQ_VAULT), "transactions": [to_hex(t.raw) for t in txs],
         "noTxPool": True, "gasLimit": "0x3938700", "eip1559Params": "0x0000003200000004", "withdrawals": [],
         "parentBeaconBlockRoot": to_hex(keccak256(b"beacon"))}
    if isthmus:
        a["minBaseFee"] = "0x0"
    fcs = {"headBlockHash": head["hash"], "safeBlockHash": head["hash"], "finalizedBlockHash": head["hash"]}
    res = await reader.call("engine_forkchoiceUpdatedV3", fcs, a)
    v = 4 if isthmus else 3
    env = await reader.call(f"engine_getPayloadV{5 if isthmus else 3}", res["payloadId"])  # the dev chain is Karst
    p = env["executionPayload"]
    extra = [[], env["parentBeaconBlockRoot"]] + ([[]] if isthmus else [])
    st = await reader.call(f"engine_newPayloadV{v}", p, *extra)
    assert st["status"] == "VALID", st
    await reader.call("engine_forkchoiceUpdatedV3", {**fcs, "headBlockHash": p["blockHash"]}, None)
    return p


async def _engine_chain(nursery, isthmus: bool):
    if isthmus:
        g = genesis()  # every fork through Jovian at genesis
    else:
        g = build_op_genesis(901, GENESIS_TIME, {Fork.HOLOCENE: 0}, funded={addr(0): 10**22})
    svc = EngineService(g, SECRET, http_port=0, auth_port=0)
    ports = await nursery.start(svc.run)
    cfg = rollup_config_for(g, svc.chain.genesis_hash)
    metrics = Metrics()
    reader = L2Reader(f"http://127.0.0.1:{ports.auth}", jwt_secret=SECRET, metrics=metrics)
    fmt = "jovian" if isthmus else "ecotone"
    blocks = [await _build(reader, [l1_info(100, 0, fmt=fmt)], isthmus=isthmus)]
    blocks.append(await _build(reader, [l1_info(100, 1, fmt=fmt),
                                        transfer(key(0), 0, L2_TO_L1_MESSAGE_PASSER, 5, gas=200_000,
                                                 data=WITHDRAWAL)], isthmus=isthmus))
    blocks.append(await _build(reader, [l1_info(101, 0, fmt=fmt)], isthmus=isthmus))
    return svc, cfg, reader, metrics, blocks


@pytest.mark.parametrize("isthmus", [False, True], ids=["holocene-eth_getProof", "isthmus-withdrawalsRoot"])
async def test_output_at_block_against_the_embedded_engine(nursery, http, isthmus):
    svc, cfg, reader, metrics, blocks = await _engine_chain(nursery, isthmus)
    node = FakeNode(cfg, l2_eth=reader)
    c = await serve(nursery, http, node)
    for p in blocks[1:]:
        n = int(p["blockNumber"], 16)
        out = await c.result("optimism_outputAtBlock", hex(n))
        assert list(out) == ["version", "outputRoot", "blockRef", "withdrawalStorageRoot", "stateRoot", "syncStatus"]
        # independent: the engine's own proof, checked with py-trie, and keccak over the preimage
        proof = await reader.call("eth_getProof", to_hex(L2_TO_L1_MESSAGE_PASSER), [], {"blockHash": p["blockHash"]})
        acct = HexaryTrie.get_from_proof(from_hex(p["stateRoot"]), keccak256(L2_TO_L1_MESSAGE_PASSER),
                                         [rlp.decode(from_hex(x)) for x in proof["accountProof"]])
        storage_root = rlp.decode(acct)[2]
        assert storage_root != from_hex("0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421")
        expected = keccak256(bytes(32) + from_hex(p["stateRoot"]) + storage_root + from_hex(p["blockHash"]))
        assert out["version"] == "0x" + "00" * 32
        assert out["outputRoot"] == to_hex(expected)
        assert out["stateRoot"] == p["stateRoot"]
        assert out["withdrawalStorageRoot"] == to_hex(storage_root)
        if isthmus:
            assert out["withdrawalStorageRoot"] == p["withdrawalsRoot"]
        _check_l2_ref(out["blockRef"])
        assert out["blockRef"]["hash"] == p["blockHash"] and out["blockRef"]["number"] == n
        assert out["blockRef"]["l1origin"]["number"] == (100 if n == 2 else 101)
        assert out["blockRef"]["sequenceNumber"] == (1 if n == 2 else 0)
        assert out["syncStatus"] == STATUS.to_json()
    proofs = metrics.sample("op_node_default_rpc_client_requests_total", {"rpc": "engine-api", "method": "eth_getProof"}) or 0
    assert (proofs > 2) if not isthmus else (proofs == 2)  # the two above are the test's own
    if isthmus:  # --fetch-withdrawal-root-from-state reads the same root through eth_getProof
        node.fetch_withdrawal_root_from_state = True
        again = await c.result("optimism_outputAtBlock", "0x3")
        assert again["outputRoot"] == out["outputRoot"]
        assert metrics.sample("op_node_default_rpc_client_requests_total", {"rpc": "engine-api", "method": "eth_getProof"}) == 3
    svc.shutdown.set()


async def test_output_at_block_errors(nursery, http):
    svc, cfg, reader, _, blocks = await _engine_chain(nursery, False)

    class Forging(L2Reader):
        async def get_proof(self, address, keys, block_hash):
            r = await super().get_proof(address, keys, block_hash)
            return {**r, "storageHash": "0x" + "ab" * 32}

    forging = Forging(reader.url, jwt_secret=SECRET)
    c = await serve(nursery, http, FakeNode(cfg, l2_eth=forging))
    err = (await c.rpc("optimism_outputAtBlock", "0x2"))["error"]
    assert err["code"] == -32000
    assert err["message"].startswith(f"failed to get L2 output at block {blocks[1]['blockHash']}:2: ")
    assert f"invalid withdrawal root hash, state root was {blocks[1]['stateRoot']}: " in err["message"]
    assert "does not prove" in err["message"]
    c = await serve(nursery, http, FakeNode(cfg, l2_eth=reader))
    assert (await c.rpc("optimism_outputAtBlock", "0x63"))["error"] == {
        "code": -32000, "message": "failed to get L2 block ref with sync status: not found"}
    wrong_chain = FakeNode(load_rollup_config("op-sepolia"), l2_eth=reader)  # genesis block 0 is not op-sepolia's
    c = await serve(nursery, http, wrong_chain)
    err = (await c.rpc("optimism_outputAtBlock", "0x0"))["error"]
    assert err["code"] == -32000 and err["message"].startswith("failed to get L2 block ref with sync status: ")
    await forging.aclose()
    svc.shutdown.set()
