"""The recording file: exact round trips, and every kind of damage or forgery reported as a corrupt recording
(never replayed): compressed-stream damage, truncation, failed record checksums, and content that contradicts
itself even when every checksum was recomputed."""

from __future__ import annotations

import copy
import gzip
import io
import json

import pytest

from derivation.protocol.hexutil import to_hex
from derivation.protocol.l1_chain_config import BlobFork, L1ChainConfig
from opnode.node.l1 import blockdata
from opnode.tools.replay import format as fmt
from opnode.tools.replay.replayer import replay
from opnode.tools.replay.store import decode_l1_header
from tests.replay.helpers import SHIPPED, VECTORS, first, flip_hex, pack, records, rewrite
from tests.vectors import load

GOERLI = [c["block"] for c in load("l1_blocks_goerli.json")["cases"] if not c["fail"]]


@pytest.fixture(scope="module")
def calldata() -> bytes:
    return (VECTORS / "calldata-pre-holocene.jsonl.gz").read_bytes()


@pytest.fixture(scope="module")
def blobs() -> bytes:
    return (VECTORS / "blobs-across-holocene.jsonl.gz").read_bytes()


def _read(data: bytes):
    return fmt.decode(io.BytesIO(data))


def _corrupt(data: bytes, match: str):
    with pytest.raises(fmt.CorruptRecording, match=match):
        _read(data)


@pytest.mark.parametrize("name", SHIPPED)
def test_reading_and_writing_again_gives_the_same_bytes(name):
    data = (VECTORS / name).read_bytes()
    store = _read(data)
    assert fmt.encode(store) == data
    recs = records(data)
    assert recs[0]["kind"] == "header" and recs[-1]["kind"] == "end" and recs[-1]["records"] == len(recs) - 1
    assert recs[0]["provenance"][0]["path"] == "tests/replay/make_recordings.py"


def test_l1_headers_decode_as_the_json_client_reads_them():
    for block in GOERLI:
        h = decode_l1_header(blockdata.header_rlp(block))
        assert h.info == blockdata.block_info(block)
        assert to_hex(h.transactions_root) == block["transactionsRoot"]
    cancun = dict(copy.deepcopy(GOERLI[-1]), blobGasUsed="0x40000", excessBlobGas="0x123",
                  parentBeaconBlockRoot="0x" + "ab" * 32, requestsHash="0x" + "cd" * 32)
    info = decode_l1_header(blockdata.header_rlp(cancun)).info
    want = blockdata.block_info(cancun)
    assert (info.excess_blob_gas, info.blob_gas_used, info.parent_beacon_root) == (0x123, 0x40000, b"\xab" * 32)
    assert info == type(want)(**{**{f: getattr(want, f) for f in want.__slots__}, "hash": info.hash})


def test_l1_chain_config_round_trips_and_unknown_fork_names_are_refused():
    c = L1ChainConfig(900, (BlobFork("cancun", 0, 3338477), BlobFork("prague", 10, 5007716), BlobFork("bpo1", 20, 7)))
    assert L1ChainConfig.from_genesis_config(fmt.l1_chain_to_json(c)) == c
    with pytest.raises(ValueError, match="no genesis-config form"):
        fmt.l1_chain_to_json(L1ChainConfig(900, (BlobFork("mystery", 0, 5),)))


# ------------------------------------------------------------------------------------------------ damage


