"""The batcher's pieces without a chain: channels and what faults do to them (decoded back with derivation's own
frame and batch codecs), the fault schedule, fee bumps, keys and settings, and the command line."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from derivation.protocol.batch_reader import BatchReader
from derivation.protocol.batches import SingularBatch
from derivation.protocol.blobs import decode_blob
from derivation.protocol.channel import Channel as DerivChannel
from derivation.protocol.compression import BROTLI, ZLIB
from derivation.protocol.crypto import keccak256
from derivation.protocol.frames import parse_frames
from derivation.protocol.transactions import DYNAMIC_FEE, Transaction
from derivation.protocol.types import BlockID, L1BlockRef, L2BlockRef
from opnode.testing.harness.world import GENESIS_TIME, World
from opnode.tools.batcher.channels import BLOBS, CALLDATA, ChannelManager, L2Reorg
from opnode.tools.batcher.config import BatcherConfig, BatcherConfigError, parse_private_key
from opnode.tools.batcher.events import EventLog, read_events
from opnode.tools.batcher.faults import ALL_FAULTS, SACRIFICIAL, FaultKind, FaultPlan, parse_kinds
from opnode.tools.batcher.l2_blocks import L2Block
from opnode.tools.batcher.txmgr import Fees, calldata_gas

CFG = World().cfg  # Granite at genesis
FJORD_OFF = World({"ecotone": 0}).cfg  # Delta and Ecotone, no Fjord: zlib


KEY = keccak256(b"a sender")


def _tx(nonce: int) -> bytes:
    return Transaction(DYNAMIC_FEE, chain_id=CFG.l2_chain_id, nonce=nonce, max_priority_fee_per_gas=1,
                       max_fee_per_gas=10**9, gas=21_000, to=b"\x42" * 20, value=nonce).sign(KEY).raw


def _blocks(n: int, start: int = 1, txs_per_block: int = 3) -> list[L2Block]:
    out, parent = [], keccak256(b"genesis")
    for i in range(1, start + n):
        h = keccak256(i.to_bytes(8, "big"))
        ref = L2BlockRef(h, i, parent, GENESIS_TIME + 2 * i, BlockID(keccak256(b"l1" + bytes([i // 4])), i // 4),
                         i % 4)
        if i >= start:
            out.append(L2Block(ref, tuple(_tx(100 * i + t) for t in range(txs_per_block))))
        parent = h
    return out


def _head(n: int = 10, time: int = GENESIS_TIME + 100) -> L1BlockRef:
    return L1BlockRef(keccak256(n.to_bytes(8, "big")), n, keccak256(b"p"), time)


def _decode(ch):
    """The frames of each data item of the channel's transactions."""
    return [parse_frames(p) for s in ch.submissions for p in s.payloads]


def _read_channel(frames):
    """The batches derivation reads from these frames (a channel assembled as the channel bank does)."""
    dc = DerivChannel(frames[0].channel_id, _head(1))
    for f in frames:
        dc.add_frame(f, _head(1))
    assert dc.is_ready
    return list(BatchReader(dc.data(), 10**8, True))


def test_channel_manager_builds_span_batches_that_derivation_reads():
    cm = ChannelManager(CFG, max_channel_duration=2, max_frame_size=300)
    blocks = _blocks(6)
    for b in blocks:
        cm.add_block(b, l1_head=10)
    assert not cm.due(11) and cm.due(12)
    ch = cm.build(_head(12), CALLDATA)
    assert ch.span and ch.compression == BROTLI and ch.da == CALLDATA and len(ch.frames) > 1
    assert [s.frames for s in ch.submissions] == [(i,) for i in range(len(ch.frames))]
    assert all(len(s.payloads[0]) <= 301 for s in ch.submissions)  # version byte + frame
    items = _decode(ch)
    assert [f.number for item in items for f in item] == list(range(len(ch.frames)))
    (raw,) = _read_channel([f for item in items for f in item])
    span = raw.derive(CFG.block_time, CFG.genesis.l2_time, CFG.l2_chain_id)
    assert [(e.timestamp, e.epoch_num, e.transactions) for e in span.elements] == [
        (b.ref.time, b.ref.l1_origin.number, b.txs) for b in blocks]
    assert span.parent_check == blocks[0].ref.parent_hash[:20]
    assert not cm.queue and cm.opened_at is None


def test_zlib_before_fjord_and_blob_submissions():
    cm = ChannelManager(FJORD_OFF, max_channel_duration=0, blobs_per_tx=2, max_frame_size=2000)
    for b in _blocks(30, txs_per_block=8):
        cm.add_block(b, 5)
    ch = cm.build(_head(5), BLOBS)
    assert ch.compression == ZLIB and ch.da == BLOBS
    assert len(ch.frames) >= 3
    assert [len(s.payloads) for s in ch.submissions][:-1] == [2] * (len(ch.submissions) - 1)
    blob = ch.submissions[0].blobs()[0]
    assert parse_frames(decode_blob(blob))[0].number == 0


