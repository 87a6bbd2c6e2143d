"""Light nodes as real processes (issue 8 acceptance): a sequencer, two source nodes deriving from L1 and three
light nodes (light-1 and light-2 follow source-A, light-3 follows source-B), every node's L1 behind a counting proxy.

- light nodes' safe and finalized equal their source's within one poll interval (2 × block time) plus 1 s at every
  sample, and their unsafe heads track the sequencer (gossip and EL sync);
- light nodes make no derivation L1 calls, while a source node behind the same proxy does;
- a light node pointed at a lying source rejects every bad update and counts it by op-node's result label;
- source A killed: its light nodes keep serving and keep their unsafe head, their safe head stalls; back: they catch
  up;
- an L1 reorg of blocks holding batches: the sources reset and derive again, the light nodes follow the new safe
  chain (what they report is canonical on the new L1).

One stack for the whole module (the tests run in order and each states what it needs).
"""

from __future__ import annotations

import re
import time

import httpx
import pytest

from opnode.testing.l1_proxy import DERIVATION_METHODS, L1Proxy
from opnode.tools.devnet.stack import NodeInfo, Stack
from tests.e2e import lying_source as lies
from tests.e2e.lying_source import LyingSource
from tests.e2e.waiting import wait as _wait

pytestmark = pytest.mark.slow

BLOCK_TIME = 2
POLL = 2 * BLOCK_TIME  # the light nodes' follow-source poll interval
TOLERANCE = POLL + 1.0  # the acceptance bound: one poll interval plus one second
SAMPLE = 0.5
SEQUENCER_L1_CONFS = 15  # deeper than the L1 reorg below: the sequencer's L1 origins stay out of it
LIGHTS = {"light-1": "source-A", "light-2": "source-A", "light-3": "source-B"}


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    with L1Proxy("http://127.0.0.1:1") as proxy:
        def l1_url_for(anvil_url: str, node: str) -> str:
            proxy.upstream = anvil_url
            return proxy.url_for(anvil_url, node)

        with Stack(tmp_path_factory.mktemp("light"), sources=2, light_nodes=3, block_time=BLOCK_TIME, metrics=True,
                   l1_url_for=l1_url_for, sequencer_l1_confs=SEQUENCER_L1_CONFS,
                   batcher_args=["--da", "calldata", "--max-channel-duration", "0", "--num-confirmations", "20"],
                   ) as stack:
            stack.proxy = proxy
            yield stack


def _status(stack: Stack, node: NodeInfo) -> dict:
    return stack.sync_status(node)


FOLLOW_METRIC = re.compile(r'^op_node_default_follow_source_requests_total\{result="([a-z0-9_]+)"\} ([0-9.e+]+)$', re.M)


def _follow_results(node: NodeInfo) -> dict[str, float]:
    """The node's ``follow_source_requests_total`` by result, from its /metrics."""
    text = httpx.get(node.metrics + "/metrics", timeout=10).text
    return {m.group(1): float(m.group(2)) for m in FOLLOW_METRIC.finditer(text)}


def _wait_count(node: NodeInfo, result: str, at_least: float, timeout: float, what: str) -> None:
    _wait(lambda: _follow_results(node).get(result, 0) >= at_least, timeout, f"{what} counted as {result}")


def _sample(stack: Stack, names) -> dict[str, tuple[float, dict]]:
    out = {}
    for name in names:
        t0 = time.monotonic()
        st = _status(stack, stack.node(name))
        out[name] = ((t0 + time.monotonic()) / 2, st)
    return out


def _canonical_l1(stack: Stack, ref: dict) -> bool:
    b = stack.l1_rpc("eth_getBlockByNumber", hex(ref["number"]), False)
    return b is not None and b["hash"] == ref["hash"]


def _same_block(stack: Stack, a: NodeInfo, b: NodeInfo, number: int) -> bool:
    return stack.block_hash(a, number) == stack.block_hash(b, number)


# ---------------------------------------------------------------------------------------------------- tracking

