"""Chaos on real processes (issue 18): a sequencer, a source node deriving from L1, a light node following it and the
batcher, every node's L1, beacon API and Engine API behind a fault proxy, and an invariant monitor polling all of
them from outside the whole time (tests/chaos/monitor.py). Each scenario breaks something, heals it, waits until
the chain went on, and asserts that the monitor recorded no broken invariant.

The quick form (default; ``make test``) runs L1 faults on the source (5xx, garbage, hang, truncation), kill -9 of
the source and its restart from its own command line, with its light node's source gone meanwhile. The full form
(``CHAOS_FULL=1``, ``make chaos``) adds the beacon and lag/disagree faults, an engine restart and an engine answering
SYNCING, a lying source, an anvil reorg deeper than 3 blocks, SIGSTOP of anvil for 20 s and kill -9 of every process
in turn. One stack for the module: the tests run in order and each leaves the network healthy.
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from opnode.testing.fault_proxy import Fault, FaultProxy, wait_hits
from tests.chaos.monitor import Monitor
from tests.chaos.net import SEQUENCER_L1_CONFS, ChaosStack
from tests.e2e.waiting import wait

pytestmark = pytest.mark.slow
full = pytest.mark.chaos_full

BLOCK_TIME = 2
POLL = 2 * BLOCK_TIME  # the light node's follow-source poll interval
SOURCE, LIGHT = "source-A", "light-1"
PROGRESS = 180  # the bound on "the chain went on" after a fault (a loaded 2-core machine)


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    with FaultProxy() as proxy, ChaosStack(tmp_path_factory.mktemp("chaos"), proxy, sources=1, light_nodes=1,
                                           block_time=BLOCK_TIME, batcher_args=["--max-channel-duration", "1"]) as st:
        with Monitor(st) as mon:
            st.monitor = mon
            wait(lambda: _safe(st, LIGHT) > 0, PROGRESS, "the light node's first safe head from its source")
            yield st
            mon.check()


def _status(stack: ChaosStack, name: str) -> dict:
    return stack.sync_status(stack.node(name))


def _safe(stack: ChaosStack, name: str) -> int:
    return _status(stack, name)["safe_l2"]["number"]


def _goes_on(stack: ChaosStack, names=(SOURCE, LIGHT), timeout: float = PROGRESS) -> None:
    """Each node's safe head passes the sequencer's current safe head: the chain went on after the fault."""
    target = _safe(stack, "sequencer")
    for name in names:
        wait(lambda name=name: _safe(stack, name) > target, timeout, f"{name}'s safe head past {target}")


def _proxy(stack: ChaosStack) -> FaultProxy:
    return stack.proxy


# ---------------------------------------------------------------------------------------------------- L1 faults

L1_FAULTS = [
    pytest.param(Fault("status", status=503), id="HTTP 503"),
    pytest.param(Fault("status", status=500, methods=frozenset({"eth_getBlockReceipts"})), id="HTTP 500 on receipts",
                 marks=full),
    pytest.param(Fault("garbage"), id="garbage bodies"),
    pytest.param(Fault("truncate"), id="truncated bodies"),
    pytest.param(Fault("hang", seconds=60), id="hang"),
]


@pytest.mark.parametrize("fault", L1_FAULTS)
def test_source_l1_faults(net, fault):
    proxy = _proxy(net)
    before = proxy.hits("l1", SOURCE)
    with proxy.fault("l1", SOURCE, fault):
        wait_hits(proxy, "l1", SOURCE, before + (2 if fault.kind == "hang" else 5), PROGRESS)
        assert _status(net, SOURCE)["safe_l2"]["number"] >= 0  # keeps serving its RPC meanwhile
    _goes_on(net)
    net.monitor.check()


# ---------------------------------------------------------------------------------------------------- a source away

def test_light_node_source_vanishes(net):
    """The light node's source stops answering (SIGSTOP: its polls time out) for several polls: the light node keeps
    serving with its safe head stalled, and follows again once the source is back."""
    src, light = net.node(SOURCE), net.node(LIGHT)
    mon = net.monitor
    failed = _fetch_failures(net, LIGHT)
    os.killpg(src.proc.pid, signal.SIGSTOP)
    try:
        wait(lambda: _fetch_failures(net, LIGHT) > failed, 4 * POLL + 60, "a failed follow-source poll")
        stalled, failed = _status(net, LIGHT), _fetch_failures(net, LIGHT)
        samples = mon.samples(LIGHT)
        wait(lambda: mon.samples(LIGHT) >= samples + 2 and _fetch_failures(net, LIGHT) > failed,
             4 * POLL + 60, "another failed follow-source poll while the source is gone")
        st = _status(net, LIGHT)
        assert st["safe_l2"] == stalled["safe_l2"], "safe stalls while the source is gone"
        assert st["unsafe_l2"]["number"] >= stalled["unsafe_l2"]["number"], "the unsafe head is kept"
        assert light.proc.alive(), light.proc.log_tail()
    finally:
        os.killpg(src.proc.pid, signal.SIGCONT)
    _goes_on(net)
    net.monitor.check()


def _fetch_failures(stack: ChaosStack, name: str) -> int:
    """Follow-source polls that failed to fetch a status, from the node's log."""
    return stack.node(name).proc.log_path.read_text(errors="replace").count("Follow Upstream: Failed to fetch")


