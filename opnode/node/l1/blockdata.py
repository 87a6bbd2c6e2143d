"""L1 blocks and receipts as JSON-RPC returns them → the project's values, and the checks that make a provider's
answer trustworthy: the block hash recomputed from the header, the transactions root from the transactions, the
receipts root from the receipts (op-node: op-service/sources/types.go ``checkBlockHash``/``verifyBlock``,
receipts.go ``validateReceipts``).

Header shapes by fork (geth core/types/block.go; every field after ``nonce`` is appended by a fork and present
from then on): London ``baseFeePerGas``; Shanghai ``withdrawalsRoot``; Cancun ``blobGasUsed``, ``excessBlobGas``,
``parentBeaconBlockRoot``; Prague ``requestsHash``; Amsterdam ``blockAccessListHash``, ``slotNumber``.
A header that has a later field without an earlier one is rejected.
"""

from __future__ import annotations

from derivation.protocol import rlp
from derivation.protocol.crypto import keccak256
from derivation.protocol.errors import ParseError
from derivation.protocol.hexutil import from_hex, parse_quantity
from derivation.protocol.transactions import BLOB, DEPOSIT, LEGACY, Transaction
from derivation.protocol.trie import EMPTY_TRIE_ROOT as EMPTY_ROOT
from derivation.protocol.trie import ordered_trie_root
from derivation.protocol.tx_json import tx_from_json
from derivation.protocol.types import L1BlockInfo, Log, Receipt


class BlockDataError(ParseError):
    """A block, transaction or receipt from the RPC is malformed or does not match what it claims to be."""


_BASE_FIELDS = (("parentHash", "h32"), ("sha3Uncles", "h32"), ("miner", "h20"), ("stateRoot", "h32"),
                ("transactionsRoot", "h32"), ("receiptsRoot", "h32"), ("logsBloom", "h256"), ("difficulty", "q"),
                ("number", "q"), ("gasLimit", "q"), ("gasUsed", "q"), ("timestamp", "q"), ("extraData", "b"),
                ("mixHash", "h32"), ("nonce", "h8"))
# Fields appended by later forks, in header order (London .. Amsterdam).
_FORK_FIELDS = (("baseFeePerGas", "q"), ("withdrawalsRoot", "h32"), ("blobGasUsed", "q"), ("excessBlobGas", "q"),
                ("parentBeaconBlockRoot", "h32"), ("requestsHash", "h32"), ("blockAccessListHash", "h32"),
                ("slotNumber", "q"))
_KNOWN_KEYS = {k for k, _ in _BASE_FIELDS + _FORK_FIELDS} | {
    "hash", "size", "totalDifficulty", "transactions", "uncles", "withdrawals", "sealFields", "author",
    "blockAccessList", "requests"}


def _get(d: dict, key: str):
    try:
        return d[key]
    except (KeyError, TypeError):
        raise BlockDataError(f"missing field {key!r}") from None


def _q(v) -> int:
    return parse_quantity(v)


def _val(kind: str, v):
    if kind == "q":
        return _q(v)
    if kind == "b":
        return from_hex(v)
    return from_hex(v, int(kind[1:]))


def header_rlp(block: dict) -> bytes:
    """The consensus RLP of the header described by a JSON block."""
    try:
        items = [rlp.encode(_val(kind, _get(block, key))) for key, kind in _BASE_FIELDS]
        present = [block.get(key) is not None for key, _ in _FORK_FIELDS]
        n = sum(present)
        if present[:n] != [True] * n:
            missing = [k for (k, _), p in zip(_FORK_FIELDS[:n], present[:n], strict=True) if not p]
            raise BlockDataError(f"header has later fork fields but lacks {', '.join(missing)}")
        items += [rlp.encode(_val(kind, block[key])) for key, kind in _FORK_FIELDS[:n]]
    except ParseError as e:
        if isinstance(e, BlockDataError):
            raise
        raise BlockDataError(f"malformed header: {e}") from None
    return rlp.encode_list_payload(b"".join(items))


def header_hash(block: dict) -> bytes:
    return keccak256(header_rlp(block))


def check_block_hash(block: dict) -> bytes:
    """Recompute the block hash from the header fields; raise if it differs from the claimed ``hash``."""
    try:
        claimed = from_hex(_get(block, "hash"), 32)
    except BlockDataError:
        raise
    except ParseError as e:
        raise BlockDataError(f"malformed block hash: {e}") from None
    got = header_hash(block)
    if got != claimed:
        unknown = sorted(set(block) - _KNOWN_KEYS)
        hint = f" (header has fields this node does not know: {', '.join(unknown)})" if unknown else ""
        raise BlockDataError(f"block {block.get('number')} claims hash 0x{claimed.hex()} but its header hashes to "
                             f"0x{got.hex()}{hint}")
    return claimed


