"""`opnode decode batcher-tx | frames | channel` on real OP Mainnet inputs, and bad input."""

import io
import json
import sys

import pytest

from opnode.cli import main
from tests.vectors import ROOT, blob, load

V = load("frames_channels.json")


def run(argv, capsys, stdin: bytes | None = None):
    if stdin is not None:
        sys.stdin = io.TextIOWrapper(io.BytesIO(stdin))
    try:
        with pytest.raises(SystemExit) as exc:
            main(argv)
    finally:
        sys.stdin = sys.__stdin__
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def test_batcher_tx(capsys):
    code, out, _ = run(["decode", "batcher-tx", f"@{ROOT / 'blobs/op_mainnet_batcher_tx_e69d9433.hex'}"], capsys)
    assert code == 0
    d = json.loads(out)
    exp = V["vectors"][0]["expected"]
    assert d["hash"] == exp["tx"]["tx_hash"] and d["from"] == exp["tx"]["sender_recovered"]
    assert d["nonce"] == exp["tx"]["nonce"] and d["type"] == 2 and d["blob_versioned_hashes"] == []
    assert [(f["channel_id"], f["frame_number"], f["data_length"], f["is_last"]) for f in d["frames"]] == [
        (f["channel_id"], f["frame_number"], f["frame_data_length"], bool(f["is_last"])) for f in exp["frames"]]


def _check_channel(d, vec):
    e = V["vectors"][vec]["expected"]
    span = e["batches"][0]["span_batch"]
    assert d["compression"] == "zlib" and d["decompressed_length"] == e["channel"]["decompressed_len"]
    (b,) = d["batches"]
    assert b["type"] == "span" and b["block_count"] == span["block_count"] and b["tx_count"] == span["total_txs"]
    assert [(x["timestamp"], x["epoch_num"], x["l2_number"], len(x["transactions"])) for x in b["blocks"]] == [
        (x["timestamp"], x["l1_origin_number"], x["l2_number"], x["tx_count"]) for x in span["derived_blocks"]]
    txs = [t for x in b["blocks"] for t in x["transactions"]]
    assert [t["hash"] for t in txs] == span["reconstructed_txs"]["tx_hashes"]
    assert [t["from"] for t in txs] == span["reconstructed_txs"]["senders"]


def test_channel_27_blocks_from_frames(capsys, tmp_path):
    code, out, _ = run(["decode", "frames", f"@{ROOT / 'blobs/op_mainnet_batcher_tx_e69d9433.hex'}"], capsys)
    assert code == 2 and "derivation version" in json.loads(out)["error"]  # a whole tx is not batcher data
    from derivation.protocol.transactions import decode

    calldata = decode(blob("op_mainnet_batcher_tx_e69d9433.hex")).data
    code, out, _ = run(["decode", "frames", "0x" + calldata.hex()], capsys)
    frame = json.loads(out)["frames"][0]
    raw = tmp_path / "channel.bin"
    raw.write_bytes(bytes.fromhex(frame["data"][2:]))  # raw bytes, not hex
    code, out, _ = run(["decode", "channel", f"@{raw}", "--network", "op-mainnet"], capsys)
    assert code == 0
    d = json.loads(out)
    _check_channel(d, 0)
    assert "error" not in d and "no final block" in d["note"]


def test_channel_143_blocks_from_stdin(capsys):
    hex_text = (ROOT / "blobs/op_mainnet_channel_zlib_span143.hex").read_bytes()
    code, out, _ = run(["decode", "channel", "-", "--network", "op-mainnet"], capsys, stdin=hex_text)
    assert code == 0
    _check_channel(json.loads(out), 1)


def test_channel_without_a_chain_reports_what_it_cannot_derive(capsys):
    code, out, _ = run(["decode", "channel", f"@{ROOT / 'blobs/op_mainnet_channel_zlib_span143.hex'}"], capsys)
    b = json.loads(out)["batches"][0]
    assert code == 0 and "blocks" not in b and "--network" in b["blocks_error"]


@pytest.mark.parametrize("argv, message", [
    (["decode", "channel", "0xzz"], "not hex"),
    (["decode", "channel", "0x12"], "compression"),
    (["decode", "frames", "0x00ff"], "truncated"),
    (["decode", "batcher-tx", "0x02c0"], "dynamic_fee"),
    (["decode", "channel", "@/nonexistent/file"], "cannot read"),
    (["decode", "channel", "0x78da", "--rollup.config", "/nonexistent.json"], "cannot read rollup config"),
])
def test_bad_input_is_exit_2_with_json_error(capsys, argv, message):
    code, out, err = run(argv, capsys)
    assert code == 2
    assert message in json.loads(out)["error"]
    assert err.count("\n") == 1 and err.startswith("opnode: error:") and "Traceback" not in err


def test_unknown_option_is_a_one_line_usage_error(capsys):
    code, out, err = run(["decode", "channel", "0x78da", "--bogus"], capsys)
    assert code == 2 and err.count("\n") == 1 and "--bogus" in err
