"""Peer management without a network: op-node's light scores (p2p/peer_params.go), the sqlite peerstore (p2p/store),
the connection gate's bans and network restriction (p2p/gating/expiry.go), and the flags' errors."""

from __future__ import annotations

import ipaddress

import pytest
from libp2p.peer.id import ID
from multiaddr import Multiaddr

from derivation.protocol.crypto import keccak256
from p2p.config import P2PConfig, P2PConfigError
from p2p.gating import ConnectionGater
from p2p.keys import peer_id_of
from p2p.peerstore import MEMORY, PeerStore, PeerStoreError
from p2p.scoring import GRAYLIST_THRESHOLD, TOPIC_SCORE_CAP, PeerScores, score_decay
from tests.p2p.support import RecordingMetrics

TOPICS = ("/optimism/10/0/blocks", "/optimism/10/1/blocks", "/optimism/10/2/blocks", "/optimism/10/3/blocks")
V4 = TOPICS[3]


class Clock:
    def __init__(self, t: float = 1_700_000_000.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


def peer(name: str) -> ID:
    return peer_id_of(keccak256(name.encode()))


# ---------------------------------------------------------------------------------------------- scores


def test_one_invalid_block_takes_a_peer_below_the_default_ban_threshold():
    clock = Clock()
    s = PeerScores(2, TOPICS, clock)
    assert s.score("p") == 0.0 and not s.graylisted("p")
    s.on_invalid("p", V4)
    assert s.score("p") == pytest.approx(0.8 * -140.4475)  # -112.36 < -100
    assert s.graylisted("p") and s.score("p") < GRAYLIST_THRESHOLD
    s.on_invalid("p", TOPICS[0])  # another topic: counted apart, each squared
    assert s.score("p") == pytest.approx(2 * 0.8 * -140.4475)
    s.on_invalid("p", V4)
    assert s.score("p") == pytest.approx(0.8 * -140.4475 * (1 + 4))
    assert s.score("q") == 0.0
    snap = s.snapshot("p")
    assert snap["gossip"]["blocks"]["invalidMessageDeliveries"] == 3 and snap["gossip"]["total"] == s.score("p")
    assert set(snap) == {"gossip", "reqResp"}


def test_the_penalty_decays_per_slot_and_is_gone_after_50_epochs():
    clock = Clock()
    s = PeerScores(2, TOPICS, clock)  # slot 2 s, epoch 12 s: invalid decay over 600 s = 300 slots
    s.on_invalid("p", V4)
    factor = score_decay(600, 2)
    assert factor == pytest.approx(0.01 ** (1 / 300))
    clock.t += 1.9  # less than a slot: no decay yet
    assert s.score("p") == pytest.approx(-112.358)
    clock.t += 0.1 + 2 * 44  # 45 slots: the counter about halves, the (squared) penalty is about a quarter
    assert s.score("p") == pytest.approx(0.8 * -140.4475 * (factor ** 45) ** 2)
    assert -30 < s.score("p") < -25
    clock.t += 2 * 300
    assert s.score("p") == 0.0 and s.records() == {}


def test_first_deliveries_count_up_to_their_caps():
    s = PeerScores(2, TOPICS, Clock())
    for _ in range(30):
        s.on_first_delivery("p", V4)
    assert s.score("p") == pytest.approx(0.8 * 23)  # FirstMessageDeliveriesCap 23
    for t in TOPICS[:3]:
        for _ in range(30):
            s.on_first_delivery("p", t)
    assert s.score("p") == TOPIC_SCORE_CAP  # 4 * 18.4 capped at 34
    s.on_first_delivery("p", "/not/a/block/topic")
    assert s.snapshot("p")["gossip"]["blocks"]["firstMessageDeliveries"] == 4 * 23


def test_scoring_none_scores_nobody():
    s = PeerScores(2, TOPICS, Clock(), enabled=False)
    s.on_invalid("p", V4)
    s.on_invalid("p", V4)
    assert s.score("p") == 0.0 and not s.graylisted("p") and s.records() == {}
    assert s.snapshot("p")["gossip"]["total"] == 0.0


def test_saved_scores_come_back_decayed_by_the_time_away():
    clock = Clock()
    s = PeerScores(2, TOPICS, clock)
    s.on_invalid("p", V4)
    records, saved = s.records(), clock()
    clock.t += 2 * 45
    back = PeerScores(2, TOPICS, clock)
    back.load(records, saved)
    s_now = s.score("p")
    assert back.score("p") == pytest.approx(s_now) and -30 < s_now < -25


# ---------------------------------------------------------------------------------------------- peerstore


def test_a_file_peerstore_keeps_bans_blocks_addresses_and_scores(tmp_path):
    path = str(tmp_path / "sub" / "peers.db")  # the directory is created, as op-node's leveldb does
    now = 1000.0
    st = PeerStore(path, now=now, score_retention=1200)
    st.set_peer_ban("A", now + 60)
    st.set_peer_ban("gone", now + 5)
    st.set_ip_ban("10.1.2.3", now + 60)
    st.set_blocked("peer", "B", True)
    st.set_blocked("subnet", "192.168.0.0/16", True)
    st.add_addrs("C", ["/ip4/127.0.0.1/tcp/9222/p2p/C"], now)
    st.save_scores({"A": {"first": {}, "invalid": {"t": 1.0}}}, now)
    st.close()

    again = PeerStore(path, now=now + 10, score_retention=1200)  # "gone"'s ban expired meanwhile: dropped
    assert again.peer_bans == {"A": now + 60} and again.ip_bans == {"10.1.2.3": now + 60}
    assert again.blocked("peer") == ["B"] and again.blocked("subnet") == ["192.168.0.0/16"]
    assert again.known_peers() == {"C": ["/ip4/127.0.0.1/tcp/9222/p2p/C"]}
    assert again.load_scores() == ({"A": {"first": {}, "invalid": {"t": 1.0}}}, now)
    again.set_peer_ban("A", None)
    again.set_blocked("peer", "B", False)
    again.close()
    old = PeerStore(path, now=now + 2000, score_retention=1200)  # scores past the retention are dropped
    assert old.peer_bans == {} and old.blocked("peer") == [] and old.load_scores() == ({}, None)
    old.close()


def test_memory_keeps_nothing_across_instances():
    a = PeerStore(MEMORY, now=0, score_retention=1)
    a.set_peer_ban("A", 100)
    b = PeerStore(MEMORY, now=0, score_retention=1)
    assert a.peer_bans == {"A": 100} and b.peer_bans == {}


def test_an_unopenable_peerstore_is_a_p2p_error(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(PeerStoreError, match="cannot open the peerstore"):
        PeerStore(str(tmp_path / "file" / "peers.db"), now=0, score_retention=1)


# ---------------------------------------------------------------------------------------------- gate


def gater(netrestrict: tuple[str, ...] = (), clock: Clock | None = None, store: PeerStore | None = None):
    metrics = RecordingMetrics()
    clock = clock or Clock()
    store = store or PeerStore(MEMORY, now=clock(), score_retention=1)
    return ConnectionGater(store, netrestrict, clock, metrics), metrics


def test_a_peer_ban_lifts_itself_at_its_expiry():
    clock = Clock()
    g, m = gater(clock=clock)
    p = peer("banned")
    g.ban_peer(p, clock() + 10)
    assert g.peer_refusal(p) == "banned" and not g.allow_peer(p) and g.refused["banned"] == 1
    assert g.dial_refusal(p, [Multiaddr("/ip4/127.0.0.1/tcp/1")]) == "banned"
    clock.t += 9.99
    assert g.peer_refusal(p) == "banned" and m.unbans["peer"] == 0
    clock.t += 0.01
    assert g.allow_peer(p) and m.unbans["peer"] == 1 and g.store.peer_bans == {}
    assert g.allow_peer(p) and m.unbans["peer"] == 1  # counted once


def test_an_ip_ban_lifts_itself_too():
    clock = Clock()
    g, m = gater(clock=clock)
    ip = ipaddress.ip_address("10.9.8.7")
    g.ban_ip(ip, clock() + 5)
    assert g.ip_refusal(ip) == "banned" and g.ip_refusal(ipaddress.ip_address("10.9.8.6")) is None
    clock.t += 5
    assert g.allow_ip(ip) and m.unbans["ip"] == 1


def test_netrestrict_refuses_addresses_outside_every_network():
    g, _ = gater(("10.0.0.0/8", "192.168.1.0/24"))
    assert g.ip_refusal(ipaddress.ip_address("127.0.0.1")) == "netrestrict"
    assert g.ip_refusal(ipaddress.ip_address("10.200.0.1")) is None
    assert g.ip_refusal(ipaddress.ip_address("192.168.2.1")) == "netrestrict"
    p = peer("x")
    outside, inside = Multiaddr("/ip4/127.0.0.1/tcp/1"), Multiaddr("/ip4/10.0.0.1/tcp/1")
    assert g.dial_refusal(p, [outside]) == "netrestrict"
    assert g.dial_refusal(p, [outside, inside]) is None  # one dialable address is enough
    open_gate, _ = gater()
    assert open_gate.ip_refusal(ipaddress.ip_address("127.0.0.1")) is None


def test_blocks_are_kept_by_the_store(tmp_path):
    path = str(tmp_path / "peers.db")
    g, _ = gater(store=PeerStore(path, now=0, score_retention=1))
    g.set_peer_blocked(peer("b"), True)
    g.set_addr_blocked(ipaddress.ip_address("1.2.3.4"), True)
    g.set_subnet_blocked(ipaddress.ip_network("5.6.0.0/16"), True)
    g.store.close()
    again, _ = gater(store=PeerStore(path, now=0, score_retention=1))
    assert again.blocked_peers == {peer("b")} and again.peer_refusal(peer("b")) == "blocked"
    assert again.ip_refusal(ipaddress.ip_address("1.2.3.4")) == "blocked"
    assert again.ip_refusal(ipaddress.ip_address("5.6.7.8")) == "blocked"


# ---------------------------------------------------------------------------------------------- flags


def test_peer_management_flags_parse():
    cfg = P2PConfig.from_flags({"p2p.netrestrict": "10.0.0.1/8, 192.168.0.0/16 172.16.0.0/12",
                                "p2p.scoring": "none", "p2p.ban.peers": "false", "p2p.ban.threshold": "-40.5",
                                "p2p.ban.duration": "90s", "p2p.peerstore.path": "memory"})
    assert cfg.netrestrict == ("10.0.0.0/8", "192.168.0.0/16", "172.16.0.0/12")
    assert (cfg.scoring, cfg.ban_peers, cfg.ban_threshold, cfg.ban_duration, cfg.peerstore_path) == \
        ("none", False, -40.5, 90.0, "memory")
    assert P2PConfig.from_flags({"p2p.netrestrict": ["10.0.0.0/8", "::1/128"]}).netrestrict == ("10.0.0.0/8",
                                                                                               "::1/128")


@pytest.mark.parametrize("flags,why", [
    ({"p2p.netrestrict": "10.0.0.0"}, "invalid CIDR address '10.0.0.0'"),
    ({"p2p.netrestrict": "10.0.0.0/8,example.com/8"}, "invalid CIDR address 'example.com/8'"),
    ({"p2p.netrestrict": "10.0.0.0/33"}, "invalid CIDR"),
    ({"p2p.peerstore.path": " "}, "peerstore path must be specified"),
    ({"p2p.ban.threshold": "nan"}, "not a number"),
    ({"p2p.ban.duration": "-1s"}, "must not be negative"),
    ({"p2p.scoring": "heavy"}, "unknown peer scoring"),
])
def test_bad_peer_management_flags_are_config_errors(flags, why):
    with pytest.raises(P2PConfigError, match=why):
        P2PConfig.from_flags(flags)


def test_a_bad_netrestrict_is_one_line_and_exit_2(capsys):
    from opnode.cli import main

    with pytest.raises(SystemExit) as e:
        main(["node", "--l1=http://l1:8545", "--l2=http://l2:8551", "--l2.jwt-secret=/nonexistent",
              "--network=op-sepolia", "--l1.beacon.ignore", "--p2p.netrestrict=10.0.0.0/8,not-a-cidr"])
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert e.value.code == 2 and len(err) == 1 and "--p2p.netrestrict" in err[0] and "not-a-cidr" in err[0], err
