"""``opnode replay run | inspect | record`` on the command line: output, JSON, exit codes and one-line errors."""

from __future__ import annotations

import json

import pytest

from opnode.cli import main
from tests.replay.helpers import VECTORS, first, flip_hex, rewrite

FAULTS = VECTORS / "faults-holocene.jsonl.gz"
CALLDATA = VECTORS / "calldata-pre-holocene.jsonl.gz"


def run(capsys, *args):
    with pytest.raises(SystemExit) as e:
        main(["replay", *args])
    out, err = capsys.readouterr()
    return e.value.code, out, err


def one_line_error(err: str) -> str:
    assert err.count("\n") == 1 and err.startswith("opnode: error: ") and "Traceback" not in err
    return err


def test_run_explains_each_l1_block_and_exits_0_on_a_match(capsys):
    code, out, err = run(capsys, "run", str(FAULTS))
    assert code == 0, err
    assert "L1 #2 " in out and "frames     data item 0: channel 6c31fc15422ebad28aaf9089c306702f frame 0" in out
    assert "channel    6c31fc15422ebad28aaf9089c306702f ready: 1 frame" in out
    assert "batch      singular read from channel" in out and "accepted   batch t=" in out
    assert "dropped    batch: parent_hash_mismatch: parent hash" in out
    assert "dropped    data: invalid_batcher_tx_data" in out
    assert "L2 #24 attributes: t=" in out and "gas limit 30000000" in out and "eip1559Params 0x" in out
    assert "→ matches 0x" in out
    assert "nothing for the rollup" in out
    assert out.rstrip().splitlines()[-1].startswith("match: 24 L2 blocks derived")


def test_run_json_holds_the_same_content(capsys, tmp_path):
    out_file = tmp_path / "run.json"
    code, text, _ = run(capsys, "run", str(FAULTS), "--json", str(out_file))
    assert code == 0 and "match:" in text
    doc = json.loads(out_file.read_text())
    assert doc["result"]["verdict"] == "match" and doc["result"]["derived"] == 24
    events = [e for b in doc["l1_blocks"] for e in b["events"]]
    derived = [e for e in events if e["type"] == "l2_block"]
    assert [e["number"] for e in derived] == list(range(1, 25))
    assert all(e["outcome"] == "match" and e["attributes"]["gasLimit"] == "0x1c9c380" for e in derived)
    reasons = {e["reason"] for e in events if e["type"] == "dropped"}
    assert {"parent_hash_mismatch", "channel_flushed", "future_timestamp", "invalid_batcher_tx_data"} <= reasons
    assert doc["recording"]["range"] == {"from_l1": 2, "to_l1": 14}
    code, stdout, _ = run(capsys, "run", str(FAULTS), "--json", "-")
    assert code == 0 and json.loads(stdout) == doc  # '-': JSON alone on stdout


def test_run_exits_1_with_a_readable_diff_at_the_first_mismatch(capsys, tmp_path):
    def edit(recs):
        r = first(recs, "l2_block", lambda r: r["number"] == 70)
        r["gas_limit"] = 29_000_000
        r["transactions"][1] = first(recs, "l2_block", lambda r: r["number"] == 71)["transactions"][1]

    bad = tmp_path / "mismatch.jsonl.gz"
    bad.write_bytes(rewrite(CALLDATA.read_bytes(), edit))
    code, out, err = run(capsys, "run", str(bad), "--json", str(tmp_path / "r.json"))
    assert code == 1
    assert "L2 block 70 derived from L1 block" in out and "does not match the recorded block" in out
    lines = out.splitlines()
    gas = next(line for line in lines if line.lstrip().startswith("gas_limit"))
    assert "31000000" in gas and "29000000" in gas  # the L1 update raised it to 31M; the forged block says 29M
    txs = next(line for line in lines if line.lstrip().startswith("transactions"))
    assert "first difference at index 1" in txs
    assert lines[-1].startswith("mismatch: L2 block 70")
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["result"]["verdict"] == "mismatch" and doc["result"]["first_mismatch"]["number"] == 70
    assert {d["field"] for d in doc["result"]["first_mismatch"]["diffs"]} == {"gas_limit", "transactions"}
    assert max(e["number"] for b in doc["l1_blocks"] for e in b["events"] if e["type"] == "l2_block") == 70