FCU = frozenset(f"engine_forkchoiceUpdatedV{v}" for v in (1, 2, 3, 4))
# Was a defect (issue 18, D1): a source reported, and wrote to its safe-head DB, a safe head before the engine had
# acknowledged it; killed before the forkchoice update, it restarted from the engine's older safe head and answered
# lower. Now the status tracker publishes what a VALID forkchoice update took and the safe DB records only that.
RUNS_AHEAD = ("a source reported, and wrote to its safe-head DB, a safe head before the engine had acknowledged it "
              "(issue 18, D1)")


def test_source_kill9_restart_never_answers_below_what_it_said(net):
    """The source dies (kill -9) while its engine has not acknowledged the last forkchoice update (held by the
    proxy: the window every kill -9 may fall into) and comes back from its own command line. Its light node keeps
    serving meanwhile. The first safe and finalized heads it answers after the restart are ≥ the last before, and
    its safe-head DB kept every record (proxyd drops a backend whose safe head decreases)."""
    src, light = net.node(SOURCE), net.node(LIGHT)
    mon, proxy = net.monitor, _proxy(net)
    try:
        with mon.down(SOURCE):
            with proxy.fault("engine", SOURCE, Fault("hang", methods=FCU, seconds=120)):
                held = proxy.hits("engine", SOURCE)
                wait_hits(proxy, "engine", SOURCE, held + 1, PROGRESS)
                samples = mon.samples(SOURCE)
                wait(lambda: mon.samples(SOURCE) >= samples + 4, 60, "the monitor to sample the source meanwhile")
                last = _status(net, SOURCE)
                src.proc.kill9()
            samples = mon.samples(LIGHT)
            wait(lambda: mon.samples(LIGHT) >= samples + 3, 60, "the monitor to sample the light node meanwhile")
            assert light.proc.alive(), light.proc.log_tail()
            net.restart_node(src)
        first = _status(net, SOURCE)
        for label in ("safe_l2", "finalized_l2"):
            assert first[label]["number"] >= last[label]["number"], (label, last[label], first[label])
        _goes_on(net)
        net.monitor.check()
    finally:
        _start_afresh(net)


# ---------------------------------------------------------------------------------------------------- full form

@full
def test_beacon_faults(net):
    proxy = _proxy(net)
    for fault in (Fault("status", status=503), Fault("garbage"), Fault("truncate"), Fault("hang", seconds=40)):
        before = proxy.requests("beacon", SOURCE)
        with proxy.fault("beacon", SOURCE, fault):
            wait(lambda before=before: proxy.requests("beacon", SOURCE) > before, PROGRESS,
                 f"the source to ask the beacon API under {fault.kind}")
        _goes_on(net)
    net.monitor.check()


