"""``opnode replay fixture`` on kona's executor fixtures (spec-vectors/witness/kona-executor/, copied from
op-rs/kona): the engine builds each real OP Sepolia block on the fixture's state to its real block hash."""

from __future__ import annotations

import json
import tarfile

import pytest

from opnode.cli import main
from tests.vectors import ROOT

FIXTURES = ROOT / "witness" / "kona-executor"
EXPECTED = {  # expected_block_hash inside each fixture.json: the real OP Sepolia block hashes
    "block-26207960.tar.gz": "0xdb32d9ddfa5fd26c9fb0260bbfa53da88326aa2a465e34d75180564aa31b851e",
    "block-26207963.tar.gz": "0xc19e417cd6c2c9edaf2093b4701514635b5cfd414fb00d0e4d00450f90d55ce5",
    "block-26208927.tar.gz": "0x898f449ac32b97b76ac1038fd341b842b19c59396e0b8fe7a9665516b3500712",
}


def run(capsys, *args):
    with pytest.raises(SystemExit) as e:
        main(["replay", "fixture", *args])
    out, err = capsys.readouterr()
    return e.value.code, out, err


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_kona_fixture_builds_the_real_block(capsys, tmp_path, name):
    out_json = tmp_path / "r.json"
    code, out, err = run(capsys, str(FIXTURES / name), "--json", str(out_json))
    assert code == 0, out + err
    doc = json.loads(out_json.read_text())
    assert doc["matches"] is True and doc["block_hash"] == doc["expected_block_hash"] == EXPECTED[name]
    assert out.startswith("match: ")


def _rewrite(src, dest, edit_json=None, drop=None):
    """A copy of a fixture tarball with fixture.json edited or a kv/ file left out."""
    with tarfile.open(src) as tin, tarfile.open(dest, "w") as tout:
        for m in tin.getmembers():
            if drop is not None and m.name.endswith(drop):
                continue
            f = tin.extractfile(m) if m.isfile() else None
            if f is not None and m.name.endswith("/fixture.json") and edit_json is not None:
                doc = json.loads(f.read())
                edit_json(doc)
                data = json.dumps(doc).encode()
                m.size = len(data)
                import io
                tout.addfile(m, io.BytesIO(data))
            else:
                tout.addfile(m, f)


def test_a_different_expected_hash_is_a_mismatch_exit_1(capsys, tmp_path):
    def edit(doc):
        doc["expected_block_hash"] = "0x" + "11" * 32

    bad = tmp_path / "bad.tar"
    _rewrite(FIXTURES / "block-26207960.tar.gz", bad, edit_json=edit)
    code, out, err = run(capsys, str(bad))
    assert code == 1 and out.startswith("mismatch: ") and EXPECTED["block-26207960.tar.gz"] in out


def test_a_changed_transaction_list_changes_the_block(capsys, tmp_path):
    def edit(doc):
        doc["executing_payload"]["transactions"] = doc["executing_payload"]["transactions"][:1]  # deposits only

    bad = tmp_path / "fewer.tar"
    _rewrite(FIXTURES / "block-26207960.tar.gz", bad, edit_json=edit)
    code, out, err = run(capsys, str(bad))
    assert code == 1 and "not the expected" in out


def test_state_missing_from_the_store_is_exit_3(capsys, tmp_path):
    bad = tmp_path / "nostate.tar"
    _rewrite(FIXTURES / "block-26207960.tar.gz", bad, drop=".log")  # the RocksDB's only data file
    code, out, err = run(capsys, str(bad))
    assert code == 3, out + err
    assert err.count("\n") == 1 and "is not in the store" in err and "the state read by L2 block 26207960" in err


def test_not_a_fixture_is_exit_2(capsys, tmp_path):
    p = tmp_path / "x.tar.gz"
    p.write_bytes(b"not a tarball")
    code, _, err = run(capsys, str(p))
    assert code == 2 and err.startswith("opnode: error: ") and err.count("\n") == 1
    code, _, err = run(capsys, str(tmp_path / "missing.tar.gz"))
    assert code == 2
