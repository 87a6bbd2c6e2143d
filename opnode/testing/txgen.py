"""Signed test transactions of every type a span batch can carry."""

from derivation.protocol import rlp
from derivation.protocol.transactions import ACCESS_LIST, DYNAMIC_FEE, LEGACY, SET_CODE, Transaction

KEYS = [bytes([i + 1]) * 32 for i in range(4)]


def make_tx(kind: int, chain_id: int, key: bytes, nonce: int, *, to: bytes | None = b"\x42" * 20, value: int = 1,
            data: bytes = b"", protected: bool = True, gas: int = 21_000) -> bytes:
    tx = Transaction(kind, nonce=nonce, gas=gas, to=to, value=value, data=data,
                     chain_id=chain_id if (kind != LEGACY or protected) else None)
    if kind in (LEGACY, ACCESS_LIST):
        tx.gas_price = 1_000_000_007
    else:
        tx.max_priority_fee_per_gas, tx.max_fee_per_gas = 1_000, 2_000_000_000
    if kind != LEGACY:
        tx.access_list = [[b"\x11" * 20, [b"\x22" * 32]]] if nonce % 2 else []
    if kind == SET_CODE:
        tx.authorization_list = [[chain_id, b"\x33" * 20, nonce, 1, 7, 9]]
    return tx.sign(key).raw


def mixed_txs(chain_id: int, n: int, seed: int = 0) -> list[bytes]:
    kinds = [LEGACY, ACCESS_LIST, DYNAMIC_FEE, SET_CODE]
    out = []
    for i in range(n):
        k = kinds[(i + seed) % 4]
        out.append(make_tx(k, chain_id, KEYS[i % 4], i, to=None if (k != SET_CODE and i % 5 == 0) else b"\x42" * 20,
                           data=rlp.encode_uint(i) * (i % 7), protected=(i % 3 != 0)))
    return out
