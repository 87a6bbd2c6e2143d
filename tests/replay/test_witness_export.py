"""``opnode replay witness --export`` from a recording and an engine, for chains under Holocene, Isthmus and Jovian
(Jovian activating inside the exported range): the exported witness proves the engine's own output root when run
again (export → witness run → claim holds), and a tampered copy is refused."""

from __future__ import annotations

import json

import pytest

from derivation.protocol.hexutil import from_hex, to_hex
from derivation.protocol.output_root import output_root_v0
from derivation.protocol.rollup_config import Fork
from opnode.cli import main
from opnode.tools.replay import format as fmt
from tests.replay.witness_chain import GENESIS_TIME, build

AGREED, CLAIMED = 3, 9
CHAINS = {
    "holocene": ({Fork.HOLOCENE: 0}, "calldata"),
    "isthmus": ({Fork.ISTHMUS: 0}, "blobs"),
    "jovian": ({Fork.ISTHMUS: 0, Fork.JOVIAN: 12}, "blobs"),  # L2 block 6 is Jovian's activation block
}


def run(capsys, args):
    with pytest.raises(SystemExit) as e:
        main(args)
    out, err = capsys.readouterr()
    return e.value.code, out, err


def engine_output_root(chain, number: int) -> bytes:
    """The engine's own output root of a block (its header; the message passer root from its own state)."""
    h = chain.chain.header(chain.chain.canonical_hash(number))
    mp = h.withdrawals_root if chain.cfg.is_active(Fork.ISTHMUS, h.timestamp) else chain.chain.withdrawals_storage_root(h)
    return output_root_v0(h.state_root, mp, h.hash)


def witness_args(d, inputs: dict) -> list[str]:
    return ["replay", "witness", "--data-dir", str(d), "--rollup.config", str(d / "rollup.json"),
            "--rollup.l1-chain-config", str(d / "l1-chain-config.json"), "--l1-head", inputs["l1-head"],
            "--agreed-l2-output-root", inputs["agreed-l2-output-root"],
            "--claimed-l2-output-root", inputs["claimed-l2-output-root"],
            "--claimed-l2-block-number", str(inputs["claimed-l2-block-number"])]


@pytest.mark.parametrize("name", sorted(CHAINS))
def test_export_round_trips_and_a_tampered_copy_is_refused(capsys, tmp_path, name):
    forks, da = CHAINS[name]
    chain = build(tmp_path / "engine", forks, da)
    recording = tmp_path / "range.opreplay"
    fmt.write(recording, chain.recording())
    out = tmp_path / "witness"
    code, text, err = run(capsys, ["replay", "witness", "--export", str(out), "--recording", str(recording),
                                   "--l2.datadir", str(tmp_path / "engine"), "--agreed-l2-block-number", str(AGREED),
                                   "--claimed-l2-block-number", str(CLAIMED)])
    assert code == 0, err
    inputs = json.loads((out / "inputs.json").read_text())
    assert inputs["claimed-l2-output-root"] == to_hex(engine_output_root(chain, CLAIMED))
    assert inputs["agreed-l2-output-root"] == to_hex(engine_output_root(chain, AGREED))

    code, text, err = run(capsys, witness_args(out, inputs) + ["--json", str(tmp_path / "w.json")])
    assert code == 0, err
    doc = json.loads((tmp_path / "w.json").read_text())
    assert doc["claim_holds"] and [b["number"] for b in doc["l2_blocks"]] == list(range(AGREED + 1, CLAIMED + 1))
    for b in doc["l2_blocks"]:  # every executed block is the engine's block
        assert from_hex(b["hash"]) == chain.chain.canonical_hash(b["number"])
    times = {b["number"]: GENESIS_TIME + 2 * b["number"] for b in doc["l2_blocks"]}
    for f in forks:
        assert all(chain.cfg.is_active(f, t) for n, t in times.items() if n >= 6)
    if name == "jovian":
        assert chain.cfg.is_activation_block(Fork.JOVIAN, times[6])
        assert len(doc["l2_blocks"][6 - AGREED - 1]["attributes"]["transactions"]) > 2  # the upgrade deposits

    files = sorted((out / "data").iterdir())
    victim = files[len(files) // 2]
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0x40
    victim.write_bytes(bytes(data))
    code, text, err = run(capsys, witness_args(out, inputs))  # the export holds only what the run reads
    assert code == 3 and err.count("\n") == 1, (victim.name, text[-300:])
    # a blob field element cannot be checked alone: the blob's keys are named by its first element
    assert victim.name[:-4] in err if victim.name[:2] != "05" else "(blob)" in err


def test_export_of_a_block_the_recording_lacks_is_exit_2(capsys, tmp_path):
    chain = build(tmp_path / "engine", {Fork.HOLOCENE: 0}, "calldata")
    recording = tmp_path / "range.opreplay"
    fmt.write(recording, chain.recording())
    code, _, err = run(capsys, ["replay", "witness", "--export", str(tmp_path / "w"), "--recording", str(recording),
                                "--l2.datadir", str(tmp_path / "engine"), "--claimed-l2-block-number", "40"])
    assert code == 2 and err.startswith("opnode: error: ") and err.count("\n") == 1