def test_light_nodes_track_their_sources_and_the_sequencer(net):
    stack = net
    seq = stack.node("sequencer")

    def caught_up():
        s = {n: _status(stack, stack.node(n)) for n in ("source-A", "source-B", *LIGHTS)}
        return all(s[light]["safe_l2"]["number"] > 0 and s[light]["finalized_l2"]["number"] > 0 for light in LIGHTS)

    _wait(caught_up, 150, "every light node to have a safe and a finalized head from its source")

    names = ["sequencer", "source-A", "source-B", *LIGHTS]
    history: dict[str, list[tuple[float, dict]]] = {n: [] for n in names}
    end = time.monotonic() + 30
    while time.monotonic() < end:
        started = time.monotonic()
        for name, (t, st) in _sample(stack, names).items():
            history[name].append((t, st))
        time.sleep(max(0.0, SAMPLE - (time.monotonic() - started)))

    import json
    (stack.dir / "tracking.json").write_text(json.dumps(
        {n: [(t, {k: st[k]["number"] for k in ("unsafe_l2", "safe_l2", "finalized_l2")}) for t, st in h]
         for n, h in history.items()}))

    def values_within(src: str, key: str, t: float) -> set[str]:
        """The source's values of ``key`` current at some moment in [t - TOLERANCE, t] (the value current at the
        window's start is the last one sampled before it; a value the source took after our last sample of it
        may already have reached the light node, hence the next sample too)."""
        samples = history[src]
        before = [st for ts, st in samples if ts <= t - TOLERANCE]
        inside = [st for ts, st in samples if t - TOLERANCE < ts <= t + SAMPLE]
        return {st[key]["hash"] for st in before[-1:] + inside}

    for light, src in LIGHTS.items():
        for key in ("safe_l2", "finalized_l2"):
            seen = set()
            for t, st in history[light]:
                if t < history[src][0][0] + TOLERANCE:
                    continue  # what the source had before we looked is not known
                allowed = values_within(src, key, t)
                assert st[key]["hash"] in allowed, (
                    f"{light} {key} {st[key]['number']} at t={t:.1f} is not a value {src} had within "
                    f"{TOLERANCE}s: {sorted(s[key]['number'] for ts, s in history[src] if abs(ts - t) < 8)}")
                seen.add(st[key]["number"])
            if key == "safe_l2":
                assert len(seen) >= 3, f"{light}'s safe head hardly moved: {sorted(seen)}"
        # unsafe: gossip and EL sync keep it with the sequencer, ahead of the safe head the source gives
        for t, st in history[light]:
            earlier = [s for ts, s in history["sequencer"] if ts <= t - TOLERANCE]
            if earlier:
                assert st["unsafe_l2"]["number"] >= earlier[-1]["unsafe_l2"]["number"], (light, t)
        assert any(st["unsafe_l2"]["number"] > st["safe_l2"]["number"] for _, st in history[light]), light
        last = history[light][-1][1]["unsafe_l2"]["number"]
        assert _same_block(stack, stack.node(light), seq, last)
        assert _follow_results(stack.node(light)).get("success", 0) > 0


def test_light_nodes_make_no_derivation_l1_calls(net):
    proxy: L1Proxy = net.proxy
    for light in LIGHTS:
        calls = proxy.counts(light)
        assert calls["eth_getBlockByNumber"] > 0, calls  # head tracking and the canonical checks
        assert not (set(calls) & DERIVATION_METHODS), f"{light} made derivation calls: {calls}"
    for source in ("source-A", "source-B"):
        assert proxy.derivation_calls(source), "the proxy sees a source node's derivation calls"


# ---------------------------------------------------------------------------------------------------- lying source

