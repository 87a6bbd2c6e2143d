"""The gossip benchmark runs end to end (few rounds) and prints both latencies and the CPU lines."""

import bench.gossip as gossip


def test_bench_gossip_runs(monkeypatch, capsys):
    monkeypatch.setattr(gossip, "ROUNDS", 5)
    gossip.run()
    out = capsys.readouterr().out
    assert out.count("publish on host A -> delivered on host B") == len(gossip.SIZES)
    assert out.count("raw libp2p stream round trip") == len(gossip.SIZES)
    assert "block hash (receiver)" in out
