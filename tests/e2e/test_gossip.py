"""Block gossip on a process devnet (issue 9 acceptance): the sequencer, two sources and two light nodes, connected
by static gossip peers only (sources -> sequencer, light nodes -> source-A) and no batcher, so gossip is the only
thing that moves any node's unsafe head (safe stays at genesis: the sequencing window is longer than the test).

- every node's unsafe head stays within 2 blocks of the sequencer at every sample, and is the sequencer's block;
- hostile messages from a py-libp2p host in this process (:mod:`.gossip_attacker`) get op-node's outcomes, are
  counted in the attacked node's /metrics, are not relayed on, and do not touch any node's unsafe chain (each from a
  peer of its own: op-node's light scoring ignores a peer after its first rejected message);
- a light node restarted mid-run redials its static peer, its engine fetches the blocks it missed (EL sync from its
  sync peer, set off by the first gossiped block past its head) and its unsafe head follows the sequencer again.

The tests share one devnet (module fixture) and run in file order.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import trio
from prometheus_client.parser import text_string_to_metric_families

from derivation.protocol.rollup_config import Fork
from opnode.node.networks import load_rollup_config
from opnode.tools.devnet.stack import NodeInfo, Stack
from p2p.topics import BlockVersion, version_for_timestamp
from tests.e2e.gossip_attacker import GossipAttacker
from tests.e2e.waiting import wait as _wait

pytestmark = pytest.mark.slow

MAX_LAG = 2
WINDOW_BLOCKS = 12  # the sampling window: until the sequencer has made this many more blocks
VALIDATIONS = "p2p_gossip_validations_total"
EVENTS = "p2p_gossip_events_total"


class GossipStack(Stack):
    """The sequencer starts stopped: a source (consensus-layer sync) only inserts a gossiped block on top of its
    unsafe head, and nothing else (no batcher, no req-resp sync) would bring it blocks sealed before its gossip
    links were up."""

    def node_args(self, info, role, rpc_port, follows):
        return super().node_args(info, role, rpc_port, follows) + (["--sequencer.stopped"] if role == "sequencer"
                                                                   else [])


def _peer_id(stack: Stack, name: str) -> str:
    return stack.multiaddr(name).rsplit("/", 1)[1]


def _gossip_link(stack: Stack, a: NodeInfo, b: str) -> bool:
    """Node ``a`` is connected to node ``b`` and knows it subscribes to the block topics."""
    peer = stack.rpc(a.rpc, "opp2p_peers", True)["peers"].get(_peer_id(stack, b))
    return bool(peer and peer["connectedness"] == 1 and peer["gossipBlocks"])


def _wait_links(stack: Stack, nodes: list[NodeInfo], timeout: float = 60) -> None:
    """Until every node and its static peer see each other on the block topics."""
    def up():
        return all(_gossip_link(stack, n, peer) and _gossip_link(stack, stack.node(peer), n.name)
                   for n in nodes for peer in [n.follows or "sequencer"])
    _wait(up, timeout, "gossip links to static peers")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    forks = {Fork.GRANITE: 0, Fork.HOLOCENE: 0, Fork.ISTHMUS: 0, Fork.JOVIAN: 0}
    with GossipStack(tmp_path_factory.mktemp("gossip"), sources=2, light_nodes=2, forks=forks, block_time=2,
                     start_batcher=False, metrics=True, seq_window_size=2000) as s:
        seq = s.node("sequencer")
        _wait_links(s, _followers(s))
        s.rpc(seq.rpc, "admin_startSequencer", _unsafe(s, seq)["hash"])
        yield s


def _unsafe(stack: Stack, node: NodeInfo) -> dict:
    return stack.sync_status(node)["unsafe_l2"]


def _metrics(stack: Stack, node: NodeInfo) -> dict[tuple[str, tuple], float]:
    """Every sample of the node's /metrics by (name without the op_node_default_ namespace, sorted labels)."""
    text = stack.jsonrpc.http.get(node.metrics + "/metrics").text
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name.removeprefix("op_node_default_"), tuple(sorted(s.labels.items())))] = s.value
    return out


