"""Transactions as Ethereum JSON-RPC returns them (``eth_getBlockBy*`` with full transactions,
``eth_getTransactionByHash``) → :class:`~derivation.protocol.transactions.Transaction` with its canonical encoding. Used for
L1 blocks, for L2 blocks read back from the execution engine, and by every tool that compares them."""

from __future__ import annotations

from derivation.protocol import rlp
from derivation.protocol.errors import ParseError
from derivation.protocol.hexutil import from_hex, parse_quantity
from derivation.protocol.jsonutil import JSONObject, JSONValue
from derivation.protocol.transactions import (
    ACCESS_LIST,
    BLOB,
    DEPOSIT,
    DYNAMIC_FEE,
    LEGACY,
    SET_CODE,
    Transaction,
    TxError,
    check_authorization_list,
)


class TxJsonError(ParseError):
    """A transaction object that does not describe a valid transaction."""


def _obj(v: JSONValue, what: str) -> JSONObject:
    if not isinstance(v, dict):
        raise TxJsonError(f"{what} must be an object")
    return v


def _list(v: JSONValue, what: str) -> list[JSONValue]:
    if not isinstance(v, list):
        raise TxJsonError(f"{what} must be a list")
    return v


def _get(d: JSONObject, key: str) -> JSONValue:
    try:
        return d[key]
    except KeyError:
        raise TxJsonError(f"missing field {key!r}") from None


_q = parse_quantity


def _access_list(v: JSONValue) -> list[rlp.Item]:
    if v is None:
        return []
    entries = [_obj(e, "accessList entry") for e in _list(v, "accessList")]
    return [[from_hex(_get(e, "address"), 20), [from_hex(k, 32) for k in _list(_get(e, "storageKeys"), "storageKeys")]]
            for e in entries]


def _auth_list(v: JSONValue) -> list[rlp.Item]:
    """EIP-7702 tuples from JSON quantities, as the RLP items a decoded transaction holds (canonical big-endian
    integers, a 20-byte address): the form the executor and the span-batch encoder read. Bounds as geth's
    ``SetCodeAuthorization`` (chainId, r, s uint256; nonce uint64; yParity uint8) via ``check_authorization_list``."""
    auths = [_obj(a, "authorization") for a in _list(v, "authorizationList")]
    items: list[rlp.Item] = [[_uint(_get(a, "chainId")), from_hex(_get(a, "address"), 20), _uint(_get(a, "nonce")),
              _uint(a.get("yParity", a.get("v"))), _uint(_get(a, "r")), _uint(_get(a, "s"))] for a in auths]
    try:
        return check_authorization_list(items)
    except TxError as e:
        raise TxJsonError(f"authorizationList: {e}") from None


def _uint(v: JSONValue) -> bytes:
    n = _q(v)
    return n.to_bytes((n.bit_length() + 7) // 8, "big")


def tx_from_json(tx: JSONObject) -> Transaction:
    """Rebuild the signed transaction from its JSON form (its ``raw`` is the canonical EIP-2718 encoding)."""
    try:
        t = _q(tx.get("type", "0x0"))
        to = from_hex(tx["to"], 20) if tx.get("to") is not None else None
        data = from_hex(tx.get("input", tx.get("data", "0x")))
        nonce, gas, value = _q(tx.get("nonce", 0)), _q(_get(tx, "gas")), _q(_get(tx, "value"))
        if t == DEPOSIT:
            out = Transaction(DEPOSIT, gas=gas, to=to, value=value, data=data,
                              source_hash=from_hex(_get(tx, "sourceHash"), 32), from_=from_hex(_get(tx, "from"), 20),
                              mint=_q(tx.get("mint") or 0), is_system_tx=bool(tx.get("isSystemTx", False)))
        elif t == LEGACY:
            v = _q(_get(tx, "v"))
            out = Transaction(LEGACY, gas_price=_q(_get(tx, "gasPrice")), v=v, r=_q(_get(tx, "r")),
                              s=_q(_get(tx, "s")),
                              chain_id=(v - 35) // 2 if v >= 35 else None, nonce=nonce, gas=gas, to=to, value=value,
                              data=data)
        elif t in (ACCESS_LIST, DYNAMIC_FEE, BLOB, SET_CODE):
            parity = tx.get("yParity", tx.get("v"))
            out = Transaction(t, chain_id=_q(_get(tx, "chainId")), access_list=_access_list(tx.get("accessList")),
                              v=_q(parity), r=_q(_get(tx, "r")), s=_q(_get(tx, "s")), nonce=nonce, gas=gas, to=to,
                              value=value, data=data)
            if t == ACCESS_LIST:
                out.gas_price = _q(_get(tx, "gasPrice"))
            else:
                out.max_priority_fee_per_gas = _q(_get(tx, "maxPriorityFeePerGas"))
                out.max_fee_per_gas = _q(_get(tx, "maxFeePerGas"))
            if t == BLOB:
                out.max_fee_per_blob_gas = _q(_get(tx, "maxFeePerBlobGas"))
                out.blob_versioned_hashes = [from_hex(h, 32)
                                             for h in _list(_get(tx, "blobVersionedHashes"), "blobVersionedHashes")]
            if t == SET_CODE:
                out.authorization_list = _auth_list(_get(tx, "authorizationList"))
        else:
            raise TxJsonError(f"transaction {tx.get('hash')} has unsupported type 0x{t:02x}")
        out.encode()
        return out
    except TxJsonError:
        raise
    except (ParseError, ValueError, TypeError, KeyError) as e:
        raise TxJsonError(f"malformed transaction {tx.get('hash') if isinstance(tx, dict) else ''}: {e}") from None
