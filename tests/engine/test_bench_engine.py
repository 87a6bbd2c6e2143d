"""The engine benchmark section runs and compares like with like (tiny sizes; figures are not asserted)."""

from bench.engine import engine_throughput


def test_engine_bench_runs_both_workloads_and_bare_py_evm():
    res = engine_throughput(blocks=1, per_block=4)
    assert set(res) == {"transfers", "contract calls"}
    for r in res.values():
        assert r["txs"] == 4 and r["bare_s"] > 0 and r["build_s"] > 0 and r["import_s"] > 0
        assert r["build_vs_bare"] == r["bare_s"] / r["build_s"]