@pytest.mark.long  # ~1-2 min: `make test-long`
def test_light_node_rejects_and_counts_every_lie(net):
    stack = net
    seq, src = stack.node("sequencer"), stack.node("source-A")
    with LyingSource() as liar:
        liar.relay(src.rpc)
        # follows "source-A" by name (gossip peer) but polls the liar
        node = stack.add_node("liar", "light", follows=NodeInfo("source-A", "source", liar.url + "/901", "", ""),
                              sync_peer=seq)
        _wait(lambda: _status(stack, node)["safe_l2"]["number"] > 0 and _follow_results(node).get("success"), 90,
              "the liar's light node to follow the honest relay")

        def check_not_applied():
            st = _status(stack, node)
            real = _status(stack, src)
            for key in ("unsafe_l2", "safe_l2", "local_safe_l2", "finalized_l2"):
                assert st[key]["hash"] != lies.FAKE_HASH, key
                assert st[key]["number"] < real["unsafe_l2"]["number"] + lies.LIE_AHEAD // 2, key
            assert st["safe_l2"]["number"] <= real["safe_l2"]["number"]
            assert stack.block_hash(seq, st["safe_l2"]["number"]) == st["safe_l2"]["hash"]
            assert st["finalized_l2"]["number"] <= st["safe_l2"]["number"]

        cases = [
            ("non-canonical L1 origin", lambda r: liar.serve_status(lies.noncanonical_origin(r)), "error_l1_mismatch"),
            ("L1 origin not on L1", lambda r: liar.serve_status(lies.unknown_l1_origin(r)), "error_l1_lookup"),
            ("safe ahead of local safe", lambda r: liar.serve_status(lies.safe_ahead_of_local_safe(r)),
             "error_invalid_state"),
            ("finalized ahead of safe", lambda r: liar.serve_status(lies.finalized_ahead_of_safe(r)),
             "error_invalid_state"),
            ("garbage JSON", lambda r: liar.serve_raw(200, lies.GARBAGE_JSON), "error_fetch_status"),
            ("proxyd before its first cycle", lambda r: liar.serve_raw(503, lies.PROXYD_NOT_READY),
             "error_fetch_status"),
        ]
        for what, serve, result in cases:
            before = _follow_results(node).get(result, 0)
            serve(_status(stack, src))
            _wait_count(node, result, before + 1, 4 * POLL + 30, what)
            # every poll from now on gets the lie: none of them may be applied or counted as a success
            settled = _follow_results(node)
            _wait_count(node, result, settled.get(result, 0) + 1, 4 * POLL + 30, what)
            after = _follow_results(node)
            assert after.get("success", 0) == settled.get("success", 0), what
            check_not_applied()

        # a hung source: the poll times out (--l2.follow.source.rpc-timeout, 10 s by default) and is counted; the
        # node keeps serving and keeps its unsafe head meanwhile
        before = _follow_results(node).get("error_fetch_status", 0)
        unsafe = _status(stack, node)["unsafe_l2"]["number"]
        liar.hang(15)
        deadline = time.monotonic() + 10 + 2 * POLL + 30
        while _follow_results(node).get("error_fetch_status", 0) < before + 1:
            assert time.monotonic() < deadline, "a hung source's poll was never counted"
            st = _status(stack, node)
            assert st["unsafe_l2"]["number"] >= unsafe
            unsafe = st["unsafe_l2"]["number"]
            time.sleep(SAMPLE)
        check_not_applied()
        assert liar.paths == {"/901"}, "the follow-source URL's path is kept (op-supernode's /<chainID>)"

        # honest again: it follows again
        liar.relay(src.rpc)
        safe_now = _status(stack, src)["safe_l2"]["number"]
        _wait(lambda: _status(stack, node)["safe_l2"]["number"] >= safe_now, 4 * POLL + 60,
              "the light node to follow again")
        node.proc.stop()
        assert node.proc.proc.returncode == 0, node.proc.log_tail()
        node.engine.stop()


# ---------------------------------------------------------------------------------------------------- source down

