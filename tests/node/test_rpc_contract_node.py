"""RPC contract against the real runtime (RuntimeAPI over a syncing driver + engine controller + real embedded
engine, not a fake NodeAPI): every field of optimism_syncStatus holds the head op-node puts there, and
optimism_outputAtBlock, optimism_safeHeadAtL1Block and optimism_rollupConfig answer in op-node's shapes
(../shared/reference/follow-and-rpc.md §2) with values checked against the engine and the L1 chain; admin
methods only with --rpc.enable-admin."""

from __future__ import annotations

import re
from itertools import pairwise
from types import SimpleNamespace

import httpx
import trio

from bench.node import make_chain
from derivation.events import PipelineReset
from derivation.protocol.crypto import keccak256
from derivation.protocol.hexutil import from_hex
from derivation.protocol.rollup_config import Fork
from engine.execution.service import EngineService
from opnode.node.l2_reader import L2Reader
from opnode.node.networks import load_rollup_config
from opnode.node.rpc.server import RPCConfig, RPCServer
from opnode.node.runtime.api import RuntimeAPI
from opnode.node.safedb import SafeDB
from opnode.testing.runtime import SECRET, Node
from tests.node.rpc_support import Client
from tests.node.test_flags import clean_env, files  # noqa: F401  (fixtures)
from tests.vectors import load

HASH = re.compile(r"^0x[0-9a-f]{64}$")
L1_KEYS = ["hash", "number", "parentHash", "timestamp"]
L2_KEYS = L1_KEYS + ["l1origin", "sequenceNumber"]
STATUS_KEYS = ["current_l1", "current_l1_finalized", "head_l1", "safe_l1", "finalized_l1", "unsafe_l2", "safe_l2",
               "finalized_l2", "pending_safe_l2", "cross_unsafe_l2", "local_safe_l2"]


def _ref_json(info) -> dict:
    return {"hash": "0x" + info.hash.hex(), "number": info.number, "parentHash": "0x" + info.parent_hash.hex(),
            "timestamp": info.time}


async def _synced_node(nursery, tmp_path):
    """A sequencer's chain (pre-Isthmus: outputs need eth_getProof) derived by a verifier into its own engine."""
    c = await make_chain(14, 2, 2, forks={Fork.HOLOCENE: 0})
    w = c.world
    ports = await nursery.start(EngineService(c.genesis, SECRET, http_port=0, auth_port=0).run)
    url = f"http://127.0.0.1:{ports.auth}"
    node = Node(w, url, derive=True)
    db = SafeDB(tmp_path / "safedb")
    node.driver.safe_heads.safedb = db
    await nursery.start(node.driver.run)
    target = c.envelopes[-1].block_hash
    with trio.fail_after(60):
        while node.ctrl.safe.hash != target or node.ctrl.finalized.number == 0:
            node.driver.wake()
            await trio.sleep(0.05)
    await node.ctrl.sync_forkchoice()
    canon = w.l1.canonical
    heads = SimpleNamespace(head=canon[-1].info.ref, safe=canon[-2].info.ref, finalized=canon[-3].info.ref)
    for name in ("head", "safe", "finalized"):
        node.status.on_l1(name, getattr(heads, name))
    reader = L2Reader(url, jwt_secret=SECRET)
    runtime = SimpleNamespace(cfg=w.cfg, l2_reader=reader, safedb=db, p2p=None, sequencer=None, ctrl=node.ctrl,
                              heads=heads, driver=node.driver, pipeline=node.pipeline, status=node.status,
                              config=SimpleNamespace(fetch_withdrawal_root_from_state=False, rpc=RPCConfig()))
    return c, node, runtime, reader, db


async def _serve(nursery, http, runtime, admin: bool) -> Client:
    server = RPCServer.for_node(RPCConfig(addr="127.0.0.1", port=0, enable_admin=admin), RuntimeAPI(runtime))
    port = await nursery.start(server.run)
    return Client(http, f"http://127.0.0.1:{port}/")


