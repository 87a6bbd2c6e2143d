"""Span batch transactions rebuilt into signed EIP-2718 transactions (specs: delta/span-batches.md "Span batch
format"; op-node span_batch_tx.go ``convertToFullTx``). Each builder validates the span tx data fields as op-node's
typed RLP decoding does, then re-uses their canonical encodings to assemble the signed transaction; set-code
integers are ``uint256``, the others ``*big.Int`` as op-node's (see :mod:`derivation.protocol.span_batch`)."""

from __future__ import annotations

from collections.abc import Callable

from derivation.protocol import rlp
from derivation.protocol.post_exec import POST_EXEC
from derivation.protocol.transactions import (
    ACCESS_LIST,
    DYNAMIC_FEE,
    LEGACY,
    SET_CODE,
    check_access_list,
    check_authorization_list,
)

# Each builder validates the span tx data fields as op-node's typed RLP decoding does, then re-uses their
# canonical encodings to assemble the signed transaction.


def _fields(raw: bytes, pos: int, arity: int, what: str) -> list[bytes]:
    spans, end = rlp.list_spans(raw, pos)
    if end != len(raw):
        raise rlp.RLPError(f"{what}: trailing bytes after the transaction data")
    if len(spans) != arity:
        raise rlp.RLPError(f"{what}: expected {arity} fields, got {len(spans)}")
    return [raw[s:e] for s, e in spans]


def _int(enc: bytes, max_bits: int | None = None) -> bytes:
    """A canonical integer field, as encoded. Its header was checked by :func:`rlp.list_spans`, so only the
    payload's first byte matters (no leading zero; a lone ``0x00`` is a non-canonical zero). Without ``max_bits``
    the size is unbounded, as op-node's ``*big.Int`` (a tx data element is capped far below any limit anyway)."""
    b = enc[0]
    if b >= 0xC0:
        raise rlp.RLPError("expected an integer, got a list")
    start = 0 if b < 0x80 else 1 if b < 0xB8 else b - 0xB6
    if b != 0x80 and enc[start] == 0:
        raise rlp.RLPError("non-canonical integer (leading zero bytes)")
    if max_bits is not None:
        rlp.decode_uint(enc[start:] if b >= 0x80 else enc, max_bits)
    return enc


def _bytes(enc: bytes) -> bytes:
    if enc[0] >= 0xC0:
        raise rlp.RLPError("expected a byte string, got a list")
    return enc


def _access_list(enc: bytes) -> bytes:
    if enc != b"\xc0":  # the empty list needs no walk
        check_access_list(rlp.decode(enc))
    return enc


def _wrap(type_byte: bytes, payload: bytes) -> bytes:
    return type_byte + rlp.encode_list_payload(payload)


def _legacy(raw: bytes, chain: bytes, nonce: bytes, gas: bytes, to: bytes, sig: bytes) -> bytes:
    value, gas_price, data = _fields(raw, 0, 3, "legacy tx")
    return rlp.encode_list_payload(nonce + _int(gas_price) + gas + to + _int(value) + _bytes(data) + sig)


def _access_list_tx(raw: bytes, chain: bytes, nonce: bytes, gas: bytes, to: bytes, sig: bytes) -> bytes:
    value, gas_price, data, al = _fields(raw, 1, 4, "access-list tx")
    return _wrap(b"\x01", chain + nonce + _int(gas_price) + gas + to + _int(value) + _bytes(data)
                 + _access_list(al) + sig)


def _dynamic_fee_tx(raw: bytes, chain: bytes, nonce: bytes, gas: bytes, to: bytes, sig: bytes) -> bytes:
    value, tip, fee_cap, data, al = _fields(raw, 1, 5, "dynamic-fee tx")
    return _wrap(b"\x02", chain + nonce + _int(tip) + _int(fee_cap) + gas + to + _int(value) + _bytes(data)
                 + _access_list(al) + sig)


def _set_code_tx(raw: bytes, chain: bytes, nonce: bytes, gas: bytes, to: bytes, sig: bytes) -> bytes:
    value, tip, fee_cap, data, al, auths = _fields(raw, 1, 6, "set-code tx")
    if to == b"\x80":
        raise rlp.RLPError("set-code transactions cannot create contracts")
    check_authorization_list(rlp.decode(auths))
    return _wrap(b"\x04", chain + nonce + _int(tip, 256) + _int(fee_cap, 256) + gas + to + _int(value, 256)
                 + _bytes(data) + _access_list(al) + auths + sig)


def post_exec_tx(raw: bytes, chain: bytes, nonce: bytes, gas: bytes, to: bytes, sig: bytes) -> bytes:
    """The 0x7D element as is: one RLP list after the type byte, its content unchecked (op-node
    ``spanBatchPostExecTxData`` takes the raw value; the execution engine validates the payload)."""
    is_list, start, ln = rlp.header(raw, 1)
    if not is_list or start + ln != len(raw):
        raise rlp.RLPError("post-exec tx must be 0x7D followed by exactly one RLP list")
    return bytes(raw)


# (span tx data, chain id, nonce, gas, to, signature) → the signed transaction; all but the data already RLP-encoded.
FULL_TX: dict[int, Callable[[bytes, bytes, bytes, bytes, bytes, bytes], bytes]] = {
    LEGACY: _legacy, ACCESS_LIST: _access_list_tx, DYNAMIC_FEE: _dynamic_fee_tx, SET_CODE: _set_code_tx,
    POST_EXEC: post_exec_tx}