def test_source_down_light_nodes_keep_serving_then_catch_up(net):
    stack = net
    src, seq = stack.node("source-A"), stack.node("sequencer")
    lights = [stack.node("light-1"), stack.node("light-2")]
    src.proc.kill9()
    # a poll already past its fetch may still land: the stall is measured after one poll interval
    time.sleep(POLL + 1)
    stalled = {n.name: _status(stack, n) for n in lights}
    fetch_errors = {n.name: _follow_results(n).get("error_fetch_status", 0) for n in lights}
    end = time.monotonic() + 3 * POLL
    while time.monotonic() < end:
        for n in lights:
            st = _status(stack, n)  # keeps serving
            assert n.proc.alive(), n.proc.log_tail()
            assert st["safe_l2"] == stalled[n.name]["safe_l2"], "safe stalls while the source is down"
            assert st["finalized_l2"] == stalled[n.name]["finalized_l2"]
            assert st["unsafe_l2"]["number"] >= stalled[n.name]["unsafe_l2"]["number"], "unsafe kept"
        time.sleep(SAMPLE)
    for n in lights:
        assert _follow_results(n).get("error_fetch_status", 0) >= fetch_errors[n.name] + 2
    seq_safe = _status(stack, seq)["safe_l2"]["number"]
    assert seq_safe > max(s["safe_l2"]["number"] for s in stalled.values()), "the chain went on meanwhile"

    stack.start_node(src)
    target = _wait(lambda: (s := _status(stack, src)["safe_l2"])["number"] >= seq_safe and s, 120,
                   "source-A to derive again")
    for n in lights:
        # the safe label comes with the next poll; the block itself once the engine has synced it
        got = _wait(lambda n=n: (s := _status(stack, n))["safe_l2"]["number"] >= target["number"]
                    and _same_block(stack, n, src, target["number"]) and s, 4 * POLL + 60,
                    f"{n.name} to catch up with source-A")
        assert got["unsafe_l2"]["number"] >= got["safe_l2"]["number"]
        assert n.proc.alive()


# ---------------------------------------------------------------------------------------------------- L1 reorg

def _batch_blocks_after(stack: Stack, base: int) -> list[int]:
    inbox = _rollup(stack)["batch_inbox_address"].lower()
    head = int(stack.l1_rpc("eth_blockNumber"), 16)
    out = []
    for n in range(base + 1, head + 1):
        b = stack.l1_rpc("eth_getBlockByNumber", hex(n), True)
        if any((tx.get("to") or "").lower() == inbox for tx in b["transactions"]):
            out.append(n)
    return out


def _rollup(stack: Stack) -> dict:
    import json

    return json.loads(stack.files.rollup.read_text())


def _reset_count(stack: Stack, name: str) -> int:
    return stack.node(name).proc.log_path.read_text(errors="replace").count('msg="Reset of Engine is completed"')


def test_l1_reorg_sources_rederive_and_light_nodes_follow(net):
    stack = net
    seq = stack.node("sequencer")
    sources = [stack.node("source-A"), stack.node("source-B")]
    resets = {s.name: _reset_count(stack, s.name) for s in sources}
    snapshot = stack.l1_rpc("evm_snapshot")
    base = int(stack.l1_rpc("eth_blockNumber"), 16)
    _wait(lambda: len(_batch_blocks_after(stack, base)) >= 3, 60, "batches in three new L1 blocks", poll=0.5)
    # the sources derived from the blocks about to disappear
    _wait(lambda: all(_status(stack, s)["current_l1"]["number"] > base for s in sources), 60,
          "the sources to derive past the snapshot")
    before = {s.name: _status(stack, s) for s in sources}
    depth = int(stack.l1_rpc("eth_blockNumber"), 16) - base
    assert depth < SEQUENCER_L1_CONFS, f"a {depth}-block reorg would reach the sequencer's L1 origins"
    stack.l1_rpc("evm_revert", snapshot)

    _wait(lambda: all(_reset_count(stack, s.name) > resets[s.name] for s in sources), 90,
          "both sources to reset onto the new L1 chain")
    for s in sources:
        target = before[s.name]["safe_l2"]["number"] + 2
        _wait(lambda s=s, target=target: (st := _status(stack, s))["safe_l2"]["number"] >= target
              and _canonical_l1(stack, st["current_l1"]), 120, f"{s.name} to derive again from the new L1")
    for light, src_name in LIGHTS.items():
        node, src = stack.node(light), stack.node(src_name)
        target = _status(stack, src)["safe_l2"]

        def followed(node=node, target=target):
            st = _status(stack, node)
            return st["safe_l2"]["number"] >= target["number"] and _canonical_l1(stack, st["current_l1"]) and st

        st = _wait(followed, 4 * POLL + 60, f"{light} to follow {src_name} after the reorg")
        n = st["safe_l2"]["number"]
        assert st["safe_l2"]["hash"] == stack.block_hash(src, n) == stack.block_hash(seq, n)
        assert _canonical_l1(stack, st["safe_l2"]["l1origin"])
        assert not (set(stack.proxy.counts(light)) & DERIVATION_METHODS), "a reorg is no reason to derive"