async def test_the_running_nodes_rpc_answers_in_op_nodes_shapes_with_the_real_heads(nursery, tmp_path):
    c, node, runtime, reader, db = await _synced_node(nursery, tmp_path)
    w = c.world
    async with httpx.AsyncClient(timeout=30) as http:
        rpc = await _serve(nursery, http, runtime, admin=False)
        s = await rpc.result("optimism_syncStatus")

        # ---- syncStatus: eleven fields, in op-node's order, each the head op-node reports there
        assert list(s) == STATUS_KEYS
        for k, v in s.items():
            assert list(v) == (L2_KEYS if k.endswith("_l2") else L1_KEYS), k
            assert HASH.match(v["hash"]) and HASH.match(v["parentHash"]), k
            assert type(v["number"]) is int and type(v["timestamp"]) is int, k
        last = c.envelopes[-1]
        tip = s["unsafe_l2"]
        assert (tip["hash"], tip["number"], tip["parentHash"], tip["timestamp"]) == (
            "0x" + last.block_hash.hex(), last.number, "0x" + last.parent_hash.hex(), last.timestamp)
        origin = w.l1.by_hash[from_hex(tip["l1origin"]["hash"])].info
        assert list(tip["l1origin"]) == ["hash", "number"] and tip["l1origin"]["number"] == origin.number
        assert origin.time <= tip["timestamp"] and type(tip["sequenceNumber"]) is int  # exact values below
        for k in ("safe_l2", "local_safe_l2", "pending_safe_l2", "cross_unsafe_l2"):
            assert s[k] == tip, k  # fully synced: every L2 head is the tip
        fin = s["finalized_l2"]
        assert 0 < fin["number"] <= tip["number"]
        engine_fin = await reader.block_by_number(fin["number"])
        assert fin["hash"] == engine_fin["hash"] and fin["parentHash"] == engine_fin["parentHash"]
        assert fin["timestamp"] == int(engine_fin["timestamp"], 16)
        # the L2 block is finalized because the L1 block it was derived from is finalized
        assert w.l1.by_hash[from_hex(fin["l1origin"]["hash"])].info.number <= runtime.heads.finalized.number
        assert s["head_l1"] == _ref_json(runtime.heads.head)
        assert s["safe_l1"] == _ref_json(runtime.heads.safe)
        assert s["finalized_l1"] == s["current_l1_finalized"] == _ref_json(runtime.heads.finalized)
        assert s["current_l1"] == _ref_json(node.pipeline.origin)
        assert s["current_l1"]["number"] <= s["head_l1"]["number"]

        # sequence numbers: consecutive blocks of one origin count up from 0
        seqs = []
        for env in c.envelopes:
            out = await rpc.result("optimism_outputAtBlock", hex(env.number))
            seqs.append((out["blockRef"]["l1origin"]["number"], out["blockRef"]["sequenceNumber"]))
        assert len({o for o, _ in seqs}) > 1 and max(n for _, n in seqs) > 1
        for (o1, n1), (o2, n2) in pairwise(seqs):
            assert n2 == (n1 + 1 if o2 == o1 else 0)

        # ---- outputAtBlock on the safe head: op-node's keys, v0 root over the engine's own values
        out = await rpc.result("optimism_outputAtBlock", hex(tip["number"]))
        assert list(out) == ["version", "outputRoot", "blockRef", "withdrawalStorageRoot", "stateRoot", "syncStatus"]
        blk = await reader.block_by_number(tip["number"])
        assert out["version"] == "0x" + "00" * 32 and out["blockRef"] == tip
        assert out["stateRoot"] == blk["stateRoot"] and HASH.match(out["withdrawalStorageRoot"])
        assert out["outputRoot"] == "0x" + keccak256(bytes(32) + from_hex(blk["stateRoot"])
                                                     + from_hex(out["withdrawalStorageRoot"])
                                                     + from_hex(blk["hash"])).hex()
        assert out["syncStatus"] == s
        err = (await rpc.rpc("optimism_outputAtBlock", hex(tip["number"] + 100)))["error"]
        assert err["code"] == -32000 and "not found" in err["message"]

        # ---- safeHeadAtL1Block: the safe head recorded as L1 advanced
        got = await rpc.result("optimism_safeHeadAtL1Block", hex(s["head_l1"]["number"]))
        assert list(got) == ["l1Block", "safeHead"]
        assert list(got["l1Block"]) == ["hash", "number"] and list(got["safeHead"]) == ["hash", "number"]
        assert got["safeHead"] == {"hash": tip["hash"], "number": tip["number"]}
        l1_block = w.l1.canonical[got["l1Block"]["number"]].info
        assert got["l1Block"]["hash"] == "0x" + l1_block.hash.hex()
        assert got["l1Block"]["number"] <= s["current_l1"]["number"]
        earlier = await rpc.result("optimism_safeHeadAtL1Block", hex(got["l1Block"]["number"] - 1))
        assert earlier["safeHead"]["number"] < tip["number"] and earlier["l1Block"]["number"] < l1_block.number
        assert (await rpc.rpc("optimism_safeHeadAtL1Block", "0x0"))["error"] == {"code": -32000,
                                                                                 "message": "not found"}

        # ---- rollupConfig: the node's own config, op-node's keys
        cfg = await rpc.result("optimism_rollupConfig")
        assert cfg == w.cfg.to_json() and cfg["l2_chain_id"] == w.cfg.l2_chain_id
        assert cfg["genesis"]["l2"] == {"hash": "0x" + w.cfg.genesis.l2.hash.hex(), "number": 0}

        # ---- admin: refused without --rpc.enable-admin, served with it
        for method in ("admin_resetDerivationPipeline", "admin_sequencerActive", "admin_stopSequencer"):
            assert (await rpc.rpc(method))["error"] == {
                "code": -32601, "message": f"the method {method} does not exist/is not available"}
        resets = sum(isinstance(e, PipelineReset) for e in node.events)
        assert node.driver.reset_reason is None and resets == 1  # the start-up reset only
        admin = await _serve(nursery, http, runtime, admin=True)
        assert await admin.result("admin_sequencerActive") is False
        assert await admin.result("admin_resetDerivationPipeline") is None
        with trio.fail_after(20):  # the driver resets the pipeline on its next iteration
            while sum(isinstance(e, PipelineReset) for e in node.events) == resets:
                await trio.sleep(0.05)
        # found again by sync start, not walked back
        assert (node.ctrl.safe.number, node.ctrl.safe.hash) == (last.number, last.block_hash)
        err = (await admin.rpc("admin_stopSequencer"))["error"]
        assert err == {"code": -32000, "message": "sequencer is not enabled"}
    await reader.aclose()
    db.close()