def test_faults_shape_the_channel_as_documented():
    shapes = {}
    for kind in FaultKind:
        cm = ChannelManager(CFG, max_channel_duration=0)
        for b in _blocks(3):
            cm.add_block(b, 1)
        ch = cm.build(_head(1), CALLDATA, kind)
        if kind is FaultKind.GARBAGE:
            cm.add_garbage(ch, b"\x00" + b"junk" * 20)
        shapes[kind] = [(s.garbage, s.frames) for s in ch.submissions]
        assert ch.sacrificial == (kind in SACRIFICIAL)
        # a sacrificial channel leaves its blocks queued for the next channel, which carries them cleanly
        assert len(cm.queue) == (3 if kind in SACRIFICIAL else 0)
        if kind is FaultKind.INVALID:
            batches = _read_channel([f for item in _decode(ch) for f in item])
            assert isinstance(batches[0], SingularBatch) and len(batches) == 3
            assert batches[0].parent_hash != _blocks(3)[0].ref.parent_hash
            assert batches[1].parent_hash == _blocks(3)[0].hash
    assert shapes[FaultKind.GARBAGE] == [(True, ()), (False, (0,))]
    assert shapes[FaultKind.DUPLICATE] == [(False, (0, 0))]
    assert shapes[FaultKind.REORDER] == [(False, (1,)), (False, (0,))]
    assert shapes[FaultKind.TIMEOUT] == [(False, (0,))]  # two frames, the closing one never sent
    assert shapes[FaultKind.INVALID] == [(False, (0,))]


def test_rewind_requeues_the_channel_and_everything_after():
    cm = ChannelManager(CFG, max_channel_duration=0)
    blocks = _blocks(9)
    chans = []
    for i in range(3):
        for b in blocks[3 * i:3 * i + 3]:
            cm.add_block(b, 20 + i)
        chans.append(cm.build(_head(20 + i), CALLDATA))
    cm.add_block(_blocks(1, start=10)[0], 23)
    dropped = cm.rewind(chans[1])
    assert dropped == chans[1:] and cm.channels == chans[:1]
    assert [b.number for b in cm.queue] == [4, 5, 6, 7, 8, 9, 10] and cm.opened_at == 21
    stranger = _blocks(1, start=11)[0]
    with pytest.raises(L2Reorg):
        cm.add_block(L2Block(dataclasses.replace(stranger.ref, parent_hash=b"\x01" * 32), ()), 24)
    # prune: a channel goes once the safe head passed it and the caller lets it go
    assert cm.prune(2, keep=lambda ch: False) == []
    assert cm.prune(3, keep=lambda ch: True) == []
    assert cm.prune(3, keep=lambda ch: False) == chans[:1]


def test_fault_schedule_is_deterministic():
    plan = FaultPlan(ALL_FAULTS, every=3, seed=5)
    got = [plan.fault_for(i) for i in range(18)]
    assert got == [None, None, FaultKind.GARBAGE, None, None, FaultKind.DUPLICATE, None, None, FaultKind.REORDER,
                   None, None, FaultKind.TIMEOUT, None, None, FaultKind.INVALID, None, None, FaultKind.GARBAGE]
    assert plan.garbage(2) == FaultPlan(seed=5).garbage(2) != FaultPlan(seed=6).garbage(2)
    assert plan.garbage(2)[0] == 0 and len(plan.garbage(2)) == 201
    assert parse_kinds("garbage, timeout") == (FaultKind.GARBAGE, FaultKind.TIMEOUT)
    assert parse_kinds("all") == ALL_FAULTS
    assert parse_kinds("reordered_frames,invalid") == (FaultKind.REORDER, FaultKind.INVALID)
    for bad in ("nonsense", "frame"):
        with pytest.raises(ValueError):
            parse_kinds(bad)
    with pytest.raises(ValueError):
        FaultPlan(every=1)


def test_fee_bumps_follow_replacement_rules():
    old = Fees(tip=100, fee_cap=1000, blob_fee_cap=50)
    quiet = old.bumped(Fees(10, 100, 5))
    assert (quiet.tip, quiet.fee_cap, quiet.blob_fee_cap) == (111, 1101, 100)  # +10 %, blobs x2
    busy = old.bumped(Fees(500, 5000, 400))
    assert (busy.tip, busy.fee_cap, busy.blob_fee_cap) == (500, 5000, 400)
    assert Fees(1, 2).bumped(Fees(1, 2)).blob_fee_cap is None
    assert calldata_gas(b"") == 21_000
    assert calldata_gas(b"\x00\x01") == 21_000 + 10 + 40  # EIP-7623 floor dominates


