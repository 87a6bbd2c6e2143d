"""The source-node benchmark section runs end to end on a tiny chain and its figures are consistent (the figures
themselves are not asserted: they depend on the machine)."""

from bench.node import sync_throughput


def test_node_bench_syncs_the_chain_and_splits_its_time():
    r = sync_throughput(blocks=8, txs_per_block=1, channel_l1_blocks=1, l1_latencies=(0.0, 0.003), rounds=2)
    assert len(r["first_sync_runs_blocks_per_s"]) == 2 and len(r["build_runs_blocks_per_s"]) == 3
    assert r["syncs"][0]["sync_blocks_per_s"] == max(r["first_sync_runs_blocks_per_s"])
    assert len(r["paired_sync_vs_build"]) == 2 and all(x > 0 for x in r["paired_sync_vs_build"])
    assert r["blocks"] == 8 and r["user_txs"] == 8
    assert r["pipeline_s"] > 0 and r["build_s"] > 0 and r["import_s"] > 0
    slow_l1 = r["syncs"][1]
    for f in r["syncs"]:
        s = f["split"]
        assert all(v >= 0 for v in s.values()) and abs(sum(s.values()) - 1) < 1e-9
        assert s["derivation"] + s["engine"] + s["l1"] <= 1.0  # the buckets do not overlap
        assert s["engine"] > 0 and s["derivation"] > 0 and f["l1_requests"] > 0
        assert {"engine_forkchoiceUpdatedV3", "engine_getPayloadV4", "engine_newPayloadV4"} <= set(f["engine_methods"])
        assert f["engine_methods"]["engine_newPayloadV4"][0] == 8
        assert f["sync_vs_build"] == r["build_s"] / f["sync_s"]
    # a simulated L1 round trip is waited for, and only in the L1 bucket
    assert slow_l1["split"]["l1"] * slow_l1["sync_s"] >= 0.003 * slow_l1["l1_requests"]