def _hexstr(n: int):
    return re.compile(rf"^0x[0-9a-f]{{{n}}}$")


async def test_rollup_config_system_config_and_omitempty_match_op_node(nursery):
    """op-node's rollup.Config JSON: genesis.system_config with the Holocene marshaller's keys (the RPC always uses
    it: op-deployer's pre-Holocene form drops eip1559Params and later fields), Bytes32/Bytes8 as fixed-width lower
    hex, numbers as JSON numbers, and no nulls (Go's omitempty leaves unset forks out)."""
    from derivation.protocol.rollup_config import RollupConfig
    from tests.node.rpc_support import FakeNode, start_server

    async with httpx.AsyncClient(timeout=30) as http:
        for name, chain in sorted(load("rollup_configs.json")["chains"].items()):
            cfg = RollupConfig.from_json(chain["rollup_json"])
            port, _ = await start_server(nursery, FakeNode(cfg))
            out = await Client(http, f"http://127.0.0.1:{port}/").result("optimism_rollupConfig")
            sc = out["genesis"]["system_config"]
            assert list(sc) == ["batcherAddr", "overhead", "scalar", "gasLimit", "eip1559Params",
                                "operatorFeeParams", "minBaseFee", "daFootprintGasScalar"], name
            assert _hexstr(40).match(sc["batcherAddr"]) and _hexstr(64).match(sc["overhead"])
            assert _hexstr(64).match(sc["scalar"]) and _hexstr(16).match(sc["eip1559Params"])
            assert _hexstr(64).match(sc["operatorFeeParams"])
            assert all(type(sc[k]) is int for k in ("gasLimit", "minBaseFee", "daFootprintGasScalar"))
            assert sc["gasLimit"] == chain["rollup_json"]["genesis"]["system_config"]["gasLimit"]

            def no_nulls(v, path):
                assert v is not None, path
                if isinstance(v, dict):
                    for k, x in v.items():
                        no_nulls(x, f"{path}.{k}")

            no_nulls(out, name)
            for k, v in out.items():
                if k.endswith("_time"):
                    assert type(v) is int, (name, k)
            assert set(out) == set(chain["rollup_json"]), name


