"""``opp2p_*`` over running services: op-node's JSON shapes, blocking peers, addresses and subnets, connecting and
disconnecting, errors."""

from __future__ import annotations

import pytest
import trio

from derivation.protocol.rollup_config import Fork
from p2p import api
from p2p.enr import parse_record
from p2p.errors import P2PError
from p2p.topics import BlockVersion
from tests.p2p.support import address_of, chain_where_now_is, make_service, wait_until


async def test_opp2p_methods(tmp_path):
    cfg = chain_where_now_is(Fork.JOVIAN)
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            a = make_service(cfg, tmp_path, "a")
            await nursery.start(a.run)
            b = make_service(cfg, tmp_path, "b", static=(address_of(a),))
            await nursery.start(b.run)
            c = make_service(cfg, tmp_path, "c")
            await nursery.start(c.run)
            await wait_until(lambda: a.topic_peers(BlockVersion.V4), what="a and b peered")

            me = await api.call(a, "opp2p_self")
            assert me["peerID"] == a.peer_id.pretty() and me["gossipBlocks"] is True
            assert me["addresses"] == [address_of(a)]
            assert len(me["nodeID"]) == 64 and set(me["scores"]) == {"gossip", "reqResp"}
            record = parse_record(me["ENR"])
            assert record.opstack == (cfg.l2_chain_id, 0) and record.tcp == int(address_of(a).split("/")[4])

            dump = await api.call(a, "opp2p_peers", True)
            assert dump["totalConnected"] == 1 and list(dump["peers"]) == [b.peer_id.pretty()]
            info = dump["peers"][b.peer_id.pretty()]
            assert info["connectedness"] == 1 and info["direction"] == 1  # b dialed a: inbound for a
            assert info["gossipBlocks"] is True and info["latency"] == 0
            assert dump["bannedPeers"] == [] and dump["bannedIPS"] == [] and dump["bannedSubnets"] == []

            stats = await api.call(a, "opp2p_peerStats")
            assert stats["connected"] == 1 and stats["blocksTopic"] == stats["blocksTopicV4"] == 1
            assert stats["known"] >= 1 and stats["table"] == 0

            with pytest.raises(api.P2PApiError, match="discovery disabled"):
                await api.call(a, "opp2p_discoveryTable")
            with pytest.raises(api.P2PApiError, match="invalid request"):
                await api.call(a, "opp2p_blockPeer", "not-a-peer-id")
            with pytest.raises(api.P2PApiError, match="does not exist"):
                await api.call(a, "opp2p_nope")

            await api.call(a, "opp2p_connectPeer", address_of(c))
            await wait_until(lambda: len(a.connected_peers()) == 2, what="a connected to c")
            await api.call(a, "opp2p_disconnectPeer", c.peer_id.pretty())
            await wait_until(lambda: len(a.connected_peers()) == 1, what="a disconnected from c")
            with pytest.raises(api.P2PApiError):
                await api.call(a, "opp2p_connectPeer", "/ip4/127.0.0.1/tcp/1")

            await api.call(a, "opp2p_protectPeer", b.peer_id.pretty())
            assert (await api.call(a, "opp2p_peers", True))["peers"][b.peer_id.pretty()]["protected"] is True
            await api.call(a, "opp2p_unprotectPeer", b.peer_id.pretty())

            # Blocking b closes its connection and keeps it out, although b redials a as a static peer.
            await api.call(a, "opp2p_blockPeer", b.peer_id.pretty())
            assert await api.call(a, "opp2p_listBlockedPeers") == [b.peer_id.pretty()]
            await wait_until(lambda: not a.connected_peers(), what="b disconnected")
            await trio.sleep(0.5)  # b's static redial runs every 0.2 s; a must keep refusing it
            assert not a.connected_peers()
            await api.call(a, "opp2p_unblockPeer", b.peer_id.pretty())
            await wait_until(lambda: a.connected_peers() == [b.peer_id], what="b back after unblocking")

            await api.call(a, "opp2p_blockAddr", "127.0.0.1")
            await api.call(a, "opp2p_blockSubnet", "10.1.0.0/16")
            await api.call(a, "opp2p_blockSubnet", {"IP": "192.168.0.0", "Mask": "//8AAA=="})
            assert await api.call(a, "opp2p_listBlockedAddrs") == ["127.0.0.1"]
            assert await api.call(a, "opp2p_listBlockedSubnets") == ["10.1.0.0/16", "192.168.0.0/16"]
            await api.call(a, "opp2p_disconnectPeer", b.peer_id.pretty())
            await trio.sleep(0.5)
            assert not a.connected_peers()  # 127.0.0.1 is blocked: b's redials are refused
            await api.call(a, "opp2p_unblockAddr", "127.0.0.1")
            await api.call(a, "opp2p_unblockSubnet", "10.1.0.0/16")
            await wait_until(lambda: a.connected_peers() == [b.peer_id], what="b back after unblocking the address")
            with pytest.raises(api.P2PApiError, match="invalid request"):
                await api.call(a, "opp2p_blockAddr", "300.1.1.1")
            nursery.cancel_scope.cancel()


def test_methods_need_a_running_service(tmp_path):
    cfg = chain_where_now_is(Fork.JOVIAN)
    s = make_service(cfg, tmp_path, "idle")
    assert api.peer_stats(s)["connected"] == 0
    with pytest.raises(P2PError, match="not running"):
        s.protect(s.peer_id)
    with pytest.raises(api.P2PApiError, match="not running"):
        api.protect_peer(s, s.peer_id.pretty())


@pytest.mark.parametrize("params", [
    [{"IP": "1.2.3.4", "Mask": "!!"}],  # the probe: lenient base64 made this 0.0.0.0/0 and dropped every peer
    [{"IP": "1.2.3.4", "Mask": "/w=="}],  # one byte: Go's IPNet.Contains matches nothing with it
    [{"IP": "1.2.3.4", "Mask": "/wD/AA=="}],  # 255.0.255.0: not contiguous
    [{"IP": "::1", "Mask": "//8AAA=="}],  # an IPv4 mask for an IPv6 address
    [{"IP": 5, "Mask": "//8AAA=="}],
    [{"IP": "1.2.3.4"}],
    [123],
])
async def test_block_subnet_refuses_what_op_node_refuses(tmp_path, params):
    s = make_service(chain_where_now_is(Fork.JOVIAN), tmp_path, "idle")
    with pytest.raises(api.P2PInvalidParams, match="invalid argument 0") as e:
        await api.call(s, "opp2p_blockSubnet", *params)
    assert e.value.code == -32602
    assert not s.blocked_subnets


async def test_peer_and_addr_methods_refuse_non_string_params(tmp_path):
    s = make_service(chain_where_now_is(Fork.JOVIAN), tmp_path, "idle")
    for method in ("opp2p_blockPeer", "opp2p_unblockPeer", "opp2p_protectPeer", "opp2p_blockAddr"):
        with pytest.raises(api.P2PInvalidParams, match="cannot unmarshal number"):
            await api.call(s, method, 123)
    assert not s.blocked_peers and not s.blocked_addrs
    await api.call(s, "opp2p_blockSubnet", {"IP": "192.168.7.9", "Mask": "//8AAA=="})
    assert [str(n) for n in s.blocked_subnets] == ["192.168.0.0/16"]
