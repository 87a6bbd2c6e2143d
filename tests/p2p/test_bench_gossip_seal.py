"""The seal -> insertion benchmark runs end to end (few blocks): every block the sequencer sealed reaches the light
node's engine by gossip (the benchmark checks the light node's head is the sequencer's block each round), and the
latency split adds up."""

import trio

import bench.gossip as gossip


def test_seal_to_insert_runs(tmp_path):
    res = trio.run(gossip.seal_to_insert, tmp_path, 4)
    assert len(res["seal->inserted"]) == len(res["raw"]) == 4
    for whole, a, b in zip(res["seal->inserted"], res["seal->delivered"], res["delivered->inserted"], strict=True):
        assert a > 0 and b > 0 and abs(whole - (a + b)) < 1e-9
    assert res["size"][0] > 10 * 100  # ten signed transfers and the L1 info deposit, snappy-compressed


def test_run_prints_the_node_path_next_to_the_raw_round_trip(monkeypatch, capsys):
    monkeypatch.setattr(gossip, "ROUNDS", 5)
    monkeypatch.setattr(gossip, "SIZES", {"small block (10 txs)": 10})
    gossip.run()
    out = capsys.readouterr().out
    assert "seal->inserted " in out and "baseline: raw stream round trip, same hosts and size" in out
    assert "seal->inserted p50 / raw round trip p50" in out
