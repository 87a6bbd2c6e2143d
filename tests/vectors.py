"""Access to spec-vectors/ for tests."""

import json
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "spec-vectors"


@cache
def load(name: str):
    """A JSON vector file by file name (``frames_channels.json``) or path under spec-vectors/."""
    return json.loads((ROOT / name).read_text())


@cache
def blob(name: str) -> bytes:
    """A large input stored as one line of hex under spec-vectors/blobs/."""
    return bytes.fromhex((ROOT / "blobs" / name).read_text().strip())
