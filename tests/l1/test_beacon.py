"""The beacon client through the shim on anvil: slots, blobs by versioned hash, sidecars, KZG checks, fallbacks."""

from __future__ import annotations

import pytest

from derivation.protocol.blobs import decode_blob
from derivation.protocol.types import L1BlockRef
from opnode.node.l1.beacon import BeaconClient, IndexedBlobHash
from opnode.node.l1.client import L1Client
from opnode.node.l1.config import BeaconConfig, L1Config
from opnode.node.l1.errors import BlobUnavailableError
from opnode.node.metrics import Metrics
from tests.l1.proxy import Fault, FaultProxy


async def _blob_ref(chain) -> L1BlockRef:
    async with L1Client.open(L1Config(rpc_url=chain.anvil.url, anvil_tx_root=True)) as client:
        return await client.block_ref_by_number(chain.blob_block)


def _wanted(chain):
    return [IndexedBlobHash(i, h) for i, h, _ in chain.blobs]


async def test_blobs_come_back_verified_and_in_order(l1_chain, shim):
    ref = await _blob_ref(l1_chain)
    metrics = Metrics()
    async with BeaconClient(BeaconConfig(url=shim.url), metrics=metrics) as beacon:
        assert await beacon.check()
        wanted = _wanted(l1_chain)
        blobs = await beacon.get_blobs(ref, list(reversed(wanted)))
        assert [decode_blob(b) for b in blobs] == [d for _, _, d in reversed(l1_chain.blobs)]
        assert await beacon.get_blobs(ref, []) == []
        assert beacon.stats.calls["beacon_blobs"] == 1 and beacon.stats.calls["beacon_blob_sidecars"] == 0
    assert metrics.sample("op_node_default_rpc_client_requests_total", {"rpc": "beacon", "method": "beacon_blobs"}) == 1


async def test_the_slot_comes_from_the_l1_timestamp(l1_chain, shim):
    ref = await _blob_ref(l1_chain)
    async with BeaconClient(BeaconConfig(url=shim.url)) as beacon:
        genesis = int(l1_chain.anvil.rpc("eth_getBlockByNumber", "0x0", False)["timestamp"], 16)
        assert await beacon.slot_for(ref.time) == ref.time - genesis
        with pytest.raises(BlobUnavailableError, match="precedes the beacon genesis"):
            await beacon.slot_for(genesis - 1)


async def test_sidecars_endpoint_is_the_fallback_on_the_same_node(l1_chain, shim, nursery):
    proxy = FaultProxy(shim.url)
    await nursery.start(proxy.serve)
    proxy.add(Fault(lambda p: "/beacon/blobs/" in p, "status", times=-1, status=404))
    ref = await _blob_ref(l1_chain)
    async with BeaconClient(BeaconConfig(url=proxy.url)) as beacon:
        blobs = await beacon.get_blobs(ref, _wanted(l1_chain))
        assert [decode_blob(b) for b in blobs] == [d for _, _, d in l1_chain.blobs]
        assert beacon.stats.calls["beacon_blob_sidecars"] == 1


async def test_a_blob_pruned_on_the_primary_comes_from_a_fallback(l1_chain, shim, nursery):
    primary = FaultProxy(shim.url)
    await nursery.start(primary.serve)
    first_hash = "0x" + l1_chain.blobs[0][1].hex()

    def drop_first(doc):
        if isinstance(doc.get("data"), list):
            doc["data"] = [b for b in doc["data"] if not (isinstance(b, dict) and b["index"] == str(l1_chain.blobs[0][0]))
                           and not (isinstance(b, str) and _vh(b) == first_hash)]
        return doc

    primary.add(Fault(lambda p: "/beacon/blob" in p, "mutate", times=-1, mutate=drop_first))
    ref = await _blob_ref(l1_chain)
    async with BeaconClient(BeaconConfig(url=primary.url, fallbacks=(shim.url,))) as beacon:
        blobs = await beacon.get_blobs(ref, _wanted(l1_chain))
        assert [decode_blob(b) for b in blobs] == [d for _, _, d in l1_chain.blobs]
    assert shim.requests >= primary.requests  # the fallback was asked (the proxy forwards to it too)


def _vh(blob_hex: str) -> str:
    from derivation.protocol.kzg import blob_versioned_hash

    return "0x" + blob_versioned_hash(bytes.fromhex(blob_hex[2:])).hex()


