"""L1 retrieval (specs: derivation.md "L1 Retrieval", ecotone/derivation.md "Blob Retrieval"): the batcher data
items of the traversal's current L1 block, in transaction order.

A batcher transaction is sent to the batch inbox by the SystemConfig's batcher (sender recovered from the
signature; the ``from`` of an L1 deposit when L1 is itself an OP chain) and has type 0, 1, 2, 3 or 0x7E: set-code
and future types are ignored, as the spec and current op-node/kona do. From Ecotone (clock: the L1 block's time)
each blob of a type-3 batcher transaction is one data item and its calldata is ignored; other batcher transactions
still give their calldata, interleaved in order. Blob indices count every blob of the block, batcher's or not. A
blob that does not decode is skipped alone; a missing blob is waited for, never skipped.
"""

from __future__ import annotations

from derivation.events import Dropped, DropReason
from derivation.protocol.blobs import decode_blob
from derivation.protocol.errors import ParseError, drop_message
from derivation.protocol.rollup_config import Fork, RollupConfig
from derivation.protocol.transactions import BLOB, DEPOSIT, Transaction
from derivation.protocol.types import L1BlockRef
from derivation.providers import IndexedBlobHash, L1Source
from derivation.stages.flow import EOF, Emit
from derivation.stages.l1_traversal import L1Traversal

BATCHER_TX_TYPES = frozenset((0x00, 0x01, 0x02, BLOB, DEPOSIT))


def is_batcher_tx(tx: Transaction, inbox: bytes, batcher: bytes) -> bool:
    if tx.type not in BATCHER_TX_TYPES or tx.to != inbox:
        return False
    try:
        return tx.sender() == batcher
    except ParseError:  # an unrecoverable signature: some random L1 tx, not the batcher's
        return False


class L1Retrieval:
    def __init__(self, cfg: RollupConfig, traversal: L1Traversal, l1: L1Source, emit: Emit):
        self.cfg = cfg
        self.traversal = traversal
        self.l1 = l1
        self.emit = emit
        self._items: list[tuple[int, bytes]] | None = None

    @property
    def origin(self) -> L1BlockRef:
        return self.traversal.origin

    def next_data(self) -> tuple[int, bytes]:
        """(index of the data item in its L1 block, data). Raises EOF when the block is exhausted."""
        if self._items is None:
            if self.traversal.done:
                raise EOF
            self._items = self._open(self.traversal.origin)  # may raise NeedData: nothing consumed yet
            self.traversal.next_l1_block()
        if not self._items:
            self._items = None
            raise EOF
        return self._items.pop(0)

    def _open(self, block: L1BlockRef) -> list[tuple[int, bytes]]:
        txs = self.l1.transactions(block)
        inbox, batcher = self.cfg.batch_inbox_address, self.traversal.system_config.batcher_addr
        if not self.cfg.is_active(Fork.ECOTONE, block.time):
            return [(i, tx.data) for i, tx in enumerate(txs) if is_batcher_tx(tx, inbox, batcher)]
        entries: list[tuple[int, bytes | IndexedBlobHash]] = []
        blob_index = 0
        for i, tx in enumerate(txs):
            hashes = tx.blob_versioned_hashes
            if not is_batcher_tx(tx, inbox, batcher):
                blob_index += len(hashes)
                continue
            if tx.type != BLOB:
                entries.append((i, tx.data))
                continue
            for h in hashes:
                entries.append((i, IndexedBlobHash(blob_index, h)))
                blob_index += 1
        wanted = tuple(e for _, e in entries if isinstance(e, IndexedBlobHash))
        blobs = dict(zip(wanted, self.l1.blobs(block, wanted), strict=True)) if wanted else {}
        items = []
        for n, (i, e) in enumerate(entries):
            if not isinstance(e, IndexedBlobHash):
                items.append((n, e))
                continue
            try:
                items.append((n, decode_blob(blobs[e])))
            except Exception as err:  # ParseError, or a decoder bug (drop_message)
                self.emit(Dropped(block, "data", DropReason.INVALID_BLOB, f"blob {e.index} of tx {i}: {drop_message(err)}",
                                  {"versioned_hash": "0x" + e.hash.hex(), "tx_index": i}))
        return items

    def reset(self) -> None:
        self._items = None