@full
def test_lagging_l1_backend(net):
    proxy = _proxy(net)
    with proxy.fault("l1", SOURCE, Fault("lag", blocks=6)):
        wait_hits(proxy, "l1", SOURCE, 20, PROGRESS)
        _goes_on(net, names=(SOURCE,))  # derivation goes on from what the lagging backend knows
    _goes_on(net)
    net.monitor.check()


@full
def test_l1_backends_disagree_on_a_block(net):
    proxy = _proxy(net)
    head = int(net.l1_rpc("eth_blockNumber"), 16)
    with proxy.fault("l1", SOURCE, Fault("disagree", block=head + 3)):
        wait_hits(proxy, "l1", SOURCE, 3, PROGRESS)
    _goes_on(net)
    net.monitor.check()


# What the source asks its engine while it processes derived attributes: getPayload when it builds the block, the
# block at that height when gossip brought it first (consolidation).
PROCESSING = frozenset({*(f"engine_getPayloadV{v}" for v in (2, 3, 4, 5)), "eth_getBlockByNumber/full"})


@full
def test_engine_restart(net):
    """The source's engine dies (kill -9) while the source processes derived attributes (the engine call that builds
    or consolidates them held by the proxy, so the kill falls into that window every time) and comes back from its
    own command line: the source processes the same attributes again and derives on. Before (D2), the attributes of the failed engine call were lost, the pipeline
    ran one block ahead of the engine and the source dropped every later batch as ``future_timestamp``."""
    src, proxy = net.node(SOURCE), _proxy(net)
    future = _future_drops(net, SOURCE)
    with net.monitor.down(SOURCE + "-engine"):
        with proxy.fault("engine", SOURCE, Fault("hang", methods=PROCESSING, seconds=120)):
            held = proxy.hits("engine", SOURCE)
            wait_hits(proxy, "engine", SOURCE, held + 1, PROGRESS)
            src.engine.kill9()
            wait(lambda: not src.engine.alive(), 30, "the engine to be gone")
            net.restart_engine(src)
    _goes_on(net)
    assert _future_drops(net, SOURCE) == future
    net.monitor.check()


def _future_drops(stack: ChaosStack, name: str) -> int:
    """Batches the node dropped as ``future_timestamp``, from its log."""
    return stack.node(name).proc.log_path.read_text(errors="replace").count("reason=future_timestamp")


@full
def test_engine_answers_syncing_for_a_while(net):
    proxy = _proxy(net)
    with proxy.fault("engine", SOURCE, Fault("syncing")):
        wait_hits(proxy, "engine", SOURCE, 10, PROGRESS)
    _goes_on(net)
    net.monitor.check()


@full
def test_light_node_source_lies(net):
    from tests.e2e import lying_source as lies
    from tests.e2e.lying_source import LyingSource

    seq, src = net.node("sequencer"), net.node(SOURCE)
    with LyingSource() as liar:
        liar.relay(src.rpc)
        from opnode.tools.devnet.stack import NodeInfo

        node = net.add_node("liar-light", "light", follows=NodeInfo(SOURCE, "source", liar.url, "", ""), sync_peer=seq)
        wait(lambda: _safe(net, "liar-light") > 0, PROGRESS, "the liar's light node to follow the honest relay")
        for lie in (lies.noncanonical_origin, lies.safe_ahead_of_local_safe, lies.finalized_ahead_of_safe):
            liar.serve_status(lie(_status(net, SOURCE)))
            liar.wait_polls(3, 4 * POLL + 60)
        liar.serve_raw(200, lies.GARBAGE_JSON)
        liar.wait_polls(3, 4 * POLL + 60)
        liar.relay(src.rpc)
        _goes_on(net, names=("liar-light",))
        net.monitor.check()
        with net.monitor.down("liar-light", "liar-light-engine"):
            node.proc.stop()
            node.engine.stop()
            net.nodes.remove(node)


