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
    TxError,
    check_authorization_list,
)

# Each builder validates the span tx data fields as op-node's typed RLP decoding does, then re-uses their
# canonical encodings, sliced straight from the span tx data, to assemble the signed transaction. The fields are
# checked in place (no decoded items are built): this runs for every transaction a span batch carries.
INT, U256, BYTES, ACCESS_LIST_FIELD, AUTHORIZATIONS = range(5)  # field kinds
_LIST = 0xC0  # first header byte of a list


def _fields(raw: bytes, pos: int, kinds: tuple[int, ...], what: str) -> list[int]:
    """Where the fields of the RLP list at ``pos`` start, then its end (:func:`rlp.list_starts`); the list must
    end the data and each field be of its kind: ``INT`` a canonical integer of any size (op-node's ``*big.Int``),
    ``U256`` one of at most 256 bits, ``BYTES`` a string, then the access and authorization lists. Headers were
    checked by the walk, so an integer needs only its first payload byte looked at (no leading zero; a lone
    ``0x00`` is a non-canonical zero)."""
    starts = rlp.list_starts(raw, pos)
    if starts[-1] != len(raw):
        raise rlp.RLPError(f"{what}: trailing bytes after the transaction data")
    if len(starts) != len(kinds) + 1:
        raise rlp.RLPError(f"{what}: expected {len(kinds)} fields, got {len(starts) - 1}")
    for i, kind in enumerate(kinds):
        s = starts[i]
        b = raw[s]
        if kind <= U256:
            if b >= _LIST:
                raise rlp.RLPError("expected an integer, got a list")
            p = s if b < 0x80 else s + 1 if b < 0xB8 else s + b - 0xB6
            if b != 0x80 and raw[p] == 0:
                raise rlp.RLPError("non-canonical integer (leading zero bytes)")
            if kind == U256 and starts[i + 1] - p > 32:
                raise rlp.RLPError("integer larger than 256 bits")
        elif kind == BYTES:
            if b >= _LIST:
                raise rlp.RLPError("expected a byte string, got a list")
        elif kind == ACCESS_LIST_FIELD:
            if b != _LIST or starts[i + 1] - s != 1:  # the empty list needs no walk
                _access_list(raw, s)
        else:
            check_authorization_list(rlp.decode(raw[s:starts[i + 1]]))
    return starts


def _string(raw: bytes, s: int, size: int) -> None:
    """A string of exactly ``size`` (< 56) bytes at ``s``, as ``rlp.decode_bytes(item, size)``."""
    b = raw[s]
    if b != 0x80 + size:
        if b >= _LIST:
            raise rlp.RLPError("expected a byte string, got a list")
        raise rlp.RLPError(f"expected {size} bytes, got {rlp.header(raw, s)[2]}")


def _access_list(raw: bytes, s: int) -> None:
    """``[[address(20), [key(32), ...]], ...]`` exactly, read in place: the same verdicts as
    :func:`derivation.protocol.transactions.check_access_list` on the decoded item (geth's typed decoding)."""
    if raw[s] < _LIST:
        raise TxError("access list must be a list")
    for es in rlp.list_starts(raw, s)[:-1]:
        entry = rlp.list_starts(raw, es) if raw[es] >= _LIST else ()
        if len(entry) != 3:
            raise TxError("access list entry must be [address, storageKeys]")
        address, keys, _ = entry
        _string(raw, address, 20)
        if raw[keys] < _LIST:
            raise TxError("access list storage keys must be a list")
        for key in rlp.list_starts(raw, keys)[:-1]:
            _string(raw, key, 32)


def _wrap(type_byte: bytes, payload: bytes) -> bytes:
    return type_byte + rlp.encode_list_payload(payload)


# Fields are contiguous, so runs of them that keep their order in the signed transaction are sliced at once.
def _legacy(raw: bytes, chain: bytes, nonce: bytes, gas: bytes, to: bytes, sig: bytes) -> bytes:
    value, gas_price, data, end = _fields(raw, 0, (INT, INT, BYTES), "legacy tx")
    return rlp.encode_list_payload(nonce + raw[gas_price:data] + gas + to + raw[value:gas_price] + raw[data:end] + sig)


def _access_list_tx(raw: bytes, chain: bytes, nonce: bytes, gas: bytes, to: bytes, sig: bytes) -> bytes:
    value, gas_price, data, _, end = _fields(raw, 1, (INT, INT, BYTES, ACCESS_LIST_FIELD), "access-list tx")
    return _wrap(b"\x01", chain + nonce + raw[gas_price:data] + gas + to + raw[value:gas_price] + raw[data:end] + sig)


def _dynamic_fee_tx(raw: bytes, chain: bytes, nonce: bytes, gas: bytes, to: bytes, sig: bytes) -> bytes:
    value, tip, fee_cap, data, _, end = _fields(raw, 1, (INT, INT, INT, BYTES, ACCESS_LIST_FIELD), "dynamic-fee tx")
    return _wrap(b"\x02", chain + nonce + raw[tip:data] + gas + to + raw[value:tip] + raw[data:end] + sig)


def _set_code_tx(raw: bytes, chain: bytes, nonce: bytes, gas: bytes, to: bytes, sig: bytes) -> bytes:
    if to == b"\x80":
        raise rlp.RLPError("set-code transactions cannot create contracts")
    value, tip, fee_cap, data, _, _, end = _fields(
        raw, 1, (U256, U256, U256, BYTES, ACCESS_LIST_FIELD, AUTHORIZATIONS), "set-code tx")
    return _wrap(b"\x04", chain + nonce + raw[tip:data] + gas + to + raw[value:tip] + raw[data:end] + sig)


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
