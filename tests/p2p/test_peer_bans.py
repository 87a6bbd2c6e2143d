"""Peer management on real hosts (127.0.0.1): ``--p2p.netrestrict`` on accept and dial, the light score and the
peer monitor's bans (op-node p2p/monitor/peer_monitor.go), their expiry, and the peerstore across a restart."""

from __future__ import annotations

import time

import pytest
import trio

from derivation.protocol.crypto import keccak256
from derivation.protocol.rollup_config import Fork
from p2p import api
from p2p.errors import P2PError
from p2p.keys import load_or_create_node_key, peer_id_of
from p2p.signing import LocalSigner
from p2p.topics import BlockVersion, blocks_topic
from p2p.wire import encode_block_message
from tests.p2p.gossip_vectors import synthetic
from tests.p2p.support import (
    SEQUENCER,
    RecordingMetrics,
    accept_everything,
    address_of,
    chain_where_now_is,
    free_port,
    make_service,
    wait_until,
)

V4 = BlockVersion.V4
OUTSIDE = ("10.0.0.0/8",)  # a network 127.0.0.1 is not in


def forged_block(cfg, number: int) -> tuple[str, bytes]:
    env = synthetic(V4, number, int(time.time()))
    return blocks_topic(cfg.l2_chain_id, V4), encode_block_message(env, V4, LocalSigner(keccak256(b"evil")),
                                                                   cfg.l2_chain_id)


class Restartable:
    """A node on a fixed port and key, started and stopped inside the test's nursery."""

    def __init__(self, nursery, cfg, tmp_path, **kwargs):
        self.nursery, self.cfg, self.tmp_path, self.kwargs = nursery, cfg, tmp_path, kwargs
        self.port = free_port()
        self.peer_id = peer_id_of(load_or_create_node_key(tmp_path / "node.key"))
        self.addr = f"/ip4/127.0.0.1/tcp/{self.port}/p2p/{self.peer_id.pretty()}"
        self.scope = trio.CancelScope()

    async def start(self, metrics: RecordingMetrics):
        node = make_service(self.cfg, self.tmp_path, "node", port=self.port, metrics=metrics, **self.kwargs)
        self.scope = scope = trio.CancelScope()

        async def runner(task_status=trio.TASK_STATUS_IGNORED):
            with scope:
                await node.run(task_status=task_status)

        await self.nursery.start(runner)
        return node

    async def stop(self, node) -> None:
        self.scope.cancel()
        await wait_until(lambda: node.host is None, what="the node stopped")


async def test_netrestrict_refuses_an_inbound_connection_from_outside(tmp_path):
    cfg = chain_where_now_is(Fork.JOVIAN)
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            node = make_service(cfg, tmp_path, "node", netrestrict=OUTSIDE)
            await nursery.start(node.run)
            other = make_service(cfg, tmp_path, "other")
            await nursery.start(other.run)
            with pytest.raises(Exception):  # noqa: B017  the swarm closes the socket before the handshake
                await other.connect(address_of(node))
            assert node.gater.refused["netrestrict"] >= 1
            assert not node.connected_peers() and not other.connected_peers()
            # the control: a network 127.0.0.1 is in lets the same peer in
            open_node = make_service(cfg, tmp_path, "open", netrestrict=("127.0.0.0/8",))
            await nursery.start(open_node.run)
            await other.connect(address_of(open_node))
            await wait_until(lambda: other.peer_id in open_node.connected_peers(), what="the allowed connection")
            assert not open_node.gater.refused
            nursery.cancel_scope.cancel()


async def test_netrestrict_refuses_dialing_outside_static_peers_and_the_api_included(tmp_path):
    cfg = chain_where_now_is(Fork.JOVIAN)
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            other = make_service(cfg, tmp_path, "other")
            await nursery.start(other.run)
            node = make_service(cfg, tmp_path, "node", netrestrict=OUTSIDE, static=(address_of(other),))
            await nursery.start(node.run)
            await wait_until(lambda: node.gater.refused["netrestrict"] >= 2, what="the static peer's dials refused")
            with pytest.raises(P2PError, match="gater disallows connection to peer \\(netrestrict\\)"):
                await node.connect(address_of(other))
            with pytest.raises(api.P2PApiError, match="netrestrict"):
                await api.call(node, "opp2p_connectPeer", address_of(other))
            assert not node.connected_peers() and not other.connected_peers()
            nursery.cancel_scope.cancel()


