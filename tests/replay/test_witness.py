"""``opnode replay witness`` on the real Granite OP Sepolia store (spec-vectors/witness/): the claim holds, a
changed claim does not, and a missing or damaged preimage stops the run with exit code 3 naming it."""

from __future__ import annotations

import json

import pytest

from derivation.events import OriginAdvanced
from derivation.protocol.crypto import keccak256
from derivation.protocol.hexutil import from_hex
from opnode.cli import main
from opnode.tools.witness.keys import KeyType, keccak_key
from tests.replay.witness_data import ARCHIVE, PARAMS, cli_args, linked_copy, replace_file

SPAN_START = 16491245  # the span batch of L2 #16491245–16491249 sits in the blob channel of L1 #6582952
OP_SEPOLIA_GENESIS_TIME = 1691802540


def run(capsys, args):
    with pytest.raises(SystemExit) as e:
        main(args)
    out, err = capsys.readouterr()
    return e.value.code, out, err


def one_line_error(err: str) -> str:
    assert err.count("\n") == 1 and err.startswith("opnode: error: ") and "Traceback" not in err
    return err


def test_the_real_store_proves_the_claim_and_explains_the_span_batch(capsys, tmp_path):
    out_json = tmp_path / "w.json"
    code, out, err = run(capsys, cli_args(ARCHIVE) + ["--json", str(out_json)])
    assert code == 0, err
    doc = json.loads(out_json.read_text())
    assert doc["claim_holds"] is True
    assert doc["computed_output_root"] == doc["claimed_output_root"] == PARAMS["claimed_l2_output_root"]
    assert doc["witness"]["agreed_l2_head"] == PARAMS["agreed_l2_block_number"]
    blocks = {b["number"]: b for b in doc["l1_blocks"]}
    events = blocks[6582952]["events"]
    frames = [e for e in events if e["type"] == "frames"]
    assert [e["data_index"] for e in frames] == [0, 1, 2]  # three blobs of one channel
    channel = frames[0]["frames"][0]["channel_id"]
    span = [e for e in events if e["type"] == "batch_read" and e["blocks"] == 5]
    assert span and span[0]["batch_type"] == "span" and span[0]["channel_id"] == channel
    assert span[0]["timestamp"] == OP_SEPOLIA_GENESIS_TIME + 2 * SPAN_START and span[0]["compression"] == "brotli"
    l2 = [e for e in events if e["type"] == "l2_block"]
    assert [e["number"] for e in l2] == [PARAMS["claimed_l2_block_number"]]
    assert l2[0]["output_root"] == PARAMS["claimed_l2_output_root"] and l2[0]["parent"]["hash"] == \
        PARAMS["agreed_l2_head_hash"]
    assert doc["l2_blocks"][0]["hash"] == l2[0]["hash"] and doc["l2_blocks"][0]["state_root"].startswith("0x")
    assert "L1 #6582952 " in out and f"channel    {channel[2:]} ready: 3 frames" in out
    assert "L2 #16491249 attributes: t=" in out and "executed: 12 txs" in out
    assert out.rstrip().splitlines()[-1].startswith("claim holds: L2 block 16491249 has output root "
                                                    + PARAMS["claimed_l2_output_root"])


def test_the_run_reads_only_what_it_needs(real_run):
    r = real_run.result
    assert r.claim_holds and r.computed_output_root == from_hex(PARAMS["claimed_l2_output_root"])
    types = {}
    for k in real_run.touched:
        types[k[0]] = types.get(k[0], 0) + 1
    assert r.preimages_read == len(real_run.touched) < real_run.total_files
    assert KeyType.PRECOMPILE not in types and KeyType.LOCAL not in types  # precompiles run natively here
    assert types[KeyType.BLOB] == 6 * 4096 and types[KeyType.SHA256] == 6  # the six batcher blobs, nothing more


def test_a_changed_claim_does_not_hold_and_the_true_root_is_printed(capsys, real_run):
    claimed = PARAMS["claimed_l2_output_root"]
    wrong = claimed[:-2] + ("00" if claimed[-2:] != "00" else "01")
    code, out, err = run(capsys, cli_args(real_run.directory, wrong))
    assert code == 1, err
    assert f"The output root differs at L2 block 16491249: computed {claimed} (the true root), claimed {wrong}" in out
    assert out.rstrip().splitlines()[-1].startswith("claim does not hold:")