def block_info(block: dict) -> L1BlockInfo:
    """The header fields derivation reads. Does not verify; see :func:`check_block_hash`."""
    if not isinstance(block, dict):
        raise BlockDataError(f"block is a JSON {type(block).__name__}, not an object")
    try:
        opt = block.get
        return L1BlockInfo(
            hash=from_hex(_get(block, "hash"), 32), number=_q(_get(block, "number")),
            parent_hash=from_hex(_get(block, "parentHash"), 32), time=_q(_get(block, "timestamp")),
            base_fee=_q(opt("baseFeePerGas")) if opt("baseFeePerGas") is not None else None,
            mix_digest=from_hex(_get(block, "mixHash"), 32),
            excess_blob_gas=_q(opt("excessBlobGas")) if opt("excessBlobGas") is not None else None,
            blob_gas_used=_q(opt("blobGasUsed")) if opt("blobGasUsed") is not None else None,
            parent_beacon_root=(from_hex(opt("parentBeaconBlockRoot"), 32)
                                if opt("parentBeaconBlockRoot") is not None else None),
            receipts_root=from_hex(_get(block, "receiptsRoot"), 32), gas_limit=_q(_get(block, "gasLimit")))
    except BlockDataError:
        raise
    except ParseError as e:
        raise BlockDataError(f"malformed block: {e}") from None


def block_transactions(block: dict, *, verify: bool) -> list[Transaction]:
    """The block's transactions; with ``verify``, each hash and the transactions root are recomputed."""
    txs_json = _get(block, "transactions")
    if not isinstance(txs_json, list):
        raise BlockDataError(f"block {block.get('number')} has no transactions list")
    for i, t in enumerate(txs_json):
        if not isinstance(t, dict):
            raise BlockDataError(f"block {block.get('number')}: transaction {i} is "
                                 + ("null" if t is None else "a hash, not a full transaction"))
    txs = [tx_from_json(t) for t in txs_json]
    if verify:
        for i, (tj, tx) in enumerate(zip(txs_json, txs, strict=True)):
            if tx.hash != from_hex(_get(tj, "hash"), 32):
                raise BlockDataError(f"transaction {i} of block {block.get('number')} claims hash {tj.get('hash')} "
                                     f"but encodes to 0x{tx.hash.hex()}")
        check_transactions_root(block, [tx.raw for tx in txs])
    return txs


def check_withdrawals_root(block: dict) -> None:
    """Shanghai+: the withdrawals list against ``withdrawalsRoot`` (op-node checks it; derivation does not read
    withdrawals, but a provider that gets them wrong is not trusted with the rest of the block either)."""
    if block.get("withdrawalsRoot") is None:
        return
    ws = block.get("withdrawals")
    if not isinstance(ws, list):
        raise BlockDataError(f"block {block.get('number')} has a withdrawals root but no withdrawals list")
    try:
        enc = []
        for i, w in enumerate(ws):
            if not isinstance(w, dict):
                raise BlockDataError(f"block {block.get('number')}: withdrawal {i} is null")
            enc.append(rlp.encode([_q(_get(w, "index")), _q(_get(w, "validatorIndex")),
                                   from_hex(_get(w, "address"), 20), _q(_get(w, "amount"))]))
    except BlockDataError:
        raise
    except ParseError as e:
        raise BlockDataError(f"block {block.get('number')}: malformed withdrawal: {e}") from None
    root = ordered_trie_root(enc)
    if root != from_hex(block["withdrawalsRoot"], 32):
        raise BlockDataError(f"withdrawals of block {_q(_get(block, 'number'))} have root 0x{root.hex()}, header "
                             f"says {block['withdrawalsRoot']}")


def check_transactions_root(block: dict, raws: list[bytes]) -> None:
    root = ordered_trie_root(raws)
    claimed = from_hex(_get(block, "transactionsRoot"), 32)
    if root != claimed:
        raise BlockDataError(f"transactions of block {_q(_get(block, 'number'))} have root 0x{root.hex()}, header "
                             f"says 0x{claimed.hex()}")


