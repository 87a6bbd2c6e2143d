"""Ethereum and OP transactions as raw EIP-2718 envelopes: decode, encode, hash and recover the sender.

Types: legacy (EIP-155 or not), 0x01 access list, 0x02 dynamic fee, 0x03 blob (L1 only; the network form with a
sidecar is accepted on decode), 0x04 set-code (EIP-7702), 0x7D Lagoon post-exec (no signature, sender the zero
address; codec in :mod:`derivation.protocol.post_exec`) and 0x7E OP deposit (no signature).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from derivation.protocol import rlp
from derivation.protocol.crypto import keccak256, recover_address, sign_hash
from derivation.protocol.errors import ParseError
from derivation.protocol.post_exec import POST_EXEC, PostExecPayload
from derivation.protocol.post_exec import decode as decode_post_exec

LEGACY, ACCESS_LIST, DYNAMIC_FEE, BLOB, SET_CODE, DEPOSIT = 0x00, 0x01, 0x02, 0x03, 0x04, 0x7E
TYPE_NAMES = {LEGACY: "legacy", ACCESS_LIST: "access_list", DYNAMIC_FEE: "dynamic_fee", BLOB: "blob",
              SET_CODE: "set_code", POST_EXEC: "post_exec", DEPOSIT: "deposit"}


T = TypeVar("T")


class TxError(ParseError):
    """Malformed transaction bytes."""


def required_field(value: T | None, what: str) -> T:
    """``value``, a field the transaction's type requires: None is a bug of whoever built the transaction."""
    if value is None:
        raise TxError(f"transaction has no {what}")
    return value


def check_access_list(al: rlp.Item) -> list[rlp.Item]:
    """``[[address(20), [key(32), ...]], ...]`` exactly (geth's typed decoding)."""
    if not isinstance(al, list):
        raise TxError("access list must be a list")
    for entry in al:
        if not isinstance(entry, list) or len(entry) != 2:
            raise TxError("access list entry must be [address, storageKeys]")
        rlp.decode_bytes(entry[0], 20)
        if not isinstance(entry[1], list):
            raise TxError("access list storage keys must be a list")
        for k in entry[1]:
            rlp.decode_bytes(k, 32)
    return al


def check_authorization_list(auths: rlp.Item) -> list[rlp.Item]:
    """EIP-7702 ``[[chainId, address, nonce, yParity, r, s], ...]``."""
    if not isinstance(auths, list):
        raise TxError("authorization list must be a list")
    for a in auths:
        if not isinstance(a, list) or len(a) != 6:
            raise TxError("authorization must be [chainId, address, nonce, yParity, r, s]")
        rlp.decode_uint(a[0])
        rlp.decode_bytes(a[1], 20)
        rlp.decode_uint(a[2], 64)
        rlp.decode_uint(a[3], 8)
        rlp.decode_uint(a[4])
        rlp.decode_uint(a[5])
    return auths


