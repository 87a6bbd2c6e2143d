"""The soak and restart benchmark sections on a tiny scale: the soak syncs the whole range and reports one
stretch per ``stretch`` blocks with positive rates and RSS (the figures themselves depend on the machine); the
restart section's check refuses a safe head that went back across a restart."""

import pytest

from bench.restart import check_no_step_back
from bench.soak import soak


def test_soak_reports_each_stretch_of_the_sync_on_the_source_and_the_light_node():
    r = soak(blocks=12, stretch=4)
    assert [s["upto"] for s in r["source"]["stretches"]] == [4, 8, 12]
    # the light node follows in the source's snapshot steps: its stretches end where its engine got to
    assert r["light"]["stretches"][-1]["upto"] == 12
    for node in ("source", "light"):
        n = r[node]
        assert all(s["blocks_per_s"] > 0 and s["blocks_per_cpu_s"] > 0 and s["rss_mb"] > 0 for s in n["stretches"])
        assert r["peak_rss_mb"] >= n["sync_peak_rss_mb"] and n["start_rss_mb"] > 0 and n["sync_s"] > 0
    assert r["light"]["follow_results"].get("success", 0) > 0


def test_restart_check_refuses_a_safe_head_that_went_back():
    check_no_step_back([{"before": 8, "resumed": 8}, {"before": 9, "resumed": 12}])
    with pytest.raises(AssertionError, match="round 2: 8 -> 6"):
        check_no_step_back([{"before": 5, "resumed": 7}, {"before": 8, "resumed": 6}])
