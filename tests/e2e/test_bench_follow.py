"""The follow benchmark's arithmetic (its devnet run itself is exercised by ``make bench``; the light-node e2e tests
cover the same stack): first-seen times across jumps, per-change lags, nearest-rank percentiles."""

from bench.follow import first_seen, lags, percentile


def test_first_seen_counts_every_number_of_a_jump_and_ignores_what_was_there_before():
    hist = [(0.0, 10), (1.0, 10), (2.0, 12), (3.0, 12), (4.0, 13), (5.0, 12)]
    assert first_seen(hist) == {11: 2.0, 12: 2.0, 13: 4.0}


def test_lags_only_for_changes_both_nodes_showed():
    source = {11: 2.0, 12: 2.0, 13: 4.0, 14: 6.0}
    light = {11: 3.5, 12: 3.5, 13: 7.0}
    assert lags(source, light) == [1.5, 1.5, 3.0]


def test_percentile_is_nearest_rank():
    xs = [float(i) for i in range(1, 101)]
    assert (percentile(xs, 50), percentile(xs, 99), percentile(xs, 100)) == (50.0, 99.0, 100.0)
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0 and percentile([7.0], 99) == 7.0