@dataclass(slots=True)
class Transaction:
    """A decoded transaction. ``raw`` is its canonical EIP-2718 encoding; ``hash`` is keccak(raw)."""

    type: int
    nonce: int = 0
    gas: int = 0
    to: bytes | None = None
    value: int = 0
    data: bytes = b""
    chain_id: int | None = None
    gas_price: int | None = None  # legacy, 0x01
    max_priority_fee_per_gas: int | None = None  # 0x02+
    max_fee_per_gas: int | None = None
    access_list: list[rlp.Item] = field(default_factory=list)
    # The RLP items as read (tx_json produces the same from JSON); a builder may set ints, which encode the same.
    authorization_list: Sequence[rlp.Encodable] = field(default_factory=list)
    max_fee_per_blob_gas: int | None = None
    blob_versioned_hashes: list[bytes] = field(default_factory=list)
    v: int = 0  # legacy: the full v; typed: the y-parity
    r: int = 0
    s: int = 0
    # deposit-only fields
    source_hash: bytes | None = None
    from_: bytes | None = None
    mint: int = 0
    is_system_tx: bool = False
    post_exec: PostExecPayload | None = None  # 0x7D only
    raw: bytes = b""
    _sender: bytes | None = None

    @property
    def hash(self) -> bytes:
        return keccak256(self.raw)

    @property
    def type_name(self) -> str:
        return TYPE_NAMES.get(self.type, f"0x{self.type:02x}")

    @property
    def y_parity(self) -> int:
        if self.type != LEGACY:
            return self.v
        if self.v in (27, 28):
            return self.v - 27
        return (self.v - 35) % 2

    def signing_hash(self) -> bytes:
        """The hash the sender signed (EIP-155 for protected legacy txs, EIP-2718 payloads for typed)."""
        t = self.type
        if t == LEGACY:
            fields: list[rlp.Encodable] = [self.nonce, required_field(self.gas_price, "gas price"), self.gas,
                                           self.to or b"", self.value, self.data]
            if self.v not in (27, 28):
                fields += [required_field(self.chain_id, "chain id"), 0, 0]
            return keccak256(rlp.encode(fields))
        return keccak256(bytes((t,)) + rlp.encode(self._typed_fields()[:-3]))

    def sign(self, private_key: bytes) -> Transaction:
        """Sign in place (EIP-155 for legacy txs with a chain id) and encode; returns self."""
        if self.type == DEPOSIT:
            raise TxError("deposit transactions are not signed")
        if self.type == LEGACY:
            self.v = 27 if self.chain_id is None else 2 * self.chain_id + 35  # selects the signing payload
        y, self.r, self.s = sign_hash(private_key, self.signing_hash())
        self.v = self.v + y if self.type == LEGACY else y
        self._sender = None
        self.encode()
        return self

    def sender(self) -> bytes:
        """The recovered (or, for deposits, declared) sender address."""
        if self.type == DEPOSIT:
            return required_field(self.from_, "sender")
        if self.type == POST_EXEC:
            return bytes(20)
        if self._sender is None:
            self._sender = recover_address(self.signing_hash(), self.y_parity, self.r, self.s)
        return self._sender

    def _typed_fields(self) -> list[rlp.Encodable]:
        t = self.type
        if t not in (ACCESS_LIST, DYNAMIC_FEE, BLOB, SET_CODE):
            raise TxError(f"unsupported transaction type 0x{t:02x}")
        to = self.to or b""
        chain_id = required_field(self.chain_id, "chain id")
        if t == ACCESS_LIST:
            return [chain_id, self.nonce, required_field(self.gas_price, "gas price"), self.gas, to, self.value, self.data,
                    self.access_list, self.v, self.r, self.s]
        tip = required_field(self.max_priority_fee_per_gas, "max priority fee")
        fee_cap = required_field(self.max_fee_per_gas, "max fee")
        if t == DYNAMIC_FEE:
            return [chain_id, self.nonce, tip, fee_cap, self.gas, to, self.value, self.data, self.access_list,
                    self.v, self.r, self.s]
        if t == BLOB:
            return [chain_id, self.nonce, tip, fee_cap, self.gas, to, self.value, self.data, self.access_list,
                    required_field(self.max_fee_per_blob_gas, "max fee per blob gas"), self.blob_versioned_hashes,
                    self.v, self.r, self.s]
        return [chain_id, self.nonce, tip, fee_cap, self.gas, to, self.value, self.data, self.access_list,
                self.authorization_list, self.v, self.r, self.s]

    def encode(self) -> bytes:
        """Canonical EIP-2718 bytes; also stored in ``raw``."""
        t = self.type
        if t == LEGACY:
            out = rlp.encode([self.nonce, required_field(self.gas_price, "gas price"), self.gas, self.to or b"",
                              self.value, self.data, self.v, self.r, self.s])
        elif t == DEPOSIT:
            out = b"\x7e" + rlp.encode([required_field(self.source_hash, "source hash"), required_field(self.from_, "sender"),
                                        self.to or b"", self.mint, self.value, self.gas,
                                        1 if self.is_system_tx else 0, self.data])
        elif t == POST_EXEC:
            out = required_field(self.post_exec, "post-exec payload").tx_bytes()
        else:
            out = bytes((t,)) + rlp.encode(self._typed_fields())
        self.raw = out
        return out


def decode(raw: bytes) -> Transaction:
    """Decode one EIP-2718 transaction (strict RLP, exact field counts)."""
    raw = bytes(raw)
    if not raw:
        raise TxError("empty transaction")
    t = raw[0]
    try:
        if t >= 0xC0:
            return _decode_legacy(raw)
        if t == DEPOSIT:
            return _decode_deposit(raw)
        if t == POST_EXEC:
            return post_exec_tx(decode_post_exec(raw))
        if t in (ACCESS_LIST, DYNAMIC_FEE, BLOB, SET_CODE):
            return _decode_typed(t, raw)
    except rlp.RLPError as e:
        raise TxError(f"malformed {TYPE_NAMES[0 if t >= 0xC0 else t]} transaction: {e}") from None
    raise TxError(f"unsupported transaction type 0x{t:02x}")