def test_sync_status_maps_each_head_to_op_nodes_field():
    """RuntimeAPI.sync_status reads the status tracker, with every head distinct (a synced node has them all
    equal): which head lands in which field (op-node status.go: safe_l2 is cross-safe, local_safe_l2 local-safe,
    current_l1 the derivation origin or the follow source's, current_l1_finalized a copy of finalized_l1), and zero
    refs before L1 is known."""
    from derivation.protocol.types import ZERO_L1_REF
    from engine.heads import ForkchoiceSynced, Heads, HeadsChanged
    from opnode.node.sync_status import SyncStatusTracker
    from tests.node.rpc_support import l1, l2

    heads = Heads(unsafe=l2(20, 9), cross_unsafe=l2(19, 9), pending_safe=l2(16, 8), local_safe=l2(15, 8),
                  safe=l2(14, 7), finalized=l2(10, 5))
    tracker = SyncStatusTracker()
    node = SimpleNamespace(cfg=None, l2_reader=None, safedb=None, p2p=None, sequencer=None,
                           config=SimpleNamespace(fetch_withdrawal_root_from_state=False, rpc=RPCConfig()), status=tracker)
    s = RuntimeAPI(node).sync_status()
    assert s.head_l1 == s.safe_l1 == s.finalized_l1 == s.current_l1_finalized == s.current_l1 == ZERO_L1_REF
    assert list(s.to_json()["head_l1"].values()) == ["0x" + "00" * 32, 0, "0x" + "00" * 32, 0]
    tracker.on_l2(HeadsChanged(Heads(), heads))
    tracker.on_l2(ForkchoiceSynced(heads))
    for name, ref in (("head", l1(12)), ("safe", l1(11)), ("finalized", l1(6))):
        tracker.on_l1(name, ref)
    tracker.on_current_l1(l1(9))
    s = RuntimeAPI(node).sync_status()
    assert (s.unsafe_l2, s.cross_unsafe_l2, s.pending_safe_l2, s.local_safe_l2, s.safe_l2, s.finalized_l2) == (
        heads.unsafe, heads.cross_unsafe, heads.pending_safe, heads.local_safe, heads.safe, heads.finalized)
    assert (s.head_l1, s.safe_l1, s.finalized_l1, s.current_l1_finalized, s.current_l1) == (
        l1(12), l1(11), l1(6), l1(6), l1(9))
    tracker.on_current_l1(l1(10))  # a light node: the follow source's current_l1
    assert RuntimeAPI(node).sync_status().current_l1 == l1(10)


async def test_rpc_enable_admin_flag_and_env_reach_the_server(nursery, files):  # noqa: F811
    """--rpc.enable-admin / OP_NODE_RPC_ENABLE_ADMIN → NodeConfig.rpc → the server the node builds from it."""
    from tests.node.rpc_support import STATUS, FakeNode
    from tests.node.test_flags import base, parse

    configs = {"default": parse(base(files)).rpc, "flag": parse(base(files) + ["--rpc.enable-admin"]).rpc,
               "env": parse(base(files), env={"OP_NODE_RPC_ENABLE_ADMIN": "true"}).rpc,
               "flag=false beats env": parse(base(files) + ["--rpc.enable-admin=false"],
                                             env={"OP_NODE_RPC_ENABLE_ADMIN": "true"}).rpc}
    async with httpx.AsyncClient(timeout=30) as http:
        for name, rpc_cfg in configs.items():
            server = RPCServer.for_node(RPCConfig(addr="127.0.0.1", port=0, enable_admin=rpc_cfg.enable_admin),
                                        FakeNode(load_rollup_config("op-sepolia")))
            port = await nursery.start(server.run)
            body = await Client(http, f"http://127.0.0.1:{port}/").rpc("admin_stopSequencer")
            if name in ("flag", "env"):
                assert body["result"] == "0x" + STATUS.unsafe_l2.hash.hex(), name
            else:
                assert body["error"]["code"] == -32601, name
