"""Node identity and peer configuration: node records (EIP-778 example, op-node's real bootnodes), the node key
file, op-node's p2p flags."""

from __future__ import annotations

import os
import stat

import pytest

from derivation.protocol.crypto import keccak256
from p2p.config import P2PConfig, P2PConfigError
from p2p.enr import RecordError, encode_record, parse_bootnodes, parse_record
from p2p.keys import NodeKeyError, load_or_create_node_key, parse_node_key, peer_id_of, peer_id_of_public_key
from p2p.signing import LocalSigner
from tests.vectors import load

RECORDS = load("p2p_external.json")["node_records"]


def test_eip778_example_record():
    v = RECORDS["eip778_example"]
    r = parse_record(v["text"])
    assert r.public_key.hex() == v["public_key"][2:]
    assert r.node_id.hex() == v["node_id"][2:]
    assert (r.seq, r.ip, r.udp, r.tcp) == (v["seq"], v["ip"], v["udp"], v["tcp"])
    assert r.opstack is None and not r.matches_chain(10)
    from coincurve import PrivateKey

    assert PrivateKey(bytes.fromhex(v["private_key"][2:])).public_key.format() == r.public_key


def test_op_node_default_bootnodes_parse_and_filter_by_chain():
    v = RECORDS["op_node_default_bootnodes"]
    records = parse_bootnodes(",".join(v["enr"] + v["enode"]) + ",")
    assert len(records) == len(v["enr"]) + len(v["enode"])
    for r in records[: len(v["enr"])]:
        assert r.opstack == tuple(v["opstack"]) and r.tcp == 9222
        assert r.matches_chain(8453) and not r.matches_chain(10)
    for r in records[len(v["enr"]):]:
        assert r.opstack is None and r.tcp == 30305 and r.matches_chain(10)  # enode URLs are taken as configured
    assert peer_id_of_public_key(records[0].public_key).pretty().startswith("16Uiu2")


def test_records_that_do_not_verify_or_parse():
    good = RECORDS["eip778_example"]["text"]
    body = good[4:]
    tampered = "enr:" + body[:20] + ("A" if body[20] != "A" else "B") + body[21:]
    for bad, message in [(tampered, "verify|RLP|sorted|v4"), ("enr:!!!", "base64"), ("enr:" + "A" * 500, "more than 300"),
                         ("http://x", "not an ENR"), ("enode://abcd@1.2.3.4:30303", "64-byte hex key"),
                         ("enode://[", "64-byte hex key"),  # probe: urlsplit's ValueError escaped as "internal error"
                         ("enode://" + "ab" * 64 + "@[::1:30303", "64-byte hex key"),
                         ("enode://" + "ab" * 64 + "@1.2.3.4:99999", "64-byte hex key")]:
        with pytest.raises(RecordError, match=message):
            parse_record(bad)
    with pytest.raises(RecordError, match="bootnode record 1"):
        parse_bootnodes(f"{good},enr:xx")


def test_own_record_round_trips_with_the_opstack_entry():
    key = keccak256(b"node")
    text = encode_record(key, ip="127.0.0.1", tcp=9222, udp=9223, chain_id=901)
    r = parse_record(text)
    assert (r.ip, r.tcp, r.udp, r.opstack) == ("127.0.0.1", 9222, 9223, (901, 0))
    assert peer_id_of_public_key(r.public_key) == peer_id_of(key)


def test_node_key_file_is_created_once_and_reused(tmp_path):
    path = tmp_path / "opnode_p2p_priv.txt"
    key = load_or_create_node_key(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert path.read_text() == key.hex()  # op-node writes bare hex
    assert load_or_create_node_key(path) == key
    path.write_text("  0x" + key.hex() + "\n")
    assert load_or_create_node_key(path) == key


@pytest.mark.parametrize("text, message", [("zz", "hex"), ("00" * 31, "31 bytes"), ("00" * 32, "scalar")])
def test_bad_node_keys(text, message):
    with pytest.raises(NodeKeyError, match=message):
        parse_node_key(text)


def test_flags_with_op_node_defaults():
    assert P2PConfig.from_flags({}) == P2PConfig()
    assert P2PConfig().listen_tcp == 9222 and (P2PConfig().peers_lo, P2PConfig().peers_hi) == (20, 30)
    assert P2PConfig.from_flags({"p2p.disable": "true", "p2p.listen.tcp": "1"}).disabled
    # op-node flags without an effect here are accepted (the CLI passes the whole p2p group).
    assert P2PConfig.from_flags({"p2p.nat": False, "p2p.scoring": "light", "p2p.useragent": "optimism"}) == P2PConfig()


def test_flags_parse():
    seq = LocalSigner(keccak256(b"s"))
    peer = "/ip4/127.0.0.1/tcp/9222/p2p/16Uiu2HAmEWQnHq2jLKJypwVnVoQeFCULuyop6atvq2eWjYSUjzNi"
    cfg = P2PConfig.from_flags({
        "p2p.listen.ip": "127.0.0.1", "p2p.listen.tcp": "0", "p2p.advertise.ip": "10.0.0.1",
        "p2p.advertise.tcp": 30000, "p2p.static": (peer,), "p2p.bootnodes": RECORDS["eip778_example"]["text"],
        "p2p.peers.lo": "2", "p2p.peers.hi": "4", "p2p.peers.grace": "1m", "p2p.sequencer.key": "0x" + seq._key.hex(),
        "p2p.priv.path": "/tmp/k"})
    assert (cfg.listen_ip, cfg.listen_tcp, cfg.advertise_ip, cfg.advertise_tcp) == ("127.0.0.1", 0, "10.0.0.1", 30000)
    assert cfg.static_peers == (peer,) and len(cfg.bootnodes) == 1
    assert (cfg.peers_lo, cfg.peers_hi, cfg.peers_grace) == (2, 4, 60.0)
    assert cfg.sequencer_key.address == seq.address and cfg.priv_path == "/tmp/k"
    assert str(cfg.listen_multiaddr) == "/ip4/127.0.0.1/tcp/0"
    assert P2PConfig.from_flags({"p2p.static": f" {peer}, ,"}).static_peers == (peer,)  # op-node skips empties


@pytest.mark.parametrize("flags, message", [
    ({"p2p.listen.tcp": "80"}, "reserved for system"),
    ({"p2p.listen.tcp": "70000"}, "out of range"),
    ({"p2p.listen.ip": "nope"}, "failed to parse IP"),
    ({"p2p.static": "/ip4/1.2.3.4/tcp/1"}, "static peer 0"),
    ({"p2p.peers.lo": "5", "p2p.peers.hi": "4"}, "above"),
    ({"p2p.sequencer.key": "0x1234"}, "32 bytes"),
    ({"l2.follow.source": "http://x"}, "not a p2p flag"),
])
def test_flags_op_node_refuses(flags, message):
    with pytest.raises(P2PConfigError, match=message):
        P2PConfig.from_flags(flags)