def _corrupt(doc):
    for i, b in enumerate(doc.get("data") or []):
        if isinstance(b, str):
            doc["data"][i] = b[:200] + ("0" if b[200] != "0" else "1") + b[201:]
        elif isinstance(b, dict):
            blob = b["blob"]
            b["blob"] = blob[:200] + ("0" if blob[200] != "0" else "1") + blob[201:]
    return doc


async def test_a_blob_failing_kzg_is_refetched_from_a_fallback(l1_chain, shim, nursery):
    primary = FaultProxy(shim.url)
    await nursery.start(primary.serve)
    fault = primary.add(Fault(lambda p: "/beacon/blob" in p, "mutate", times=-1, mutate=_corrupt))
    ref = await _blob_ref(l1_chain)
    async with BeaconClient(BeaconConfig(url=primary.url, fallbacks=(shim.url,))) as beacon:
        blobs = await beacon.get_blobs(ref, _wanted(l1_chain))
    assert [decode_blob(b) for b in blobs] == [d for _, _, d in l1_chain.blobs]
    assert fault.hits == 2  # /blobs and /blob_sidecars on the primary both failed KZG


async def test_bad_blobs_everywhere_are_reported_with_slot_and_hash(l1_chain, shim, nursery):
    primary, fallback = FaultProxy(shim.url), FaultProxy(shim.url)
    await nursery.start(primary.serve)
    await nursery.start(fallback.serve)
    primary.add(Fault(lambda p: "/beacon/blob" in p, "mutate", times=-1, mutate=_corrupt))
    fallback.add(Fault(lambda p: "/beacon/blob" in p, "status", times=-1, status=404))
    ref = await _blob_ref(l1_chain)
    async with BeaconClient(BeaconConfig(url=primary.url, fallbacks=(fallback.url,))) as beacon:
        slot = await beacon.slot_for(ref.time)
        with pytest.raises(BlobUnavailableError) as e:
            await beacon.get_blobs(ref, _wanted(l1_chain))
    msg = str(e.value)
    assert f"slot {slot}" in msg and f"L1 block {ref.number}" in msg
    for _, h, _ in l1_chain.blobs:
        assert "0x" + h.hex() in msg
    assert "KZG" in msg or "rejected" in msg


async def test_transient_beacon_errors_are_retried(l1_chain, shim, nursery):
    proxy = FaultProxy(shim.url)
    await nursery.start(proxy.serve)
    proxy.add(Fault(lambda p: "/beacon/blobs/" in p, "status", times=1, status=503))
    ref = await _blob_ref(l1_chain)
    cfg = BeaconConfig(url=proxy.url)
    async with BeaconClient(cfg) as beacon:
        blobs = await beacon.get_blobs(ref, _wanted(l1_chain))
        assert len(blobs) == 2 and beacon.stats.retries == 1


async def test_beacon_header_is_sent_and_ignore_flag(l1_chain, shim, nursery):
    proxy = FaultProxy(shim.url)
    await nursery.start(proxy.serve)
    async with BeaconClient(BeaconConfig(url=proxy.url, header="X-Api-Key: secret")) as beacon:
        assert await beacon.check()
    assert proxy.last_headers[b"x-api-key"] == b"secret"
    dead = BeaconConfig(url="http://127.0.0.1:9", ignore=True, retry=BeaconConfig().retry.__class__(attempts=1))
    async with BeaconClient(dead) as beacon:
        assert await beacon.check() is False
    with pytest.raises(ValueError):
        BeaconConfig(url="x", header="no-colon").header_pair()


async def test_slot_duration_override_skips_the_spec_endpoint(l1_chain, shim, nursery):
    """--l1.beacon.slot-duration-override (op-node #20288): with a non-zero override /eth/v1/config/spec is never
    asked (it fails here) and the override is the slot length."""
    proxy = FaultProxy(shim.url)
    await nursery.start(proxy.serve)
    spec = proxy.add(Fault(lambda p: p == "/eth/v1/config/spec", "status", times=-1, status=404))
    genesis = int(l1_chain.anvil.rpc("eth_getBlockByNumber", "0x0", False)["timestamp"], 16)
    async with BeaconClient(BeaconConfig(url=proxy.url, slot_duration_override=2)) as beacon:
        assert await beacon.slot_for(genesis + 10) == 5
    assert spec.hits == 0
    async with BeaconClient(BeaconConfig(url=proxy.url)) as beacon:  # without it, the failing spec is asked
        with pytest.raises(Exception, match="404"):
            await beacon.slot_for(genesis + 10)
    assert spec.hits > 0