def canonical_blob_tx(network_raw: bytes) -> bytes:
    """The canonical encoding inside a blob transaction's network form (EIP-4844 ``[tx, blobs, commitments,
    proofs]`` or EIP-7594 ``[tx, version, blobs, commitments, cell_proofs]``)."""
    if not network_raw or network_raw[0] != BLOB:
        raise BlockDataError("not a blob transaction")
    try:
        body = rlp.decode(network_raw[1:])
    except ParseError as e:
        raise BlockDataError(f"malformed blob transaction: {e}") from None
    if isinstance(body, list) and body and isinstance(body[0], list) and len(body) in (4, 5):
        body = body[0]
    return bytes((BLOB,)) + rlp.encode(body)


# ---------------------------------------------------------------------------------------------------- receipts


def _log(d: dict) -> tuple[bytes, tuple[bytes, ...], bytes]:
    return (from_hex(_get(d, "address"), 20), tuple(from_hex(t, 32) for t in _get(d, "topics")),
            from_hex(_get(d, "data")))


def receipt_consensus_bytes(r: dict) -> bytes:
    """The EIP-2718 consensus encoding of a JSON receipt (what the receipts root commits to)."""
    t = _q(r.get("type", "0x0"))
    if t >= 0x80:  # EIP-2718 types are 0x00..0x7f; a larger one has no encoding (found by make fuzz)
        raise BlockDataError(f"receipt has an invalid transaction type {t:#x}")
    if r.get("status") is not None:
        first = rlp.encode_uint(_q(r["status"]))
    else:
        first = rlp.encode_bytes(from_hex(_get(r, "root"), 32))  # pre-Byzantium: the post-state root
    logs = b"".join(rlp.encode_list_payload(rlp.encode_bytes(a) + rlp.encode(list(ts)) + rlp.encode_bytes(data))
                    for a, ts, data in (_log(lg) for lg in _get(r, "logs")))
    payload = (first + rlp.encode_uint(_q(_get(r, "cumulativeGasUsed")))
               + rlp.encode_bytes(from_hex(_get(r, "logsBloom"), 256)) + rlp.encode_list_payload(logs))
    if t == DEPOSIT and r.get("depositNonce") is not None:  # Regolith/Canyon deposit receipts (L1 that is an OP chain)
        payload += rlp.encode_uint(_q(r["depositNonce"]))
        if r.get("depositReceiptVersion") is not None:
            payload += rlp.encode_uint(_q(r["depositReceiptVersion"]))
    body = rlp.encode_list_payload(payload)
    return body if t == LEGACY else bytes((t,)) + body


def receipts_from_json(block_hash: bytes, block_number: int, tx_hashes: list[bytes], receipts: list,
                       receipts_root: bytes) -> list[Receipt]:
    """Validate receipts as op-node does (one per tx, in order, metadata consistent, block-wide log indices) and
    against the header's receipts root; return them as values."""
    if not isinstance(receipts, list):
        raise BlockDataError(f"receipts of block {block_number}: expected a list")
    if len(receipts) != len(tx_hashes):
        raise BlockDataError(f"block {block_number}: got {len(receipts)} receipts for {len(tx_hashes)} transactions")
    out, encoded = [], []
    log_index = 0
    cumulative = 0
    try:
        for i, r in enumerate(receipts):
            if not isinstance(r, dict):
                raise BlockDataError(f"block {block_number}: receipt {i} is missing")
            if _q(_get(r, "transactionIndex")) != i:
                raise BlockDataError(f"block {block_number}: receipt {i} has transaction index {r['transactionIndex']}")
            if from_hex(_get(r, "blockHash"), 32) != block_hash or _q(_get(r, "blockNumber")) != block_number:
                raise BlockDataError(f"block {block_number}: receipt {i} belongs to block {r.get('blockHash')}")
            if from_hex(_get(r, "transactionHash"), 32) != tx_hashes[i]:
                raise BlockDataError(f"block {block_number}: receipt {i} is for transaction {r.get('transactionHash')}")
            cum = _q(_get(r, "cumulativeGasUsed"))
            if r.get("gasUsed") is not None and _q(r["gasUsed"]) != cum - cumulative:
                raise BlockDataError(f"block {block_number}: receipt {i} gas used {_q(r['gasUsed'])} != "
                                     f"{cum - cumulative}")
            cumulative = cum
            logs = []
            for lg in _get(r, "logs"):
                if _q(_get(lg, "logIndex")) != log_index:
                    raise BlockDataError(f"block {block_number}: log {log_index} has index {lg.get('logIndex')}")
                if lg.get("removed"):
                    raise BlockDataError(f"block {block_number}: canonical log {log_index} is marked removed")
                addr, topics, data = _log(lg)
                logs.append(Log(addr, topics, data, log_index))
                log_index += 1
            enc = receipt_consensus_bytes(r)
            encoded.append(enc)
            out.append(Receipt(tx_type=_q(r.get("type", "0x0")), status=_q(r["status"]) if r.get("status") else 0,
                               cumulative_gas_used=cum, logs=tuple(logs),
                               logs_bloom=from_hex(_get(r, "logsBloom"), 256)))
    except BlockDataError:
        raise
    except (ParseError, TypeError, ValueError) as e:
        raise BlockDataError(f"block {block_number}: malformed receipt: {e}") from None
    root = ordered_trie_root(encoded) if encoded else EMPTY_ROOT
    if root != receipts_root:
        raise BlockDataError(f"receipts of block {block_number} have root 0x{root.hex()}, header says "
                             f"0x{receipts_root.hex()}")
    return out


