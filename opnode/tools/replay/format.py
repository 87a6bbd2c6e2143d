"""The recording file: one gzip-compressed stream of JSON lines, self-contained and readable with ``zcat | jq``.

Every line is one JSON object, a *record*, with a ``kind`` and a ``sha256`` field: the SHA-256 of the record's
canonical JSON (keys sorted, no spaces) without the ``sha256`` field. Byte strings are 0x-hex, numbers are JSON
numbers. Records, in this order:

``header`` (first line)
    ``format`` = ``"opnode-replay"``, ``version`` = 1, ``created_by``, ``description``; ``rollup_config`` (op-node's
    rollup.json); ``l1_chain_config`` (geth genesis ``config`` form: ``chainId``, ``<fork>Time``,
    ``blobSchedule``); ``range`` = ``{from_l1, to_l1}``; ``start_safe_head`` (an L2 block ref in op-node's JSON
    shape: derivation is reset onto it); ``l1_tx_root`` (``"canonical"``, or ``"anvil-network-form"`` when the L1 was
    anvil, see :mod:`opnode.tools.replay.store`); ``sources`` (free-form: where the data came from); ``provenance``
    (a list of ``{repo, path, commit, proves}`` for recordings shipped as test vectors).
``l1_block``
    ``hash``, ``canonical`` (true when derivation asked for it by number) and ``header`` (the header RLP).
``l1_txs``
    ``block`` (hash) and ``txs``: the block's transactions in their canonical EIP-2718 encoding.
``l1_receipts``
    ``block`` and ``receipts``: consensus encodings.
``blob``
    ``block``, ``index`` (among all blobs of the block), ``versioned_hash`` and ``data`` (131072 bytes).
``l2_block``
    ``hash``, ``number``, ``parent_hash``, ``timestamp``, ``gas_limit``, ``extra_data``, ``prev_randao``,
    ``fee_recipient``, ``parent_beacon_root`` (or null), ``withdrawals`` (how many, or null), ``transactions``
    (raw) and ``header`` (the header RLP, or null when the execution layer's header did not hash to ``hash``).
``end`` (last line)
    ``records`` (how many came before) and ``digest``: SHA-256 over the ``sha256`` values of all records before it.

A file is read completely and checked before anything is replayed: gzip's own CRC and length, each record's
checksum, the end record's count and digest, and then the content checks of :class:`~opnode.tools.replay.store.Store`.
Any failure raises :class:`CorruptRecording` naming the record. Reading is bounded: a record may not exceed
``MAX_RECORD_BYTES`` and a file may not hold more than ``MAX_RECORDS`` records or ``MAX_TOTAL_BYTES`` of JSON.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import zlib
from collections.abc import Iterator
from pathlib import Path

from derivation.protocol.errors import ParseError
from derivation.protocol.hexutil import from_hex, to_hex
from derivation.protocol.jsonutil import loads_bounded
from derivation.protocol.l1_chain_config import L1ChainConfig
from derivation.protocol.rollup_config import RollupConfig
from derivation.protocol.types import L2BlockRef
from opnode.tools.replay.store import TX_ROOT_ANVIL, TX_ROOT_CANONICAL, CorruptData, L2Block, Meta, Store

FORMAT = "opnode-replay"
VERSION = 1
MAX_RECORD_BYTES = 64 * 1024 * 1024
MAX_RECORDS = 10_000_000
MAX_TOTAL_BYTES = 16 * 1024 * 1024 * 1024
_U64 = 1 << 64


class RecordingError(ParseError):
    """A file that is not a recording this version of opnode can replay."""


class CorruptRecording(RecordingError):
    """A recording whose content fails its checks: it is reported, never replayed."""


# ------------------------------------------------------------------------------------------------ JSON helpers


def _canonical(obj: dict) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _field(d: dict, key: str):
    try:
        return d[key]
    except KeyError:
        raise CorruptData(f"missing field {key!r}") from None


def _int(d: dict, key: str, limit: int = _U64) -> int:
    v = _field(d, key)
    if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v < limit:
        raise CorruptData(f"field {key!r} must be an integer in [0, {limit})")
    return v


def _hex(d: dict, key: str, length: int | None = None, optional: bool = False) -> bytes | None:
    v = _field(d, key) if not optional else d.get(key)
    if v is None and optional:
        return None
    if not isinstance(v, str):
        raise CorruptData(f"field {key!r} must be a hex string")
    try:
        return from_hex(v, length)
    except ParseError as e:
        raise CorruptData(f"field {key!r}: {e}") from None


def _hex_list(d: dict, key: str) -> list[bytes]:
    v = _field(d, key)
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise CorruptData(f"field {key!r} must be a list of hex strings")
    try:
        return [from_hex(x) for x in v]
    except ParseError as e:
        raise CorruptData(f"field {key!r}: {e}") from None


# ------------------------------------------------------------------------------------------------ configs


def l1_chain_to_json(c: L1ChainConfig) -> dict:
    """The blob schedule as a geth genesis ``config`` object (what ``--rollup.l1-chain-config`` reads)."""
    out: dict = {"chainId": c.chain_id, "blobSchedule": {}}
    for f in c.blob_schedule:
        out[f"{f.name}Time"] = f.time
        out["blobSchedule"][f.name] = {"baseFeeUpdateFraction": f.update_fraction}
    if L1ChainConfig.from_genesis_config(out) != c:
        raise ValueError(f"the L1 chain config {c} has no genesis-config form (fork names or order)")
    return out


def meta_to_json(m: Meta) -> dict:
    return {"kind": "header", "format": FORMAT, "version": VERSION, "created_by": m.created_by,
            "description": m.description, "rollup_config": m.rollup.to_json(),
            "l1_chain_config": l1_chain_to_json(m.l1_chain), "range": {"from_l1": m.from_l1, "to_l1": m.to_l1},
            "start_safe_head": m.start.to_json(), "l1_tx_root": m.l1_tx_root, "sources": m.sources,
            "provenance": list(m.provenance)}


def meta_from_json(d: dict) -> Meta:
    if d.get("format") != FORMAT:
        raise RecordingError(f"not an opnode replay recording (format {d.get('format')!r})")
    if d.get("version") != VERSION:
        raise RecordingError(f"recording format version {d.get('version')!r} is not supported (this opnode reads "
                             f"version {VERSION})")
    try:
        rollup = RollupConfig.from_json(_field(d, "rollup_config"))
        l1_chain = L1ChainConfig.from_genesis_config(_field(d, "l1_chain_config"))
        rng = _field(d, "range")
        if not isinstance(rng, dict):
            raise CorruptData("range must be an object")
        from_l1, to_l1 = _int(rng, "from_l1"), _int(rng, "to_l1")
        start = L2BlockRef.from_json(_field(d, "start_safe_head"))
    except CorruptData:
        raise
    except ParseError as e:
        raise CorruptData(f"header: {e}") from None
    if from_l1 > to_l1:
        raise CorruptData(f"range from L1 block {from_l1} to {to_l1} is empty")
    tx_root = d.get("l1_tx_root", TX_ROOT_CANONICAL)
    if tx_root not in (TX_ROOT_CANONICAL, TX_ROOT_ANVIL):
        raise CorruptData(f"unknown l1_tx_root {tx_root!r}")
    text = {k: d.get(k, "") for k in ("created_by", "description")}
    if not all(isinstance(v, str) for v in text.values()):
        raise CorruptData("created_by and description must be strings")
    sources = d.get("sources") or {}
    provenance = d.get("provenance") or []
    if not isinstance(sources, dict) or not isinstance(provenance, list):
        raise CorruptData("sources must be an object and provenance a list")
    return Meta(rollup, l1_chain, from_l1, to_l1, start, text["description"], text["created_by"], tx_root, sources,
                tuple(provenance))


# ------------------------------------------------------------------------------------------------ records


def l2_block_to_json(b: L2Block) -> dict:
    return {"kind": "l2_block", "hash": to_hex(b.hash), "number": b.number, "parent_hash": to_hex(b.parent_hash),
            "timestamp": b.timestamp, "gas_limit": b.gas_limit, "extra_data": to_hex(b.extra_data),
            "prev_randao": to_hex(b.prev_randao), "fee_recipient": to_hex(b.fee_recipient),
            "parent_beacon_root": None if b.parent_beacon_root is None else to_hex(b.parent_beacon_root),
            "withdrawals": b.withdrawals, "transactions": [to_hex(t) for t in b.transactions],
            "header": None if b.header is None else to_hex(b.header)}


def l2_block_from_json(d: dict) -> L2Block:
    w = d.get("withdrawals")
    if w is not None and (not isinstance(w, int) or isinstance(w, bool) or w < 0):
        raise CorruptData("withdrawals must be a count or null")
    return L2Block(hash=_hex(d, "hash", 32), number=_int(d, "number"), parent_hash=_hex(d, "parent_hash", 32),
                   timestamp=_int(d, "timestamp"), gas_limit=_int(d, "gas_limit"), extra_data=_hex(d, "extra_data"),
                   prev_randao=_hex(d, "prev_randao", 32), fee_recipient=_hex(d, "fee_recipient", 20),
                   parent_beacon_root=_hex(d, "parent_beacon_root", 32, optional=True), withdrawals=w,
                   transactions=tuple(_hex_list(d, "transactions")), header=_hex(d, "header", optional=True))


def records(store: Store) -> Iterator[dict]:
    """The records of ``store`` in file order (without checksums and the end record)."""
    yield meta_to_json(store.meta)
    canonical = set(store.l1_canonical.values())
    for h in sorted(store.l1_headers, key=lambda x: (store.l1_headers[x].info.number, x)):
        yield {"kind": "l1_block", "hash": to_hex(h), "canonical": h in canonical,
               "header": to_hex(store.l1_headers[h].raw)}
        if h in store.l1_txs:
            yield {"kind": "l1_txs", "block": to_hex(h), "txs": [to_hex(t.raw) for t in store.l1_txs[h]]}
        if h in store.l1_receipts:
            yield {"kind": "l1_receipts", "block": to_hex(h), "receipts": [to_hex(r) for r in store.l1_receipts[h]]}
        for index, (vh, data) in sorted(store.blobs.get(h, {}).items()):
            yield {"kind": "blob", "block": to_hex(h), "index": index, "versioned_hash": to_hex(vh),
                   "data": to_hex(data)}
    for n in sorted(store.l2_by_number):
        yield l2_block_to_json(store.l2[store.l2_by_number[n]].block)


def _seal(rec: dict) -> tuple[bytes, bytes]:
    body = _canonical(rec)
    check = hashlib.sha256(body).digest()
    return body[:-1] + b',"sha256":"' + check.hex().encode() + b'"}', check


def encode(store: Store) -> bytes:
    """The whole file. Deterministic: the same store always gives the same bytes (gzip mtime 0, no name)."""
    store.check_complete()
    raw = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as gz:
        digest = hashlib.sha256()
        n = 0
        for rec in records(store):
            line, check = _seal(rec)
            gz.write(line + b"\n")
            digest.update(check)
            n += 1
        line, _ = _seal({"kind": "end", "records": n, "digest": digest.hexdigest()})
        gz.write(line + b"\n")
    return raw.getvalue()


def write(path: str | Path, store: Store) -> int:
    """Write atomically (a temporary file renamed into place); returns the size in bytes."""
    data = encode(store)
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return len(data)


# ------------------------------------------------------------------------------------------------ reading


def _lines(stream) -> Iterator[bytes]:
    total = 0
    while True:
        line = stream.readline(MAX_RECORD_BYTES + 1)
        if not line:
            return
        total += len(line)
        if len(line) > MAX_RECORD_BYTES or not line.endswith(b"\n"):
            raise CorruptData("a record is too large or the file ends inside a record")
        if total > MAX_TOTAL_BYTES:
            raise CorruptData(f"more than {MAX_TOTAL_BYTES} bytes of records")
        yield line


def _apply(store: Store, rec: dict) -> None:
    kind = rec["kind"]
    if kind == "l1_block":
        canonical = _field(rec, "canonical")
        if not isinstance(canonical, bool):
            raise CorruptData("canonical must be true or false")
        info = store.add_l1_header(_hex(rec, "header"), canonical)
        if info.hash != _hex(rec, "hash", 32):
            raise CorruptData(f"L1 block {info.number}: header hashes to {to_hex(info.hash)}, not {rec['hash']}")
    elif kind == "l1_txs":
        store.add_l1_txs(_hex(rec, "block", 32), _hex_list(rec, "txs"))
    elif kind == "l1_receipts":
        store.add_l1_receipts(_hex(rec, "block", 32), _hex_list(rec, "receipts"))
    elif kind == "blob":
        store.add_blob(_hex(rec, "block", 32), _int(rec, "index", 1 << 16), _hex(rec, "versioned_hash", 32),
                       _hex(rec, "data"))
    elif kind == "l2_block":
        store.add_l2_block(l2_block_from_json(rec))
    else:
        raise CorruptData(f"unknown record kind {kind!r}")


def decode(stream) -> Store:
    """Read and check a recording from a binary stream of the gzip file."""
    store: Store | None = None
    digest = hashlib.sha256()
    n = 0
    ended = False
    where = "the file"
    try:
        gz = gzip.GzipFile(fileobj=stream, mode="rb")
        for line in _lines(gz):
            where = f"record {n + 1}"
            if ended:
                raise CorruptData("records after the end record")
            try:
                rec = loads_bounded(line)  # plain json.loads overflows the C stack on deep nesting (jsonutil)
            except (ValueError, RecursionError) as e:
                raise CorruptData(f"not JSON: {e}") from None
            if not isinstance(rec, dict) or not isinstance(rec.get("kind"), str) or not isinstance(rec.get("sha256"),
                                                                                                   str):
                raise CorruptData("not a record (needs kind and sha256)")
            claimed = rec.pop("sha256")
            check = hashlib.sha256(_canonical(rec)).digest()
            if check.hex() != claimed:
                raise CorruptData(f"{rec['kind']} record fails its checksum")
            where = f"record {n + 1} ({rec['kind']})"
            if store is None:
                if rec["kind"] != "header":
                    raise RecordingError("not an opnode replay recording (no header record)")
                store = Store(meta_from_json(rec))
            elif rec["kind"] == "end":
                if _int(rec, "records") != n or rec.get("digest") != digest.hexdigest():
                    raise CorruptData("record count or digest does not match the records")
                ended = True
                continue
            elif rec["kind"] == "header":
                raise CorruptData("a second header")
            else:
                _apply(store, rec)
            digest.update(check)
            n += 1
            if n > MAX_RECORDS:
                raise CorruptData(f"more than {MAX_RECORDS} records")
        where = "the file"
        if store is None:
            raise RecordingError("not an opnode replay recording (empty)")
        if not ended:
            raise CorruptData("the end record is missing (truncated file)")
        store.check_complete()
    except RecordingError:
        raise
    except CorruptData as e:
        raise CorruptRecording(f"{where}: {e}") from None
    except (gzip.BadGzipFile, EOFError, zlib.error) as e:
        raise CorruptRecording(f"{where}: the compressed stream is damaged ({e or type(e).__name__})") from None
    except OSError as e:  # gzip reports CRC and length mismatches as OSError
        raise CorruptRecording(f"{where}: the compressed stream is damaged ({e})") from None
    return store


def read(path: str | Path) -> Store:
    try:
        with open(path, "rb") as f:
            head = f.read(2)
            if head != b"\x1f\x8b":
                raise RecordingError(f"{path} is not an opnode replay recording (not gzip-compressed)")
            f.seek(0)
            return decode(f)
    except OSError as e:
        raise RecordingError(f"cannot read {path}: {e.strerror or e}") from None