def _origin_hash(real_run) -> bytes:
    return next(e.l1.hash for e in real_run.result.timeline if isinstance(e, OriginAdvanced)
                and e.l1.number == 6582945)


def test_the_l1_origin_header_missing_is_exit_3_naming_it(capsys, real_run, tmp_path):
    d = linked_copy(real_run.directory, tmp_path / "store")
    key = keccak_key(_origin_hash(real_run))
    (d / "data" / f"{key.hex()}.bin").unlink()
    code, out, err = run(capsys, cli_args(d))
    assert code == 3
    line = one_line_error(err)
    assert f"0x{key.hex()}" in line and "(keccak256)" in line and "L1 header 6582945" in line
    assert "is not in the store" in line


def _damaged_keys(real_run):
    touched = real_run.touched
    agreed = touched[keccak_key(from_hex(PARAMS["agreed_l2_output_root"]))]
    state_root = agreed[32:64]
    blob_key = sorted(k for k in touched if k[0] == KeyType.BLOB)[100]
    commitment_key = sorted(k for k in touched if k[0] == KeyType.SHA256)[0]
    return {"L1 header": keccak_key(_origin_hash(real_run)), "state root node": keccak_key(state_root),
            "blob field element": blob_key, "KZG commitment": commitment_key}


@pytest.mark.parametrize("what", ["L1 header", "state root node", "blob field element", "KZG commitment"])
def test_a_flipped_byte_in_a_preimage_is_exit_3(capsys, real_run, tmp_path, what):
    key = _damaged_keys(real_run)[what]
    d = linked_copy(real_run.directory, tmp_path / "store")
    path = d / "data" / f"{key.hex()}.bin"
    data = bytearray(path.read_bytes())
    data[-1] ^= 1
    replace_file(path, bytes(data))
    code, out, err = run(capsys, cli_args(d))
    assert code == 3, out[-500:]
    line = one_line_error(err)
    assert "does not match" in line or "do not commit" in line
    if what in ("L1 header", "state root node", "KZG commitment"):
        assert f"0x{key.hex()}" in line  # the damaged key itself is named
    assert (real_run.directory / "data" / f"{key.hex()}.bin").read_bytes() != bytes(data)  # original untouched


def test_bad_input_is_one_line_exit_2(capsys, tmp_path):
    code, _, err = run(capsys, cli_args(tmp_path / "nothing-here"))
    assert code == 2 and "no such file or directory" in one_line_error(err)
    (tmp_path / "empty").mkdir()
    code, _, err = run(capsys, cli_args(tmp_path / "empty"))
    assert code == 2 and "holds no preimage store" in one_line_error(err)
    args = cli_args(ARCHIVE)
    args[args.index("--l1-head") + 1] = "0x1234"
    code, _, err = run(capsys, args)
    assert code == 2 and "--l1-head" in one_line_error(err)
    args = cli_args(ARCHIVE)
    args[args.index("--l2-chain-id") + 1] = "10"
    code, _, err = run(capsys, args + ["--network", "op-sepolia"])
    assert code == 2 and "chain" in one_line_error(err)


def test_op_program_flag_spellings_are_accepted(capsys, real_run):
    args = ["replay", "witness", "--datadir", str(real_run.directory), "--l1.head", PARAMS["l1_head"],
            "--l2.outputroot", PARAMS["agreed_l2_output_root"], "--l2.claim", PARAMS["agreed_l2_output_root"],
            "--l2.blocknumber", str(PARAMS["agreed_l2_block_number"]), "--network", "op-sepolia"]
    code, out, err = run(capsys, args)
    assert code == 0, err  # the agreed root claimed again: trace extension, nothing derived
    assert "trace extension" in out


def test_keccak_of_the_agreed_preimage_is_the_agreed_root(real_run):
    """The store's own check, from outside: the output-root preimage names the agreed head hash of the vector."""
    pre = real_run.touched[keccak_key(from_hex(PARAMS["agreed_l2_output_root"]))]
    assert keccak256(pre) == from_hex(PARAMS["agreed_l2_output_root"])
    assert pre[96:128] == from_hex(PARAMS["agreed_l2_head_hash"])
