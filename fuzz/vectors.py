"""Seeds from the project's vectors (spec-vectors/, with their provenance there) and from its own encoders."""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VECTORS = ROOT / "spec-vectors"
_HEX = re.compile(r"0x[0-9a-fA-F]*")


@functools.cache
def vector(name: str):
    return json.loads((VECTORS / f"{name}.json").read_text())


def hex_values(obj, *keys: str) -> list[bytes]:
    """Every 0x-hex string stored under one of ``keys`` anywhere in ``obj`` (lists of them included)."""
    out: list[bytes] = []

    def walk(o, key=None):
        if isinstance(o, dict):
            for k, v in o.items():
                walk(v, k)
        elif isinstance(o, list):
            for v in o:
                walk(v, key)
        elif isinstance(o, str) and key in keys and _HEX.fullmatch(o):
            out.append(bytes.fromhex(o[2:]))

    walk(obj)
    return out


def hex_file(rel: str) -> bytes:
    """A vector file holding lowercase hex (with or without 0x)."""
    t = (VECTORS / rel).read_text().strip()
    return bytes.fromhex(t[2:] if t.startswith("0x") else t)
