"""``opnode replay record`` against a real L1 node: anvil with calldata and blob batches of an OP chain built on
its blocks, blobs through the beacon shim, and an L2 JSON-RPC stand-in serving that chain's blocks (the embedded
engine would need a sequencer driving it; the stand-in serves the same JSON an execution layer does)."""

from __future__ import annotations

import json
import sys
from functools import partial

import pytest
import trio

from opnode.jsonrpc.http import serve_url
from opnode.tools.anvil import Anvil
from opnode.tools.beacon_shim import BeaconShim
from opnode.tools.replay import format as fmt
from opnode.tools.replay.live import LiveSource
from opnode.tools.replay.recorder import RecordError, find_start, record
from opnode.tools.replay.replayer import replay
from opnode.tools.replay.store import TX_ROOT_ANVIL
from tests.replay.anvil_chain import L1_CHAIN_CONFIG_JSON, AnvilChain, L2StandIn

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def chain():
    with Anvil() as anvil:
        c = AnvilChain.start(anvil, holocene_after=12)
        for round_ in range(8):
            c.traffic.mine(1)
            c.sequence_to_l1_head()
            c.post(da="blobs" if round_ % 2 else "calldata", brotli=round_ % 3 == 2)
        c.sequence_to_l1_head()
        c.traffic.mine(2)
        yield c


async def _servers(chain, nursery):
    shim = BeaconShim(chain.anvil.url)
    await nursery.start(shim.serve)
    l2_url = await nursery.start(partial(serve_url, L2StandIn(chain.cfg, chain.l2)))
    return shim.url, l2_url


def _head(chain) -> int:
    return int(chain.anvil.rpc("eth_blockNumber"), 16)


def _assert_matches_chain(store, chain, result):
    assert result.verdict == "match", result.message
    got = [d.recorded.hash for d in result.derived]
    start = store.meta.start.number
    want = [ref.hash for ref, _, _ in chain.batches[start:start + len(got)]]
    assert got == want and len(got) > 0
    assert [d.attributes.attributes.transactions for d in result.derived] == [
        chain.l2.canonical[d.number].attributes.transactions for d in result.derived]


async def test_record_cli_against_anvil_then_replay(chain, nursery, tmp_path):
    beacon_url, l2_url = await _servers(chain, nursery)
    rollup = tmp_path / "rollup.json"
    rollup.write_text(json.dumps(chain.rollup_json()))
    l1_cfg = tmp_path / "l1-genesis-config.json"
    l1_cfg.write_text(json.dumps(L1_CHAIN_CONFIG_JSON))
    out = tmp_path / "anvil.jsonl.gz"
    from_l1, to_l1 = chain.cfg.genesis.l1.number + 10, _head(chain) - 1
    with trio.fail_after(90):
        proc = await trio.run_process(
            [sys.executable, "-m", "opnode", "replay", "record", "--l1", chain.anvil.url, "--l1.beacon", beacon_url,
             "--l2", l2_url, "--rollup.config", str(rollup), "--rollup.l1-chain-config", str(l1_cfg),
             "--from-l1", str(from_l1), "--to-l1", str(to_l1), "--lookback", "4", "-o", str(out), "--no-progress"],
            capture_stdout=True, capture_stderr=True, check=False)
    assert proc.returncode == 0, proc.stderr.decode()
    assert b"L2 blocks derived" in proc.stderr
    store = fmt.read(out)
    m = store.meta
    assert (m.from_l1, m.to_l1) == (from_l1, to_l1) and m.l1_tx_root == TX_ROOT_ANVIL
    assert m.sources["l1"].lower().startswith("anvil") and m.rollup == chain.cfg
    assert 0 < m.start.number and m.start.l1_origin.number <= from_l1 - 1 - 4
    assert sum(len(b) for b in store.blobs.values()) > 0, "blob batches were recorded"
    assert max(store.l1_canonical) == to_l1
    result = replay(store)
    _assert_matches_chain(store, chain, result)
    # Every L1 block derivation read is held with its header, which hashes to the block hash.
    assert set(range(min(store.l1_canonical), to_l1 + 1)) <= set(store.l1_canonical)


async def test_record_in_process_from_genesis(chain, nursery):
    beacon_url, l2_url = await _servers(chain, nursery)
    to_l1 = _head(chain)
    async with LiveSource.open(chain.anvil.url, l2_url, beacon_url) as src:
        await src.check_chains(chain.cfg)
        start = await find_start(chain.cfg, src, chain.cfg.genesis.l1.number + 5)
        assert start.number == 0  # the default lookback (the sequencing window) reaches back to genesis
        session = await record(chain.cfg, chain.l1_chain, src, from_l1=chain.cfg.genesis.l1.number + 5, to_l1=to_l1,
                               start=start)
        l1_requests, l2_requests = src.tap.stats.http_requests, src.l2.stats.http_requests
    assert session.finished.how == "end_of_range"
    blob_blocks = len(session.store.blobs)
    data = fmt.encode(session.store)
    result = replay(fmt.decode(__import__("io").BytesIO(data)))
    _assert_matches_chain(session.store, chain, result)
    assert result.derived[-1].number == chain.posted, "every posted block was derived"
    assert blob_blocks == 4
    # Frugal: batched look-ahead on both sides, fewer HTTP requests than blocks recorded (the L1 count includes
    # start-up calls and anvil's raw blob transactions).
    l1_blocks, l2_blocks = len(session.store.l1_headers), len(session.store.l2)
    assert l1_requests < l1_blocks, (l1_requests, l1_blocks)
    assert l2_requests < l2_blocks / 3, (l2_requests, l2_blocks)


async def test_blobs_without_a_beacon_endpoint_are_a_clear_error(chain, nursery):
    _, l2_url = await _servers(chain, nursery)
    async with LiveSource.open(chain.anvil.url, l2_url) as src:
        start = await src.l2_block_by_number(0)
        with pytest.raises(RecordError, match="give --l1.beacon"):
            await record(chain.cfg, chain.l1_chain, src, from_l1=chain.cfg.genesis.l1.number, to_l1=_head(chain),
                         start=start)


async def test_wrong_chain_is_refused(chain, nursery):
    _, l2_url = await _servers(chain, nursery)
    import dataclasses

    other = dataclasses.replace(chain.cfg, l2_chain_id=902)
    async with LiveSource.open(chain.anvil.url, l2_url) as src:
        with pytest.raises(RecordError, match="--l2 is chain 901"):
            await src.check_chains(other)