def _sig(v: rlp.Item, r: rlp.Item, s: rlp.Item, typed: bool) -> tuple[int, int, int]:
    vv = rlp.decode_uint(v)
    if typed and vv > 1:
        raise TxError(f"invalid y-parity {vv}")
    return vv, rlp.decode_uint(r), rlp.decode_uint(s)


def _decode_legacy(raw: bytes) -> Transaction:
    f = rlp.decode_list(raw, 9)
    v, r, s = _sig(f[6], f[7], f[8], typed=False)
    chain_id = None
    if v not in (27, 28):
        if v < 35:
            raise TxError(f"invalid legacy signature v={v}")
        chain_id = (v - 35) // 2
    return Transaction(LEGACY, nonce=rlp.decode_uint(f[0], 64), gas_price=rlp.decode_uint(f[1]),
                       gas=rlp.decode_uint(f[2], 64), to=rlp.decode_address(f[3]), value=rlp.decode_uint(f[4]),
                       data=rlp.decode_bytes(f[5]), chain_id=chain_id, v=v, r=r, s=s, raw=raw)


def _decode_typed(t: int, raw: bytes) -> Transaction:
    body = rlp.decode(raw[1:])
    if t == BLOB and isinstance(body, list) and len(body) in (4, 5) and isinstance(body[0], list):
        # Network forms: [tx_payload_body, blobs, commitments, proofs] (EIP-4844) and
        # [tx_payload_body, wrapper_version, blobs, commitments, cell_proofs] (EIP-7594).
        body = body[0]
        raw = bytes((t,)) + rlp.encode(body)
    if not isinstance(body, list):
        raise TxError("typed transaction payload must be an RLP list")
    arity = {ACCESS_LIST: 11, DYNAMIC_FEE: 12, BLOB: 14, SET_CODE: 13}[t]
    if len(body) != arity:
        raise TxError(f"{TYPE_NAMES[t]} transaction must have {arity} fields, got {len(body)}")
    tx = Transaction(t, chain_id=rlp.decode_uint(body[0]), nonce=rlp.decode_uint(body[1], 64), raw=raw)
    if t == ACCESS_LIST:
        tx.gas_price = rlp.decode_uint(body[2])
        rest = body[3:]
    else:
        tx.max_priority_fee_per_gas = rlp.decode_uint(body[2])
        tx.max_fee_per_gas = rlp.decode_uint(body[3])
        rest = body[4:]
    tx.gas = rlp.decode_uint(rest[0], 64)
    tx.to = rlp.decode_address(rest[1])
    tx.value = rlp.decode_uint(rest[2])
    tx.data = rlp.decode_bytes(rest[3])
    tx.access_list = check_access_list(rest[4])
    if t == BLOB:
        if tx.to is None:
            raise TxError("blob transactions cannot create contracts")
        tx.max_fee_per_blob_gas = rlp.decode_uint(rest[5])
        if not isinstance(rest[6], list):
            raise TxError("blob versioned hashes must be a list")
        tx.blob_versioned_hashes = [rlp.decode_bytes(h, 32) for h in rest[6]]
    elif t == SET_CODE:
        if tx.to is None:
            raise TxError("set-code transactions cannot create contracts")
        tx.authorization_list = check_authorization_list(rest[5])
    tx.v, tx.r, tx.s = _sig(body[-3], body[-2], body[-1], typed=True)
    return tx


def _decode_deposit(raw: bytes) -> Transaction:
    f = rlp.decode_list(raw[1:], 8)
    return Transaction(DEPOSIT, source_hash=rlp.decode_bytes(f[0], 32), from_=rlp.decode_bytes(f[1], 20),
                       to=rlp.decode_address(f[2]), mint=rlp.decode_uint(f[3]), value=rlp.decode_uint(f[4]),
                       gas=rlp.decode_uint(f[5], 64), is_system_tx=rlp.decode_bool(f[6]),
                       data=rlp.decode_bytes(f[7]), raw=raw)


def post_exec_tx(payload: PostExecPayload) -> Transaction:
    """The 0x7D transaction carrying ``payload`` (``data`` is the payload RLP, as the tx's generic ``input``)."""
    tx = Transaction(POST_EXEC, data=payload.encode(), post_exec=payload)
    tx.encode()
    return tx


def deposit(source_hash: bytes, from_: bytes, to: bytes | None, mint: int, value: int, gas: int,
            is_system_tx: bool, data: bytes) -> Transaction:
    """Build (and encode) an OP deposit transaction."""
    tx = Transaction(DEPOSIT, source_hash=source_hash, from_=from_, to=to, mint=mint, value=value, gas=gas,
                     is_system_tx=is_system_tx, data=data)
    tx.encode()
    return tx
