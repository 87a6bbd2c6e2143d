"""Targets for replay recordings (opnode/tools/replay/format.py ``decode``): the file as it is on disk, and its
records sealed here (checksums and end record made right) so that the fuzzer gets past the checksums to the record
contents and the store's checks.

The file target's seeds are the real recordings cut down to one L1 block's records and two L2 blocks, each sealed
into a valid file: a whole 20-100 KB recording costs 6-170 ms to check (hundreds of records, a KZG commitment per
blob), which held the first campaigns to ~100 inputs/s; a cut one takes the same code path (gzip stream, every
check, the store, ``check_complete``) in 0.5 ms. One cut recording with a blob and the smallest recording whole are
seeds too, so that the corpus keeps their coverage."""

from __future__ import annotations

import gzip
import hashlib
import io
import json

from derivation.protocol.errors import ParseError
from derivation.protocol.kzg import trusted_setup
from fuzz.targets import target
from fuzz.vectors import VECTORS
from opnode.tools.replay.format import _canonical, decode

RECORDINGS = sorted((VECTORS / "replay").glob("*.jsonl.gz"))
_SMALL = 4096  # records longer than this are left out of the record seeds (blobs, big headers)


def _cut(path) -> bytes:
    """The recording at ``path`` cut to its header, the first L1 block's records and two small L2 blocks, sealed."""
    lines = gzip.decompress(path.read_bytes()).splitlines()[:-1]
    recs = [json.loads(ln) for ln in lines]
    block = next(r["block"] for r in recs if r["kind"] == "l1_receipts")
    out = [lines[0]]
    out += [ln for ln, r in zip(lines, recs, strict=True) if r["kind"] == "l1_block" and r["hash"] == block
            or r.get("block") == block]
    out += [ln for ln, r in zip(lines, recs, strict=True) if r["kind"] == "l2_block" and len(ln) <= _SMALL][:2]
    return seal(out)


def _cut_blob(path) -> bytes:
    """The recording at ``path`` cut to its header, its first blob and that blob's L1 block, sealed."""
    lines = gzip.decompress(path.read_bytes()).splitlines()[:-1]
    recs = [json.loads(ln) for ln in lines]
    blob = next(i for i, r in enumerate(recs) if r["kind"] == "blob")
    block = recs[blob]["block"]
    out = [lines[0]] + [ln for ln, r in zip(lines, recs, strict=True) if r["kind"] == "l1_block" and r["hash"] == block
                        or r.get("block") == block and r["kind"] != "blob"]
    return seal(out + [lines[blob]])


def _file_seeds():
    for p in RECORDINGS:
        yield _cut(p)
    # Two slower seeds keep what the cut ones miss (coverage 224 -> 285 in a 60 s run): a blob record (its KZG
    # commitment, 16 ms) and the smallest recording whole (hundreds of records, 6 ms).
    yield _cut_blob(next(p for p in RECORDINGS if p.name.startswith("blobs-")))
    yield min((p.read_bytes() for p in RECORDINGS), key=len)


@target("replay_file", allowed=(ParseError,), seeds=_file_seeds, max_len=16384, warmup=trusted_setup)
def replay_file_target(data: bytes) -> None:
    """A recording file's bytes (gzip of JSON lines); errors must be RecordingError (a ParseError)."""
    decode(io.BytesIO(data))


def seal(lines: list[bytes]) -> bytes:
    """The recording holding ``lines``: each JSON object line gets its ``sha256``, an end record follows."""
    out, digest = [], hashlib.sha256()
    for line in lines:
        try:
            rec = json.loads(line)
        except ValueError:
            rec = None
        if isinstance(rec, dict):
            rec.pop("sha256", None)
            body = _canonical(rec)
            check = hashlib.sha256(body).digest()
            digest.update(check)
            line = body[:-1] + b',"sha256":"' + check.hex().encode() + b'"}' if body != b"{}" else body
        out.append(line)
    end = {"kind": "end", "records": len(out), "digest": digest.hexdigest()}
    check = hashlib.sha256(_canonical(end)).hexdigest()
    out.append(_canonical(end)[:-1] + b',"sha256":"' + check.encode() + b'"}')
    return gzip.compress(b"\n".join(out) + b"\n", mtime=0)


def _record_seeds():
    for p in RECORDINGS:
        lines = gzip.decompress(p.read_bytes()).splitlines()[:-1]  # the end record is made by the target
        small = [ln for ln in lines[1:] if len(ln) <= _SMALL]
        yield b"\n".join(lines[:1] + small[:6])


@target("replay_records", allowed=(ParseError,), seeds=_record_seeds, max_len=32768,
        warmup=trusted_setup, tokens=(b'"kind":"l1_block"', b'"kind":"l2_block"', b'"kind":"blob"', b'"kind":"l1_receipts"',
                b'"kind":"header"', b'"canonical":true', b'"0x'))
def replay_records_target(data: bytes) -> None:
    """Records as JSON lines, sealed by the target; errors must be RecordingError (a ParseError)."""
    decode(io.BytesIO(seal(data.split(b"\n"))))
