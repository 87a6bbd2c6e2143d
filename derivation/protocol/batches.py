"""Singular batches (batch type 0).

specs: derivation.md "Batch Format". Bytes after a complete singular batch are ignored (op-node decodes it with
``rlp.Decode`` from a reader).
"""

from __future__ import annotations

from dataclasses import dataclass

from derivation.protocol import rlp
from derivation.protocol.errors import ParseError

SINGULAR_BATCH_TYPE = 0
SPAN_BATCH_TYPE = 1


class BatchError(ParseError):
    """Malformed batch data."""


@dataclass(frozen=True, slots=True)
class SingularBatch:
    parent_hash: bytes
    epoch_num: int
    epoch_hash: bytes
    timestamp: int
    transactions: tuple[bytes, ...]

    def encode(self) -> bytes:
        """Batch data: ``0x00 ‖ rlp([parent_hash, epoch_num, epoch_hash, timestamp, [tx, ...]])``."""
        return bytes((SINGULAR_BATCH_TYPE,)) + rlp.encode(
            [self.parent_hash, self.epoch_num, self.epoch_hash, self.timestamp, list(self.transactions)])

    @classmethod
    def decode(cls, content: bytes) -> SingularBatch:
        """Decode the RLP content after the type byte; trailing bytes are ignored (op-node uses rlp.Decode)."""
        try:
            item, _ = rlp.decode_at(content, 0)
            if not isinstance(item, list) or len(item) != 5:
                raise BatchError("singular batch must be an RLP list of 5 items")
            txs = item[4]
            raw_txs = tuple(t for t in txs if isinstance(t, bytes)) if isinstance(txs, list) else ()
            if not isinstance(txs, list) or len(raw_txs) != len(txs):
                raise BatchError("singular batch transactions must be a list of byte strings")
            return cls(rlp.decode_bytes(item[0], 32), rlp.decode_uint(item[1], 64), rlp.decode_bytes(item[2], 32),
                       rlp.decode_uint(item[3], 64), raw_txs)
        except rlp.RLPError as e:
            raise BatchError(f"malformed singular batch: {e}") from None

