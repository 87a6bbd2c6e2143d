"""Helpers for replay tests: the shipped recordings, and rewriting a recording's records (to forge or damage one
the way a careless or malicious edit would, with checksums recomputed or not)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
from collections.abc import Callable
from pathlib import Path

from opnode.tools.replay import format as fmt

VECTORS = Path(__file__).resolve().parents[2] / "spec-vectors" / "replay"
SHIPPED = ("calldata-pre-holocene.jsonl.gz", "blobs-across-holocene.jsonl.gz", "faults-holocene.jsonl.gz",
           "across-karst-strip.jsonl.gz", "across-karst-keep.jsonl.gz")


def records(data: bytes) -> list[dict]:
    return [json.loads(line) for line in gzip.decompress(data).splitlines()]


def pack(recs: list[dict], *, reseal: bool = True) -> bytes:
    """Records back into a file; with ``reseal`` every checksum and the end record are recomputed, so that only
    the content checks can tell an edit."""
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0) as gz:
        digest = hashlib.sha256()
        n = 0
        for rec in recs:
            rec = dict(rec)
            if reseal and rec["kind"] == "end":
                rec = {"kind": "end", "records": n, "digest": digest.hexdigest()}
            if reseal:
                rec.pop("sha256", None)
                line, check = fmt._seal(rec)
            else:
                line, check = json.dumps(rec, sort_keys=True, separators=(",", ":")).encode(), bytes.fromhex(
                    rec["sha256"])
            gz.write(line + b"\n")
            if rec["kind"] != "end":
                digest.update(check)
                n += 1
    return out.getvalue()


def rewrite(data: bytes, edit: Callable[[list[dict]], None], *, reseal: bool = True) -> bytes:
    recs = records(data)
    edit(recs)
    return pack(recs, reseal=reseal)


def first(recs: list[dict], kind: str, pred=lambda r: True) -> dict:
    return next(r for r in recs if r["kind"] == kind and pred(r))


def flip_hex(h: str, pos: int = -1) -> str:
    """The hex string with one nibble changed."""
    chars = list(h)
    chars[pos] = "0" if chars[pos] != "0" else "1"
    return "".join(chars)