def _value(m: dict, name: str, **labels) -> float:
    return m.get((name, tuple(sorted(labels.items()))), 0.0)


def _rejects(m: dict) -> float:
    return sum(v for (name, labels), v in m.items() if name == VALIDATIONS and ("result", "REJECT") in labels)


def _same_chain(stack: Stack, node: NodeInfo, upto: int) -> None:
    seq = stack.node("sequencer")
    for n in range(1, upto + 1):
        assert stack.block_hash(node, n) == stack.block_hash(seq, n), f"{node.name} block {n}"


def _followers(stack: Stack) -> list[NodeInfo]:
    return [n for n in stack.nodes if n.role != "sequencer"]


def test_every_unsafe_head_stays_within_two_blocks_of_the_sequencer(stack):
    seq, others = stack.node("sequencer"), _followers(stack)
    assert [n.name for n in others] == ["source-A", "source-B", "light-1", "light-2"]
    # The window starts once the sequencer has caught up with the wall clock and the followers with it: until
    # then it seals the blocks since genesis back to back (op-node does too) and the followers trail it by the
    # time a block takes to travel and execute, several blocks' worth when blocks come every few hundred ms.
    _wait(lambda: _unsafe(stack, seq)["timestamp"] >= time.time() - 2 * stack.block_time, 120,
          "the sequencer at the wall clock")
    def converged():
        top = _unsafe(stack, seq)["number"]
        return top >= 2 and all(_unsafe(stack, n)["number"] >= top - 1 for n in others)

    _wait(converged, 120, "every node next to the sequencer's head")

    samples = []  # (node, its unsafe head, sequencer before, sequencer after)
    with ThreadPoolExecutor(len(others)) as pool:
        start = _unsafe(stack, seq)["number"]
        deadline = time.monotonic() + 30 * WINDOW_BLOCKS
        while True:
            before = _unsafe(stack, seq)["number"]
            heads = list(pool.map(lambda n: stack.sync_status(n), others))
            after = _unsafe(stack, seq)["number"]
            for node, st in zip(others, heads, strict=True):
                samples.append((node, st["unsafe_l2"], before, after))
                assert st["safe_l2"]["number"] == 0, f"{node.name}: something but gossip moved the chain"
                # The node answered between the two sequencer reads, so the sequencer had at least `before`
                # blocks when it did: a lag against `before` is certain, one against `after` an upper bound.
                assert before - st["unsafe_l2"]["number"] <= MAX_LAG, (node.name, st["unsafe_l2"], before)
            if after >= start + WINDOW_BLOCKS:
                break
            assert time.monotonic() < deadline, "the sequencer stopped making blocks"
            time.sleep(0.3)
    assert len(samples) >= len(others) * 5
    for node, head, _, _ in samples:
        assert head["hash"] == stack.block_hash(seq, head["number"]), (node.name, head)
    worst = max(after - head["number"] for _, head, _, after in samples)
    print(f"{len(samples) // len(others)} samples, lag upper bound (sequencer read after) at most {worst} blocks")
    for node in others:
        _same_chain(stack, node, min(_unsafe(stack, node)["number"], after))
    # Only the sequencer signs: nothing any node received was rejected.
    for node in others:
        m = _metrics(stack, node)
        assert _rejects(m) == 0, node.name
        assert _value(m, VALIDATIONS, result="ACCEPT", reason="accepted") >= WINDOW_BLOCKS, node.name
        assert _value(m, "p2p_peer_count") >= 1, node.name


