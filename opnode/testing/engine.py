"""Shared helpers for the engine tests: a dev chain, signed transactions and L1-info deposits."""

from __future__ import annotations

from derivation.protocol.crypto import address_from_private_key, keccak256, sign_hash
from derivation.protocol.deposits import l1_info_source_hash
from derivation.protocol.l1_info import L1InfoData
from derivation.protocol.predeploys import L1_BLOCK, L1_INFO_DEPOSITOR
from derivation.protocol.predeploys import SEQUENCER_FEE_VAULT as SEQ_VAULT
from derivation.protocol.rollup_config import Fork
from derivation.protocol.transactions import DYNAMIC_FEE, Transaction, deposit
from engine.execution.chain import Chain
from engine.execution.evm.block import BlockAttributes
from engine.execution.op_genesis import build_op_genesis, dev_genesis

GENESIS_TIME = 1_700_000_000

_GENESIS = None


def genesis():
    global _GENESIS
    if _GENESIS is None:
        _GENESIS = dev_genesis(GENESIS_TIME)
    return _GENESIS


def dev_chain(store=None) -> Chain:
    return Chain(genesis(), store)


def key(i: int = 0) -> bytes:
    return genesis().dev_keys[i]


def addr(i: int = 0) -> bytes:
    return address_from_private_key(key(i))


def sign(tx: Transaction, k: bytes) -> Transaction:
    tx.v, tx.r, tx.s = sign_hash(k, tx.signing_hash())
    tx.encode()
    return tx


def transfer(k: bytes, nonce: int, to: bytes, value: int, *, gas: int = 21_000, tip: int = 10**6,
             max_fee: int = 10**10, data: bytes = b"", chain_id: int = 901) -> Transaction:
    return sign(Transaction(DYNAMIC_FEE, chain_id=chain_id, nonce=nonce, max_priority_fee_per_gas=tip,
                            max_fee_per_gas=max_fee, gas=gas, to=to, value=value, data=data), k)


def l1_info(number: int = 100, seq: int = 0, *, base_fee: int = 7 * 10**9, blob_base_fee: int = 3,
            base_scalar: int = 1368, blob_scalar: int = 810_949, op_scalar: int = 0, op_const: int = 0,
            da_scalar: int = 400, fmt: str = "jovian") -> Transaction:
    h = keccak256(b"l1 block %d" % number)
    info = L1InfoData(fmt, number=number, time=GENESIS_TIME - 12 + number, base_fee=base_fee, block_hash=h,
                      sequence_number=seq, batcher_addr=bytes(20), base_fee_scalar=base_scalar,
                      blob_base_fee_scalar=blob_scalar, blob_base_fee=blob_base_fee,
                      operator_fee_scalar=op_scalar if fmt in ("isthmus", "jovian") else None,
                      operator_fee_constant=op_const if fmt in ("isthmus", "jovian") else None,
                      da_footprint_gas_scalar=da_scalar if fmt == "jovian" else None)
    return deposit(l1_info_source_hash(h, seq), L1_INFO_DEPOSITOR, L1_BLOCK, 0, 0, 1_000_000, False, info.encode())


def attrs(parent, *, dt: int = 2, gas_limit: int = 60_000_000, eip1559: bytes = bytes(8), min_base_fee: int = 0,
          fee_recipient: bytes = SEQ_VAULT) -> BlockAttributes:
    return BlockAttributes(timestamp=parent.timestamp + dt, prev_randao=keccak256(parent.hash),
                           fee_recipient=fee_recipient, gas_limit=gas_limit, parent_beacon_root=keccak256(b"beacon"),
                           eip1559_params=eip1559, min_base_fee=min_base_fee)


# ---------------------------------------------------------------------------------------------------- Karst

KARST_BUNDLE_SHA256 = "08f5df36f7ff29a9421ab84beebe96684a7455df9a5d234a2468613a4008ad91"  # op-core fork_lock.toml
KARST_UPGRADE_GAS = 55_370_657


def karst_nut_deposits() -> list[Transaction]:
    """The 31 Karst upgrade deposits: from derivation's vendored bundle when it has one, else from the shared
    reference copy of op-core/nuts/bundles/karst_nut_bundle.json, checked against the sha256 op-node pins."""
    try:
        from derivation.protocol.upgrades import upgrade_transactions

        txs = [u.tx for u in upgrade_transactions(Fork.KARST)]
        if txs:
            return txs
    except Exception:  # the loader is not on this branch yet
        pass
    import hashlib
    import json
    from pathlib import Path

    from derivation.protocol.deposits import upgrade_source_hash

    here = Path(__file__).resolve()
    for parent in here.parents:
        path = parent / "shared" / "reference" / "bundles" / "karst_nut_bundle.json"
        if path.exists():
            break
    else:
        raise FileNotFoundError("karst_nut_bundle.json: neither derivation's loader nor shared/reference/bundles")
    raw = path.read_bytes()
    assert hashlib.sha256(raw).hexdigest() == KARST_BUNDLE_SHA256
    out = []
    for i, t in enumerate(json.loads(raw)["transactions"]):
        to = bytes.fromhex(t["to"][2:]) if t.get("to") else None
        out.append(deposit(upgrade_source_hash(f"Karst {i}: {t['intent']}"), bytes.fromhex(t["from"][2:]), to, 0, 0,
                           int(t["gasLimit"]), False, bytes.fromhex(t["data"][2:])))
    return out


_KARST_GENESIS = {}


def karst_genesis(offset: int = 2):
    """Jovian at genesis, Karst ``offset`` seconds later (0: Karst at genesis)."""
    if offset not in _KARST_GENESIS:
        times = {Fork.JOVIAN: 0, Fork.KARST: GENESIS_TIME + offset}
        _KARST_GENESIS[offset] = build_op_genesis(901, GENESIS_TIME, times, funded={addr(i): 10**24 for i in range(4)})
    return _KARST_GENESIS[offset]
