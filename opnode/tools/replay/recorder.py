"""Recording: run derivation over a live source and keep every answer it needed, plus the real L2 blocks.

The recorder steps a :class:`~opnode.tools.replay.session.Session` (the same run replay makes); whenever the store lacks
something the session names it, the recorder fetches it from the source, checks it into the store and steps again.
It stops when derivation asks for the first L1 block after the range. The store then holds exactly what replay
will ask for.

Where derivation starts (:func:`find_start`). A replay can only re-derive L2 blocks after its start safe head S,
and derivation reset onto S reads L1 from S's L1 origin minus a channel timeout (derivation.md "Resetting the
Pipeline"), so any S gives a correct replay; S decides which blocks it covers. To cover every L2 block whose batch
lies in the range, S must have been safe before L1 block ``from_l1``. A batch is included within the sequencing
window of its epoch (derivation.md "Batch Queue"), so every L2 block whose L1 origin is at most
``from_l1 - 1 - seq_window_size`` was safe by then: the default S is the highest such block (genesis if there is
none). ``lookback`` replaces ``seq_window_size`` in that rule: live chains post batches within minutes, and OP
Mainnet's window is 3600 L1 blocks (12 hours), so a smaller lookback gives a much smaller recording that still
covers the range unless the batcher lagged by more than it. ``start_l2`` names S directly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from derivation.protocol.l1_chain_config import L1ChainConfig
from derivation.protocol.rollup_config import RollupConfig
from derivation.protocol.types import L1BlockRef, L2BlockRef
from derivation.providers import DataKind, IndexedBlobHash
from opnode.tools.replay.compare import Outcome
from opnode.tools.replay.session import Finished, Missing, Session
from opnode.tools.replay.store import L2Block, Meta, Store, l2_ref


class RecordError(Exception):
    """Recording cannot go on; the message is one line for the user."""


class Source(Protocol):
    """Where the recorder reads from (live RPCs, or in-memory chains in tests). Missing data raises RecordError.
    ``l1_tx_root`` says how the L1 commits to blob transactions (see :mod:`opnode.tools.replay.store`)."""

    l1_tx_root: str

    async def l1_header_by_number(self, number: int) -> bytes: ...

    async def l1_header_by_hash(self, block_hash: bytes) -> bytes: ...

    async def l1_transactions(self, block_hash: bytes) -> list[bytes]: ...

    async def l1_receipts(self, block_hash: bytes) -> list[bytes]: ...

    async def l1_blobs(self, block: L1BlockRef, hashes: tuple[IndexedBlobHash, ...]) -> list[bytes]: ...

    async def l2_block_by_number(self, number: int) -> L2Block: ...

    async def l2_block_by_hash(self, block_hash: bytes) -> L2Block: ...

    async def l2_head_number(self) -> int: ...


@dataclass(frozen=True, slots=True)
class RecordProgress:
    origin: int | None  # the L1 block derivation has reached
    derived: int  # L2 blocks derived so far
    mismatches: int


async def find_start(cfg: RollupConfig, source: Source, from_l1: int, lookback: int | None = None) -> L2Block:
    """The highest L2 block whose L1 origin is at most ``from_l1 - 1 - lookback`` (default lookback: the
    sequencing window), by binary search over the L2 chain (L1 origins never decrease with L2 numbers)."""
    lookback = cfg.seq_window_size if lookback is None else lookback
    target = from_l1 - 1 - lookback
    g = cfg.genesis

    async def load(n: int) -> tuple[L2Block, L2BlockRef]:
        b = await source.l2_block_by_number(n)
        return b, l2_ref(cfg, b)

    lo = await load(g.l2.number)
    if target <= g.l1.number:
        return lo[0]
    head = await source.l2_head_number()
    hi = await load(head)
    if hi[1].l1_origin.number <= target:
        return hi[0]
    while hi[0].number - lo[0].number > 1:
        mid = await load((lo[0].number + hi[0].number) // 2)
        if mid[1].l1_origin.number <= target:
            lo = mid
        else:
            hi = mid
    return lo[0]


async def record(cfg: RollupConfig, l1_chain: L1ChainConfig, source: Source, *, from_l1: int, to_l1: int,
                 start: L2Block, description: str = "", created_by: str = "", sources: dict | None = None, provenance: tuple = (),
                 progress: Callable[[RecordProgress], None] | None = None) -> Session:
    """Record L1 ``from_l1``..``to_l1`` with derivation starting on ``start``; returns the finished session, whose
    store holds the recording."""
    if from_l1 > to_l1:
        raise RecordError(f"--from-l1 {from_l1} is after --to-l1 {to_l1}")
    meta = Meta(cfg, l1_chain, from_l1, to_l1, l2_ref(cfg, start), description, created_by, source.l1_tx_root,
                sources or {}, provenance)
    store = Store(meta)
    store.add_l2_block(start)
    session = Session(store, stop_at_mismatch=False)
    last: Missing | None = None
    while True:
        r = session.run()
        if isinstance(r, Finished):
            break
        if r == last:
            raise RecordError(f"the source's answer did not satisfy derivation's request for {r}")
        last = r
        await _fetch(store, source, session, r)
        if progress is not None:
            origin = session.pipeline.origin
            progress(RecordProgress(origin.number if origin else None, len(session.derived),
                              sum(1 for d in session.derived if d.comparison.outcome is Outcome.MISMATCH)))
    store.check_complete()
    return session


async def _fetch(store: Store, source: Source, session: Session, m: Missing) -> None:
    req = m.request
    if req is None:
        store.add_l2_block(await source.l2_block_by_number(m.l2_number))
        return
    kind, key = req.kind, req.key
    if kind is DataKind.L1_BLOCK_BY_NUMBER:
        info = store.add_l1_header(await source.l1_header_by_number(key), canonical=True)
        if info.number != key:
            raise RecordError(f"asked the L1 source for block {key}, got block {info.number}")
    elif kind is DataKind.L1_BLOCK_BY_HASH:
        info = store.add_l1_header(await source.l1_header_by_hash(key), canonical=False)
        if info.hash != key:
            raise RecordError(f"asked the L1 source for block 0x{key.hex()}, got 0x{info.hash.hex()}")
    elif kind is DataKind.L1_TRANSACTIONS:
        store.add_l1_txs(key, await source.l1_transactions(key))
    elif kind is DataKind.L1_RECEIPTS:
        store.add_l1_receipts(key, await source.l1_receipts(key))
    elif kind is DataKind.L1_BLOBS:
        blobs = await source.l1_blobs(req.block, req.blobs)
        for h, blob in zip(req.blobs, blobs, strict=True):
            store.add_blob(key, h.index, h.hash, blob)
    elif kind in (DataKind.L2_BLOCK_BY_NUMBER, DataKind.L2_TRANSACTIONS):
        if key > session.l2.head.number:
            raise RecordError(f"derivation asked for L2 block {key}, above its pending safe head "
                              f"{session.l2.head.number}")
        store.add_l2_block(await source.l2_block_by_number(key))
    elif kind in (DataKind.L2_BLOCK_BY_HASH, DataKind.L2_SYSTEM_CONFIG):
        b = await source.l2_block_by_hash(key)
        if b.hash != key:
            raise RecordError(f"asked the L2 source for block 0x{key.hex()}, got 0x{b.hash.hex()}")
        store.add_l2_block(b)
    else:
        raise RecordError(f"cannot record {req}")