def receipts_from_raw(block_number: int, raw: list, tx_count: int, receipts_root: bytes) -> list[Receipt]:
    """``debug_getRawReceipts``: consensus-encoded receipts, checked against the receipts root."""
    if not isinstance(raw, list) or len(raw) != tx_count:
        raise BlockDataError(f"block {block_number}: got {len(raw) if isinstance(raw, list) else 'no'} raw receipts "
                             f"for {tx_count} transactions")
    blobs = [from_hex(x) for x in raw]
    root = ordered_trie_root(blobs) if blobs else EMPTY_ROOT
    if root != receipts_root:
        raise BlockDataError(f"raw receipts of block {block_number} have root 0x{root.hex()}, header says "
                             f"0x{receipts_root.hex()}")
    out, log_index = [], 0
    try:
        for b in blobs:
            t = LEGACY if b and b[0] >= 0xC0 else b[0]
            fields = rlp.decode_list(b if t == LEGACY else b[1:])
            if len(fields) < 4:
                raise BlockDataError(f"block {block_number}: raw receipt has {len(fields)} fields")
            status = rlp.decode_uint(fields[0]) if len(fields[0]) <= 1 else 0
            logs = []
            for lg in fields[3]:
                if not isinstance(lg, list) or len(lg) != 3 or not isinstance(lg[1], list):
                    raise BlockDataError(f"block {block_number}: malformed raw log")
                logs.append(Log(rlp.decode_bytes(lg[0], 20), tuple(rlp.decode_bytes(x, 32) for x in lg[1]),
                                rlp.decode_bytes(lg[2]), log_index))
                log_index += 1
            out.append(Receipt(tx_type=t, status=status, cumulative_gas_used=rlp.decode_uint(fields[1], 64),
                               logs=tuple(logs), logs_bloom=rlp.decode_bytes(fields[2], 256)))
    except BlockDataError:
        raise
    except (ParseError, TypeError, IndexError) as e:
        raise BlockDataError(f"block {block_number}: malformed raw receipt: {e}") from None
    return out


async def check_anvil_tx_root(block: dict, txs, raw_transactions) -> None:
    """anvil commits ``transactionsRoot`` to blob transactions in their network form (with the sidecar); L1
    clients use the canonical form. Recompute the root from anvil's raw network forms (``await
    raw_transactions(hashes)``: ``eth_getRawTransactionByHash`` answers), after checking that each wraps exactly the
    transaction the block lists."""
    for i, tj in enumerate(block["transactions"]):
        if txs[i].hash != from_hex(tj["hash"], 32):
            raise BlockDataError(f"transaction {i} claims hash {tj['hash']} but encodes to 0x{txs[i].hash.hex()}")
    blob_txs = [t for t in txs if t.type == BLOB]
    if not blob_txs:
        check_transactions_root(block, [t.raw for t in txs])
        return
    raws = await raw_transactions([t.hash for t in blob_txs])
    network = {}
    for t, raw in zip(blob_txs, raws, strict=True):
        if not isinstance(raw, str):
            raise BlockDataError(f"no raw form of blob transaction 0x{t.hash.hex()}")
        nb = from_hex(raw)
        if canonical_blob_tx(nb) != t.raw:
            raise BlockDataError(f"raw form of 0x{t.hash.hex()} wraps a different transaction")
        network[t.hash] = nb
    check_transactions_root(block, [network.get(t.hash, t.raw) if t.type == BLOB else t.raw for t in txs])