def test_a_corrupt_recording_is_reported_not_replayed(capsys, tmp_path):
    def edit(recs):
        r = first(recs, "l1_txs", lambda r: r["txs"])
        r["txs"][0] = r["txs"][0][:-2] + ("00" if r["txs"][0][-2:] != "00" else "01")

    bad = tmp_path / "corrupt.jsonl.gz"
    bad.write_bytes(rewrite(FAULTS.read_bytes(), edit))
    for cmd in ("run", "inspect"):
        code, out, err = run(capsys, cmd, str(bad))
        assert code == 2 and out == ""
        assert "is corrupt, not replayed" in one_line_error(err) and "transactions of L1 block" in err
    data = bytearray(FAULTS.read_bytes())
    data[len(data) // 2] ^= 1
    bad.write_bytes(bytes(data))
    code, out, err = run(capsys, "run", str(bad))
    assert code == 2 and "is corrupt" in one_line_error(err)
    code, _, err = run(capsys, "run", str(tmp_path / "missing.jsonl.gz"))
    assert code == 2 and "cannot read" in one_line_error(err)


def test_inspect_maps_channels_to_l1_and_l2(capsys, tmp_path):
    code, out, err = run(capsys, "inspect", str(FAULTS), "--json", str(tmp_path / "i.json"))
    assert code == 0, err
    assert "Channels" in out and "L2 blocks" in out and "6c31fc15422e" in out and "1 span (6 blocks)" in out
    assert "channel_flushed" in out and "(partly read)" in out
    doc = json.loads((tmp_path / "i.json").read_text())
    channels = {c["id"]: c for c in doc["channels"]}
    assert len(doc["l2_blocks"]) == 24
    for b in doc["l2_blocks"]:
        ch = channels[b["channel_id"]]
        assert b["number"] in ch["l2_blocks"] and b["inclusion_l1_blocks"] == ch["l1_blocks"]
        assert b["derived_from"] >= max(ch["l1_blocks"])
    ready = [c for c in doc["channels"] if c["read_fully"]]
    assert all(c["ratio"] == round(c["decompressed_bytes"] / c["compressed_bytes"], 3) for c in ready)
    assert all(c["decompressed_bytes"] == sum(b["size"] for b in c["batches"]) for c in doc["channels"])
    assert all(c["frame_bytes"] == sum(f["size"] for f in c["frames"]) for c in doc["channels"])
    assert [d["reason"] for d in doc["invalid_data"]] == ["invalid_batcher_tx_data"] * 2


@pytest.mark.parametrize("args, match", [
    (["--from-l1", "5", "--to-l1", "4", "--network", "op-sepolia"], "is after --to-l1"),
    (["--from-l1", "1", "--to-l1", "4"], "exactly one of --network and --rollup.config"),
    (["--from-l1", "1", "--to-l1", "4", "--network", "op-sepolia", "--start-l2", "3", "--lookback", "1"],
     "at most one of"),
    (["--from-l1", "1", "--to-l1", "4", "--network", "op-sepolia", "--rollup.l1-chain-config", "/nonexistent"],
     "cannot read"),
])
def test_record_refuses_bad_arguments(capsys, tmp_path, args, match):
    code, _, err = run(capsys, "record", "--l1", "http://127.0.0.1:1", "--l2", "http://127.0.0.1:1",
                       "-o", str(tmp_path / "x.jsonl.gz"), *args)
    assert code == 2 and match in one_line_error(err)


def test_record_with_an_unreachable_l1_fails_in_one_line(capsys, tmp_path):
    code, _, err = run(capsys, "record", "--l1", "http://127.0.0.1:1", "--l2", "http://127.0.0.1:1",
                       "--network", "op-sepolia", "--from-l1", "1", "--to-l1", "2", "-o",
                       str(tmp_path / "x.jsonl.gz"), "--no-progress")
    assert code == 1 and one_line_error(err)
    assert not (tmp_path / "x.jsonl.gz").exists()


def test_flip_hex_changes_one_nibble():
    assert flip_hex("0xab") == "0xa0" and flip_hex("0xa0") == "0xa1"