@pytest.mark.parametrize("store", ["file", "memory"])
async def test_invalid_gossip_gets_a_peer_banned_and_a_file_peerstore_keeps_the_ban(tmp_path, store):
    """The evil peer's forged block (REJECT) puts its score at -112 < -100: the monitor bans it for an hour and
    disconnects it; its redials are refused. Restarted with a file peerstore the node still refuses it (and still
    knows its score); with ``memory`` it lets it back in with a clean score."""
    cfg = chain_where_now_is(Fork.JOVIAN)
    path = str(tmp_path / "node.peerstore") if store == "file" else "memory"
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            ctl = Restartable(nursery, cfg, tmp_path, peerstore_path=path, peer_monitor_seconds=0.05)
            m1 = RecordingMetrics()
            node = await ctl.start(m1)
            evil = make_service(cfg, tmp_path, "evil", static=(ctl.addr,))
            await nursery.start(evil.run)
            accept_everything(evil)
            await wait_until(lambda: node.peer_id in evil.mesh_peers(V4), what="the mesh")
            assert node.peer_score(evil.peer_id) == 0.0
            await evil.publish_raw(*forged_block(cfg, 5))
            evil_key = evil.peer_id.to_base58()
            await wait_until(lambda: evil_key in node.peerstore.peer_bans and not evil.connected_peers(),
                             what="the ban")
            assert m1.validations[("REJECT", "wrong_signer")] == 1
            assert node.peer_score(evil.peer_id) == pytest.approx(-112.358)
            assert node.peerstore.peer_bans[evil_key] == pytest.approx(time.time() + 3600, abs=5)
            snap = node.scores.snapshot(evil_key)  # what opp2p_peers reports as the peer's "scores"
            assert snap["gossip"]["total"] == pytest.approx(-112.358)
            assert snap["gossip"]["blocks"]["invalidMessageDeliveries"] == 1
            await wait_until(lambda: node.gater.refused["banned"] >= 1, what="a redial refused")
            with pytest.raises(P2PError, match="banned"):
                await node.connect(address_of(evil))
            assert evil.peer_id not in node.connected_peers()

            await ctl.stop(node)
            m2 = RecordingMetrics()
            node = await ctl.start(m2)
            if store == "file":
                await wait_until(lambda: node.gater.refused["banned"] >= 1, what="the redial refused after restart")
                assert evil.peer_id not in node.connected_peers()
                assert not any(m2.peer_counts)  # refused from the first redial: never let in, not banned again
                assert m2.unbans["peer"] == 0
                assert -112.36 < node.peer_score(evil.peer_id) < -40  # the score came back, decayed meanwhile
            else:
                await wait_until(lambda: evil.peer_id in node.connected_peers(), what="the evil peer back")
                assert node.peer_score(evil.peer_id) == 0.0 and not node.gater.refused
            nursery.cancel_scope.cancel()


async def test_a_ban_expires_after_its_duration(tmp_path):
    cfg = chain_where_now_is(Fork.JOVIAN)
    m = RecordingMetrics()
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            node = make_service(cfg, tmp_path, "node", metrics=m, ban_duration=1.0, peer_monitor_seconds=0.05)
            await nursery.start(node.run)
            evil = make_service(cfg, tmp_path, "evil", static=(address_of(node),))
            await nursery.start(evil.run)
            accept_everything(evil)
            await wait_until(lambda: node.peer_id in evil.mesh_peers(V4), what="the mesh")
            await evil.publish_raw(*forged_block(cfg, 6))
            key = evil.peer_id.to_base58()
            await wait_until(lambda: key in node.peerstore.peer_bans, what="the ban")
            banned_at = time.monotonic()
            mark = len(m.peer_counts)
            # a redial after the expiry is let in again (and the unban counted)
            await wait_until(lambda: m.unbans["peer"] >= 1 and 1 in m.peer_counts[mark:], what="the ban lifted")
            assert time.monotonic() - banned_at >= 0.9 and node.gater.refused["banned"] >= 1
            nursery.cancel_scope.cancel()


async def test_scoring_none_bans_nobody_and_keeps_listening(tmp_path):
    cfg = chain_where_now_is(Fork.JOVIAN)
    m = RecordingMetrics()
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            node = make_service(cfg, tmp_path, "node", metrics=m, scoring="none", peer_monitor_seconds=0.05)
            await nursery.start(node.run)
            evil = make_service(cfg, tmp_path, "evil", static=(address_of(node),))
            await nursery.start(evil.run)
            accept_everything(evil)
            await wait_until(lambda: node.peer_id in evil.mesh_peers(V4), what="the mesh")
            topic, forged = forged_block(cfg, 7)
            await evil.publish_raw(topic, forged)
            await wait_until(lambda: m.validations[("REJECT", "wrong_signer")] == 1, what="the rejection")
            good = synthetic(V4, 8, int(time.time()))
            await evil.publish_raw(topic, encode_block_message(good, V4, SEQUENCER, cfg.l2_chain_id))
            assert (await node.payloads.receive()).block_hash == good.block_hash  # not graylisted
            assert node.peer_score(evil.peer_id) == 0.0 and not node.peerstore.peer_bans
            assert evil.peer_id in node.connected_peers()
            nursery.cancel_scope.cancel()


async def test_a_restarted_node_redials_the_peers_its_peerstore_knows(tmp_path):
    cfg = chain_where_now_is(Fork.JOVIAN)
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            friend = make_service(cfg, tmp_path, "friend")
            await nursery.start(friend.run)
            ctl = Restartable(nursery, cfg, tmp_path, peerstore_path=str(tmp_path / "node.peerstore"))
            node = await ctl.start(RecordingMetrics())
            await node.connect(address_of(friend))  # opp2p_connectPeer: not a static peer
            assert friend.peer_id.to_base58() in node.peerstore.known_peers()
            await ctl.stop(node)
            await wait_until(lambda: not friend.connected_peers(), what="the friend sees it go")
            node = await ctl.start(RecordingMetrics())
            await wait_until(lambda: friend.peer_id in node.connected_peers(), what="the redial")
            nursery.cancel_scope.cancel()
