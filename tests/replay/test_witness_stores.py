"""The same real witness in every store layout the run reads: op-program's ``file`` and ``directory`` formats,
kona-host's RocksDB, the later blob-key layout (roots of unity), and an exported witness packed as .tar.gz. Each
holds exactly the preimages the honest run read, so each run also proves the export is a complete witness."""

from __future__ import annotations

import io
import tarfile

import ckzg
import pytest

from derivation.protocol.kzg import trusted_setup
from opnode.cli import main
from opnode.tools.witness.export import write_witness
from opnode.tools.witness.keys import FIELD_ELEMENTS_PER_BLOB, KeyType, blob_element_key, roots_of_unity
from opnode.tools.witness.oracle import Oracle
from opnode.tools.witness.stores import MemoryStore
from tests.replay.witness_data import cli_args, inputs


def run(capsys, args):
    with pytest.raises(SystemExit) as e:
        main(args)
    out, err = capsys.readouterr()
    return e.value.code, out, err


def rekeyed_blobs(touched: dict[bytes, bytes]) -> dict[bytes, bytes]:
    """The same preimages with blob field elements under the roots-of-unity keys (kona after April 2025,
    op-program)."""
    out = {k: v for k, v in touched.items() if k[0] != KeyType.BLOB}
    for key, commitment in touched.items():
        if key[0] != KeyType.SHA256:
            continue
        for i in range(FIELD_ELEMENTS_PER_BLOB):
            out[blob_element_key(commitment, i, True)] = touched[blob_element_key(commitment, i, False)]
    return out


def test_roots_of_unity_are_the_eip4844_evaluation_points(real_run):
    """ckzg evaluates the blob polynomial at ω_i: the value must be field element i (kona's own check)."""
    vhash_key = next(k for k in real_run.touched if k[0] == KeyType.SHA256)
    blob = Oracle(MemoryStore(real_run.touched)).blob(b"\x01" + vhash_key[1:], "a test blob")
    for i in (0, 1, 2, 1234, 4095):
        z = roots_of_unity()[i].to_bytes(32, "big")
        _, y = ckzg.compute_kzg_proof(blob, z, trusted_setup())
        assert bytes(y) == blob[32 * i:32 * i + 32]


def test_op_program_file_format_with_root_of_unity_blob_keys(capsys, tmp_path, real_run):
    d = tmp_path / "op-program"
    d.mkdir()
    (d / "kvformat").write_text("file")
    for k, v in rekeyed_blobs(real_run.touched).items():
        (d / f"0x{k.hex()}.txt").write_text(v.hex())
    code, out, err = run(capsys, cli_args(d))
    assert code == 0, err
    assert "op-program file store" in out


def test_op_program_directory_format(capsys, tmp_path, real_run):
    d = tmp_path / "op-program-dir"
    d.mkdir()
    (d / "kvformat").write_text("directory")
    for k, v in real_run.touched.items():
        h = k.hex()
        (d / h[:4]).mkdir(exist_ok=True)
        (d / h[:4] / f"{h[4:]}.txt").write_text(v.hex())
    code, out, err = run(capsys, cli_args(d))
    assert code == 0, err
    (d / "kvformat").write_text("pebble")
    code, out, err = run(capsys, cli_args(d))
    assert code == 2 and "'pebble'" in err


def test_kona_rocksdb_store(capsys, tmp_path, real_run):
    from rocksdict import Options, Rdict

    d = tmp_path / "rocks"
    db = Rdict(str(d), Options(raw_mode=True))
    for k, v in real_run.touched.items():
        db[k] = v
    db.close()
    before = sorted(p.name for p in d.iterdir())
    code, out, err = run(capsys, cli_args(d))
    assert code == 0, err
    assert "RocksDB store" in out
    assert sorted(p.name for p in d.iterdir()) == before  # opened through a private view: nothing written


def test_exported_witness_packed_as_tar_gz(capsys, tmp_path, real_run):
    d = tmp_path / "export"
    n = write_witness(d, real_run.touched, inputs())
    assert n == len(real_run.touched)
    archive = tmp_path / "export.tar.gz"
    with tarfile.open(archive, "w:gz", compresslevel=1) as tf:
        for k, v in real_run.touched.items():
            info = tarfile.TarInfo(f"data/{k.hex()}.bin")
            info.size = len(v)
            tf.addfile(info, io.BytesIO(v))
    code, out, err = run(capsys, cli_args(archive) + ["--rollup.config", str(d / "rollup.json"),
                                                      "--rollup.l1-chain-config", str(d / "l1-chain-config.json")])
    assert code == 0, err