@full
def test_l1_reorg_deeper_than_three_blocks(net):
    seq_head = _status(net, "sequencer")
    snapshot = net.l1_rpc("evm_snapshot")
    base = int(net.l1_rpc("eth_blockNumber"), 16)
    wait(lambda: _status(net, SOURCE)["current_l1"]["number"] > base + 4, PROGRESS,
         "the source to derive from 5 L1 blocks past the snapshot")
    depth = int(net.l1_rpc("eth_blockNumber"), 16) - base
    assert 3 < depth < SEQUENCER_L1_CONFS, depth
    with net.monitor.l1_reorg(base + 1):
        net.l1_rpc("evm_revert", snapshot)
        net.l1_rpc("anvil_mine", hex(2))  # the new branch holds other blocks at the reverted numbers
        wait(lambda: _canonical_l1(net, _status(net, SOURCE)["current_l1"])
             and _status(net, SOURCE)["current_l1"]["number"] > base + depth, PROGRESS,
             "the source to derive from the new L1 branch")
        _goes_on(net)
    assert _status(net, "sequencer")["unsafe_l2"]["number"] > seq_head["unsafe_l2"]["number"]
    _goes_on(net)
    net.monitor.check()


def _canonical_l1(stack: ChaosStack, ref: dict) -> bool:
    b = stack.l1_rpc("eth_getBlockByNumber", hex(ref["number"]), False)
    return b is not None and b["hash"] == ref["hash"]


@full
def test_sigstop_anvil_20s(net):
    net.stop_l1()
    try:
        stopped = time.monotonic()
        # the fault's duration is the scenario (20 s of a frozen L1), not a wait for a condition
        while time.monotonic() - stopped < 20:
            time.sleep(1)
            for name in ("sequencer", SOURCE, LIGHT):
                assert net.node(name).proc.alive(), name
    finally:
        net.continue_l1()
    _goes_on(net)
    net.monitor.check()


# Was a defect (issue 18): a sequencer or a light node killed with -9 restarted answering lower heads than before
# (sequencer 229 -> 225, light node 232 -> 223). Neither keeps a safe DB, and the reset every start makes walks the
# safe head back a sequencing window; now the engine's safe label from before the reset (what the node had reported)
# is held while canonical (opnode/node/runtime/safe_heads.py; tests/runtime/test_owners.py has the exact form).
# The source's case (RUNS_AHEAD) was fixed before.


@full
@pytest.mark.parametrize("name", ["sequencer", SOURCE, LIGHT])
def test_kill9_each_node_and_restart(net, name):
    """kill -9 at whatever moment it falls, restart from the same command line: it comes back, answers heads not
    below its last ones (every restart's reset walks the safe head back, so a lower answer would show every time),
    and the chain goes on."""
    info = net.node(name)
    try:
        with net.monitor.down(name):
            before = _status(net, name)
            info.proc.kill9()
            net.restart_node(info)
        after = _status(net, name)
        for label in ("safe_l2", "finalized_l2"):
            assert after[label]["number"] >= before[label]["number"], (name, label, before[label], after[label])
        _goes_on(net)
        net.monitor.check()
    finally:
        _start_afresh(net)


def _start_afresh(stack: ChaosStack) -> None:
    """After a test that reported a defect: the network heals (the chain goes on) and the monitor starts afresh for
    every node, as one node's regression shows up at the others too (blocks no longer on the sequencer's chain)."""
    try:
        top = max(_safe(stack, n.name) for n in stack.nodes)
        wait(lambda: _safe(stack, "sequencer") > top, PROGRESS, f"the sequencer's safe head past {top}")
        _goes_on(stack)
    finally:
        for n in stack.nodes:
            stack.monitor.forget(n.name)


@full
def test_kill9_batcher_and_restart(net):
    with net.monitor.down("batcher"):
        net.batcher.kill9()
        net.restart_batcher()
    _goes_on(net)
    assert net.batcher.alive(), net.batcher.log_tail()
    net.monitor.check()