def test_hostile_messages_are_rejected_counted_and_not_relayed(stack):
    target, lights = stack.node("source-A"), [stack.node("light-1"), stack.node("light-2")]
    rollup = load_rollup_config(path=stack.files.rollup)
    version = version_for_timestamp(rollup, int(time.time()))
    assert version is BlockVersion.V4  # Isthmus from genesis
    before = {n.name: _metrics(stack, n) for n in [target, *lights]}

    async def metric_reaches(name, want, **labels):
        with trio.fail_after(30):
            while True:
                m = await trio.to_thread.run_sync(_metrics, stack, target)
                if _value(m, name, **labels) >= want:
                    return m
                await trio.sleep(0.1)

    async def attack():
        attacker = GossipAttacker(rollup, stack.multiaddr("source-A"))
        async with trio.open_nursery() as n:
            await n.start(attacker.run)
            await attacker.wait_meshed(version)
            first = await attacker.next_block()
            block = await attacker.next_block()
            old = before[target.name]
            cases = [
                (attacker.forged(block), ("REJECT", "wrong_signer")),
                (attacker.wrong_topic(block, BlockVersion.V3), ("REJECT", "encoding")),
                (attacker.oversized(block), ("REJECT", "too_large")),
            ]
            # One rejected block costs its sender -112 (op-node's light scoring), below the graylist threshold of
            # -40: the target ignores that peer's messages from then on (and its peer monitor bans it if it gets to
            # the peer while the score is below -100), so each hostile message comes from a peer of its own.
            for i, ((topic, data), (result, reason)) in enumerate(cases):
                async with trio.open_nursery() as hn:
                    hostile = GossipAttacker(rollup, stack.multiaddr("source-A"), identity=b"hostile %d" % i)
                    await hn.start(hostile.run)
                    await hostile.wait_meshed(version)
                    await hostile.publish(topic, data)
                    want = _value(old, VALIDATIONS, result=result, reason=reason) + 1
                    old = await metric_reaches(VALIDATIONS, want, result=result, reason=reason)
                    hn.cancel_scope.cancel()
            # A replay has the id of a message the node saw: go-libp2p-pubsub's seen cache drops it before any
            # validation (op-node traces it as DUPLICATE_MESSAGE) and the block is not handled twice.
            topic, data = attacker.replayed(first)
            accepted = _value(old, VALIDATIONS, result="ACCEPT", reason="accepted")
            await attacker.publish(topic, data)
            old = await metric_reaches(EVENTS, _value(old, EVENTS, type="DUPLICATE_MESSAGE") + 1,
                                       type="DUPLICATE_MESSAGE")
            assert _value(old, VALIDATIONS, result="IGNORE", reason="seen") == \
                _value(before[target.name], VALIDATIONS, result="IGNORE", reason="seen")
            assert _value(old, VALIDATIONS, result="ACCEPT", reason="accepted") >= accepted
            n.cancel_scope.cancel()
        return block

    block = trio.run(attack)

    after = _metrics(stack, target)
    assert _rejects(after) == _rejects(before[target.name]) + 3
    for light in lights:  # rejected messages stop at the node that rejected them
        assert _rejects(_metrics(stack, light)) == _rejects(before[light.name]), light.name
    assert _gossip_link(stack, target, "sequencer")
    # Every node's unsafe chain is still the sequencer's and still growing past the attacked block.
    top = max(_unsafe(stack, stack.node("sequencer"))["number"], block.envelope.payload.block_number + 2)
    _wait(lambda: all(_unsafe(stack, n)["number"] >= top for n in _followers(stack)), 60, "heads past the attack")
    for node in _followers(stack):
        _same_chain(stack, node, top)


def test_a_restarted_light_node_rejoins_and_catches_up(stack):
    """light-1 is down while the sequencer keeps sealing. Restarted, it starts from its engine's head, redials
    source-A, and the first gossiped block past its head makes its engine fetch the missed blocks from its sync peer
    (``--syncmode execution-layer``); from there it follows the sequencer by gossip."""
    seq, light = stack.node("sequencer"), stack.node("light-1")
    before = _unsafe(stack, light)
    light.proc.stop()
    assert not light.proc.alive()
    _wait(lambda: _unsafe(stack, seq)["number"] >= before["number"] + 3, 60, "blocks sealed while light-1 is down")
    stack.start_node(light)
    assert _unsafe(stack, light)["number"] >= before["number"]  # read from its engine before the RPC served
    target = _unsafe(stack, seq)["number"] + 3
    _wait(lambda: _unsafe(stack, light)["number"] >= target, 90, "light-1 caught up and following by gossip")
    _same_chain(stack, light, target)
    m = _metrics(stack, light)  # a fresh process: everything it has came by gossip since the restart
    assert _value(m, VALIDATIONS, result="ACCEPT", reason="accepted") >= 3
    assert _value(m, "p2p_peer_count") >= 1
