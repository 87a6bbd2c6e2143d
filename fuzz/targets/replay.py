"""Targets for replay recordings (opnode/replay/format.py ``decode``): the file as it is on disk, and its records
sealed here (checksums and end record made right) so that the fuzzer gets past the checksums to the record
contents and the store's checks."""

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


def _file_seeds():
    for p in RECORDINGS:
        yield p.read_bytes()


@target("replay_file", allowed=(ParseError,), seeds=_file_seeds, max_len=65536, warmup=trusted_setup)
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