def test_a_flipped_byte_in_the_compressed_stream(calldata):
    for pos in (len(calldata) // 3, len(calldata) // 2, len(calldata) - 6):
        damaged = bytearray(calldata)
        damaged[pos] ^= 0x40
        with pytest.raises(fmt.CorruptRecording):
            _read(bytes(damaged))


def test_a_truncated_file(calldata):
    _corrupt(calldata[:-200], "damaged|ends inside")
    # Cut at a record boundary and compressed again: the end record is missing.
    lines = gzip.decompress(calldata).splitlines(keepends=True)
    _corrupt(gzip.compress(b"".join(lines[:-1])), "end record is missing")
    _corrupt(gzip.compress(b"".join(lines[:-3]) + lines[-1]), "record count or digest")


def test_an_edited_record_fails_its_checksum(calldata):
    def edit(recs):
        r = first(recs, "l1_txs", lambda r: r["txs"])
        r["txs"][0] = flip_hex(r["txs"][0])

    _corrupt(rewrite(calldata, edit, reseal=False), r"record \d+ \(l1_txs\)|fails its checksum")


@pytest.mark.parametrize("what, match", [
    ("l1_tx", "transactions of L1 block .* have root"),
    ("l1_receipt", "receipts of block .* have root"),
    ("l1_header", "header hashes to"),
    ("l1_header_and_hash", "whose header is not in the recording|does not link"),
    ("l2_parent", "does not link"),
    ("l2_not_deposit", "does not start with"),
    ("start", "start safe head"),
    ("second_header", "a second header"),
    ("unknown_kind", "unknown record kind"),
    ("missing_field", "missing field 'txs'"),
    ("bad_hex", "field 'header'"),
    ("after_end", "records after the end record"),
])
def test_forged_content_is_caught_even_with_valid_checksums(calldata, what, match):
    def edit(recs):
        if what == "l1_tx":
            r = first(recs, "l1_txs", lambda r: r["txs"])
            r["txs"][0] = r["txs"][0][:-2] + ("00" if r["txs"][0][-2:] != "00" else "01")
        elif what == "l1_receipt":
            r = first(recs, "l1_receipts", lambda r: r["receipts"])
            r["receipts"][0] = flip_hex(r["receipts"][0], 10)
        elif what == "l1_header":
            r = first(recs, "l1_block")
            r["header"] = flip_hex(r["header"], 100)
        elif what == "l1_header_and_hash":
            r = first(recs, "l1_block", lambda r: r["canonical"])
            r["header"] = flip_hex(r["header"], 100)
            r["hash"] = to_hex(decode_l1_header(bytes.fromhex(r["header"][2:])).info.hash)
        elif what == "l2_parent":
            r = [x for x in recs if x["kind"] == "l2_block"][5]
            r["parent_hash"] = flip_hex(r["parent_hash"])
        elif what == "l2_not_deposit":
            r = [x for x in recs if x["kind"] == "l2_block"][5]
            r["transactions"] = r["transactions"][1:]
        elif what == "start":
            recs[0]["start_safe_head"]["hash"] = flip_hex(recs[0]["start_safe_head"]["hash"])
        elif what == "second_header":
            recs.insert(2, dict(recs[0]))
        elif what == "unknown_kind":
            recs.insert(2, {"kind": "mystery"})
        elif what == "missing_field":
            del first(recs, "l1_txs")["txs"]
        elif what == "bad_hex":
            first(recs, "l1_block")["header"] = "0xzz"
        elif what == "after_end":
            recs.append(dict(recs[1]))
            recs.append(recs[-2])  # keep an end record last, so that only the stray record is wrong

    _corrupt(rewrite(calldata, edit), match)


@pytest.mark.parametrize("what, match", [
    ("data", "commits to"),
    ("index", "not the one its transactions list"),
    ("size", "bytes, not 131072"),
])
def test_forged_blobs_are_caught(blobs, what, match):
    def edit(recs):
        r = first(recs, "blob")
        if what == "data":
            r["data"] = r["data"][:100] + ("1" if r["data"][100] != "1" else "2") + r["data"][101:]
        elif what == "index":
            r["index"] += 1
        else:
            r["data"] = r["data"][:-2]

    _corrupt(rewrite(blobs, edit), match)


def test_a_recording_missing_data_is_replayed_as_incomplete(blobs):
    def edit(recs):
        recs.remove(first(recs, "blob"))

    result = replay(_read(rewrite(blobs, edit)))
    assert result.verdict == "incomplete" and "l1_blobs" in result.message


# ------------------------------------------------------------------------------------------------ not recordings


def test_files_that_are_not_recordings(tmp_path, calldata):
    p = tmp_path / "x"
    p.write_text("hello")
    with pytest.raises(fmt.RecordingError, match="not gzip"):
        fmt.read(p)
    p.write_bytes(gzip.compress(b""))
    with pytest.raises(fmt.RecordingError, match="empty"):
        fmt.read(p)
    p.write_bytes(gzip.compress(b'{"kind": "l1_block", "sha256": "00"}\n'))
    with pytest.raises(fmt.CorruptRecording, match="checksum"):
        fmt.read(p)
    with pytest.raises(fmt.RecordingError, match="cannot read"):
        fmt.read(tmp_path / "missing")
    recs = records(calldata)
    recs[0]["version"] = 2
    with pytest.raises(fmt.RecordingError, match="version 2 is not supported"):
        _read(pack(recs))
    recs[0]["version"], recs[0]["format"] = 1, "something-else"
    with pytest.raises(fmt.RecordingError, match="not an opnode replay recording"):
        _read(pack(recs))
    p.write_bytes(gzip.compress(json.dumps([1, 2]).encode() + b"\n"))
    with pytest.raises(fmt.CorruptRecording, match="not a record"):
        fmt.read(p)


def test_reading_is_bounded(calldata, monkeypatch):
    monkeypatch.setattr(fmt, "MAX_RECORD_BYTES", 2000)
    _corrupt(calldata, "too large")
    monkeypatch.setattr(fmt, "MAX_RECORD_BYTES", 64 << 20)
    monkeypatch.setattr(fmt, "MAX_RECORDS", 10)
    _corrupt(calldata, "more than 10 records")
