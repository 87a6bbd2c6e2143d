"""The real Granite OP Sepolia witness (spec-vectors/witness/) for the witness tests: its parameters, the store
unpacked once per session, and the preimages one honest run reads (to damage exactly those, or to rewrite them in
the other store layouts)."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from opnode.testing.witness import ARCHIVE, PARAMS, inputs  # noqa: F401 (re-exported for the tests)
from opnode.tools.witness.oracle import Oracle
from opnode.tools.witness.run import Result, WitnessRun
from opnode.tools.witness.stores import open_archive, open_store

WITNESS = ARCHIVE.parent


def cli_args(data_dir, claimed: str | None = None) -> list[str]:
    return ["replay", "witness", "--data-dir", str(data_dir), "--l1-head", PARAMS["l1_head"],
            "--agreed-l2-output-root", PARAMS["agreed_l2_output_root"],
            "--claimed-l2-output-root", claimed or PARAMS["claimed_l2_output_root"],
            "--claimed-l2-block-number", str(PARAMS["claimed_l2_block_number"]),
            "--l2-chain-id", str(PARAMS["l2_chain_id"])]


@dataclass
class RealRun:
    directory: Path  # the unpacked store (its data/ folder holds the files); never modified by tests
    result: Result
    touched: dict[bytes, bytes]  # typed key -> preimage, everything the honest run read
    total_files: int


def unpack(dest: Path) -> Path:
    """The archive as kona wrote it: ``dest/data/<key>.bin`` (through the store reader: faster than tar's
    per-member extraction of 60,000 small files)."""
    data = dest / "data"
    data.mkdir(parents=True)
    store, _ = open_archive(ARCHIVE)
    for k, v in store.items.items():
        with open(data / f"{k.hex()}.bin", "wb") as f:
            f.write(v)
    return dest


@pytest.fixture(scope="session")
def real_run(tmp_path_factory) -> RealRun:
    d = unpack(tmp_path_factory.mktemp("granite-witness"))
    with open_store(d) as store:
        oracle = Oracle(store)
        result = WitnessRun(inputs(), oracle).run()
    return RealRun(d, result, dict(oracle.touched), len(os.listdir(d / "data")))


def linked_copy(src: Path, dest: Path) -> Path:
    """A copy of the store whose files are hard links (cheap); edit a file only by replacing it."""
    shutil.copytree(src, dest, copy_function=os.link)
    return dest


def replace_file(path: Path, data: bytes) -> None:
    path.unlink()
    path.write_bytes(data)