def test_keys_and_settings(tmp_path):
    hexkey = "0x" + "11" * 32
    assert parse_private_key(hexkey) == b"\x11" * 32
    f = tmp_path / "key.txt"
    f.write_text("11" * 32 + "\n")
    assert parse_private_key(str(f)) == b"\x11" * 32
    for bad in ("0x1234", str(tmp_path / "missing"), "0x" + "00" * 32, "0x" + "ff" * 32):
        with pytest.raises(BatcherConfigError):
            parse_private_key(bad)
    base = dict(l1_rpc="http://l1", l2_rpc="http://l2", rollup_rpc="http://n", keys=(b"\x11" * 32,))
    BatcherConfig(**base)
    for bad in ({"da": "carrier-pigeon"}, {"keys": ()}, {"max_frame_size": 20}, {"max_pending_tx": 0},
                {"blobs_per_tx": 10}):
        with pytest.raises(BatcherConfigError):
            BatcherConfig(**{**base, **bad})


def test_event_log_lines_and_counters(tmp_path):
    path = tmp_path / "events.jsonl"
    log = EventLog(path, clock=lambda: 12.5)
    log.emit("fault", kind="garbage_frame", channel=b"\xab" * 2, expected_drops=frozenset({"b", "a"}))
    log.emit("rewind", reason="l1_reorg", l2_blocks=[3, 4])
    log.emit("tx_included", da="blobs", garbage=False)
    log.emit("tx_included", da="blobs", garbage=True)
    log.close()
    lines = read_events(path)
    assert lines[0] == {"t": 12.5, "event": "fault", "kind": "garbage_frame", "channel": "0xabab",
                        "expected_drops": ["a", "b"]}
    assert log.snapshot() == {"events": {"fault": 1, "rewind": 1, "tx_included": 2}, "faults": {"garbage_frame": 1},
                              "rewinds": {"l1_reorg": 1}, "txs_included_by_da": {"blobs": 1}}


def _opnode(*args):
    return subprocess.run([sys.executable, "-m", "opnode", *args], capture_output=True, text=True, timeout=60)


def test_command_line_errors_are_one_line():
    base = ["batcher", "--l1", "http://127.0.0.1:1", "--l2-eth-rpc", "http://127.0.0.1:1", "--rollup-rpc",
            "http://127.0.0.1:1"]
    for extra, words in ((["--private-key", "0x12"], "private key"),
                         (["--private-key", "0x" + "11" * 32, "--faults", "--faults.kinds", "bogus"], "fault kind"),
                         (["--private-key", "0x" + "11" * 32, "--da", "pigeon"], "pigeon")):
        r = _opnode(*base, *extra)
        assert r.returncode == 2, r.stderr
        assert words in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_unreachable_rollup_node_is_a_one_line_error():
    r = _opnode("batcher", "--l1", "http://127.0.0.1:9", "--l2-eth-rpc", "http://127.0.0.1:9", "--rollup-rpc",
                "http://127.0.0.1:9", "--private-key", "0x" + "11" * 32)
    assert r.returncode == 1 and "cannot run the batcher" in r.stderr, r.stderr
    assert r.stderr.strip().splitlines()[-1].startswith("opnode: error: cannot run the batcher")


def test_traffic_picks_the_updates_the_l2_fork_makes_meaningful():
    from opnode.tools.devnet.traffic import Traffic, TrafficConfig
    from opnode.tools.l1contracts import system_config as S

    cfg = World({"granite": 0, "holocene": 10, "isthmus": 20, "jovian": 30}).cfg
    t = Traffic(TrafficConfig(l1_rpc="http://l1", l2_rpc="http://l2", rollup=cfg, owner_key=b"\x01" * 32,
                              depositor_key=b"\x02" * 32, l2_keys=(b"\x03" * 32,)))
    names = {}
    for offset in (0, 10, 20, 30):
        names[offset] = [n for n, _ in t.updates_for(GENESIS_TIME + offset)]
    assert names[0] == ["setGasLimit", "setGasConfigEcotone"]
    assert names[10] == names[0] + ["setEIP1559Params"]
    assert names[20] == names[10] + ["setOperatorFeeScalars"]
    assert names[30] == names[20] + ["setMinBaseFee", "setDAFootprintGasScalar"]
    calls = dict(t.updates_for(GENESIS_TIME + 30))
    assert calls["setGasLimit"][:4] == S.SET_GAS_LIMIT.selector
    assert int.from_bytes(calls["setGasLimit"][4:], "big") >= S.MINIMUM_GAS_LIMIT
    with pytest.raises(ValueError):
        TrafficConfig(l1_rpc="", l2_rpc="", rollup=cfg, owner_key=b"", depositor_key=b"", l2_keys=())
