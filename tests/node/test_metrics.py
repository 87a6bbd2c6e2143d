"""op-node's metric names, scraped over HTTP from the metrics server."""

from __future__ import annotations

import time

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from derivation import events as ev
from derivation.protocol.types import BlockID, L1BlockRef, L2BlockRef
from opnode.node.metrics import Metrics
from opnode.node.sync_status import SyncStatus
from tests.node.rpc_support import STATUS

L1 = L1BlockRef(b"\x01" * 32, 100, b"\x00" * 32, 1_700_000_000)


async def scrape(nursery, m: Metrics) -> tuple[dict, str]:
    port = await nursery.start(m.serve, "127.0.0.1", 0)
    async with httpx.AsyncClient(timeout=10) as c:
        r = await c.get(f"http://127.0.0.1:{port}/metrics")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
        root = await c.get(f"http://127.0.0.1:{port}/")  # any path serves the exposition, as promhttp
        assert root.status_code == 200 and "op_node_default_up" in root.text
        assert (await c.post(f"http://127.0.0.1:{port}/metrics")).status_code == 405
    samples = {}
    for fam in text_string_to_metric_families(r.text):
        for s in fam.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples, r.text


def val(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))))


async def test_node_metric_names_over_http(nursery):
    m = Metrics()
    m.record_info("v0.1.0")
    m.record_up()
    m.record_sync_status(STATUS)
    m.set_derivation_idle(True)
    m.record_pipeline_reset()
    m.record_derivation_error()
    m.record_received_unsafe_payload(521, 1_700_001_042, b"\x05" * 32)
    m.record_unsafe_payloads_buffer(3, 4096, 522, b"\x06" * 32)
    m.record_rpc_server_request("optimism_syncStatus", 0.01)
    m.record_follow_source("error_l1_mismatch")
    for e in (ev.FramesRead(L1, 0, ((b"\x01" * 16, 0, 100, False), (b"\x01" * 16, 1, 50, True))),
              ev.ChannelReady(L1, b"\x01" * 16, 2, 150, 99),
              ev.BatchRead(L1, "span", 1_700_000_000, 5, 10, 140),
              ev.BatchRead(L1, "singular", 1_700_000_010, 1, 2, 40),
              ev.Dropped(L1, "channel", ev.DropReason.CHANNEL_TIMEOUT, "timed out"),
              ev.Dropped(L1, "batch", ev.DropReason.PAST_TIMESTAMP, "old"),
              ev.Dropped(L1, "batch", ev.DropReason.PAST_TIMESTAMP, "old"),
              ev.PipelineReset(L1, "reorg"),
              ev.OriginAdvanced(L1)):
        m.record_derivation_event(e)
    s, text = await scrape(nursery, m)
    ns = "op_node_default_"
    assert val(s, ns + "info", version="v0.1.0") == 1 and val(s, ns + "up") == 1
    assert val(s, ns + "refs_number", layer="l2", type="l2_safe") == 500
    assert val(s, ns + "refs_number", layer="l1_origin", type="l2_safe") == 94
    assert val(s, ns + "refs_number", layer="l2", type="l2_finalized") == 400
    assert val(s, ns + "refs_number", layer="l1", type="l1_head") == 100
    assert val(s, ns + "refs_number", layer="l1", type="l1_derived") == 100  # the OriginAdvanced event came last
    assert val(s, ns + "refs_time", layer="l2", type="l2_unsafe") == STATUS.unsafe_l2.time
    assert val(s, ns + "refs_seqnr", type="l2_unsafe") == STATUS.unsafe_l2.sequence_number
    assert val(s, ns + "refs_hash", layer="l2", type="l2_safe") == float(
        int.from_bytes(STATUS.safe_l2.hash[:8], "little"))
    latency = val(s, ns + "refs_latency", layer="l1", type="l1_head")
    assert abs(latency - (STATUS.head_l1.time - time.time())) < 60
    assert val(s, ns + "refs_number", layer="l2", type="received_payload") == 521
    assert val(s, ns + "refs_number", layer="l2", type="l2_buffer_unsafe") == 522
    assert val(s, ns + "unsafe_payloads_total") == 1 and val(s, ns + "unsafe_payloads_buffer_len") == 3
    assert val(s, ns + "unsafe_payloads_buffer_mem_size") == 4096
    assert val(s, ns + "derivation_idle") == 1
    assert val(s, ns + "pipeline_resets_total") == 1  # the PipelineReset event is the driver's to count
    assert val(s, ns + "last_pipeline_resets_unix") > 1_700_000_000
    assert val(s, ns + "derivation_errors_total") == 1
    assert val(s, ns + "derived_batches_total", type="span") == 1
    assert val(s, ns + "derived_batches_total", type="singular") == 1
    assert val(s, ns + "last_derived_batches_unix", type="span") > 1_700_000_000
    assert val(s, ns + "frame_added_total") == 2
    assert val(s, ns + "head_channel_total") == 1
    assert val(s, ns + "channel_timeout_total") == 1
    assert val(s, ns + "derivation_drops_total", what="batch", reason="past_timestamp") == 2
    assert val(s, ns + "derivation_drops_total", what="channel", reason="channel_timeout") == 1
    assert val(s, ns + "rpc_server_requests_total", rpc="main", method="optimism_syncStatus") == 1
    assert val(s, ns + "follow_source_requests_total", result="error_l1_mismatch") == 1
    assert val(s, ns + "rpc_server_request_duration_seconds_count", rpc="main", method="optimism_syncStatus") == 1
    # op-node's counter without the _total suffix keeps its exact name
    assert "\nop_node_default_channel_input_bytes 150.0\n" in text
    assert "\nop_node_default_channel_input_bytes_total " not in text
    assert any(name.startswith("process_") for name, _ in s)


async def test_latency_is_metered_once_per_hash():
    m = Metrics()
    ref = L2BlockRef(b"\x01" * 32, 5, b"\x00" * 32, int(time.time()) - 100, BlockID(b"\x02" * 32, 1), 0)
    m.record_l2_ref("l2_safe", ref)
    first = m.sample("op_node_default_refs_latency", {"layer": "l2", "type": "l2_safe"})
    time.sleep(0.05)
    m.record_l2_ref("l2_safe", ref)
    assert m.sample("op_node_default_refs_latency", {"layer": "l2", "type": "l2_safe"}) == first
    m.record_l2_ref("l2_safe", SyncStatus().safe_l2)  # a zero ref: number 0, no time, no latency update
    assert m.sample("op_node_default_refs_number", {"layer": "l2", "type": "l2_safe"}) == 0
    assert m.sample("op_node_default_refs_latency", {"layer": "l2", "type": "l2_safe"}) == first


async def test_metrics_port_in_use_is_a_clear_error(nursery):
    m = Metrics()
    port = await nursery.start(m.serve, "127.0.0.1", 0)
    with pytest.raises(OSError, match=f"cannot listen on 127.0.0.1:{port}"):
        await Metrics().serve("127.0.0.1", port)
