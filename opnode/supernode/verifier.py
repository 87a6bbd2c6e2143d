"""The interop verification loop: one L2 timestamp at a time across the set, observe → decide → write ahead → apply
(op-supernode ``activity/interop`` ``interop.go`` ``progressAndRecord``, ``algo.go``, ``cycle.go``, ``checker.go``;
karlfloersch/optimism @f0b2b80e 2026-04-22, WAL #19505; the rules themselves are :mod:`derivation.interop`).

A round at timestamp ``ts``:
1. **observe**: each chain's block at ``ts`` (the highest with time <= ``ts``) must be local-safe (else Wait); its
   receipts give the log hashes and the CrossL2Inbox executing messages; its L1 inclusion comes from the chain's
   safe-head DB. The L1 inclusion of the last verified round must still be canonical (else Rewind), and so must
   each frontier block's (else Wait: that chain is about to reset);
2. **decide** (:func:`decide`, pure): :func:`derivation.interop.validity.check_frontier` over the frontier with the
   verified blocks' logs plus the frontier's own as the initiating-log view: any invalid block → Invalidate, any
   message waiting → Wait, else Advance;
3. **write ahead**: an Advance, Invalidate or Rewind is written to the WAL before anything is applied, so a crash
   (kill -9) at any point resumes by applying the pending decision again; every apply step is idempotent;
4. **apply**: Advance commits the verified row and the frontier's logs and moves each chain's cross-safe head;
   Invalidate denylists the blocks and rewinds their chains to the parent, whose derivation then replaces the
   block by its deposits-only version (the verified timestamp does not move: the next round verifies the
   replacement); Rewind forgets results from the timestamp on and moves cross-safe back.

Better than op-supernode where its issues show it falls short: rounds step over *distinct frontiers* (the next
timestamp at which some chain has a new block), not every L2 second, so a backlog drains at derivation speed
(op-supernode #21117); the verified row, the sealed logs and the WAL's end are one transaction (#20627, #22138 show
its separate logs.db drifting). Before the activation time there is nothing to verify: cross-safe follows
local-safe (op-supernode #20191).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import trio

from derivation.interop.messages import ExecutingMessage, MalformedMessage, executing_messages, log_hash
from derivation.interop.validity import InitiatingBlock, InitiatingLogView, Verdict, check_frontier
from derivation.protocol.errors import DerivationError
from derivation.protocol.hexutil import from_hex, parse_quantity
from derivation.protocol.rollup_config import DependencySet, RollupConfig
from derivation.protocol.types import BlockID, L2BlockRef, Log
from opnode.jsonrpc.errors import RpcError
from opnode.supernode.decisions import Decision, FrontierBlock, Kind
from opnode.supernode.store import InteropStore

log = logging.getLogger("opnode.supernode.verifier")

# Crash tests on real processes: with this variable set to ``after-wal`` the process dies (as kill -9 would: no
# clean-up) right after the next decision reached the WAL and before any of it is applied.
FAILPOINT_ENV = "OPNODE_SUPERNODE_FAILPOINT"


class VerifierChain(Protocol):
    """What the verifier reads from and does to one chain (the supernode's chain container)."""

    chain_id: int
    cfg: RollupConfig

    def local_safe(self) -> L2BlockRef: ...

    async def block(self, number: int) -> dict | None:
        """``eth_getBlockByNumber(number, false)`` of the chain's engine."""
        ...

    async def receipts(self, block_hash: bytes) -> list[dict]:
        """``eth_getBlockReceipts`` of the chain's engine."""
        ...

    def l1_inclusion(self, number: int) -> BlockID | None: ...

    async def set_cross_safe(self, head: BlockID) -> None:
        """Make ``head`` cross-safe once it is local-safe (idempotent)."""
        ...

    async def invalidate(self, block: FrontierBlock) -> None:
        """``block`` is denylisted: if the chain still has it, roll the chain back to its parent and re-derive."""
        ...

    async def rewind(self, head: BlockID | None) -> None:
        """Move cross-safe back to ``head`` (None: nothing verified) and re-derive from there."""
        ...

    def safe_head_at_l1(self, l1_number: int) -> BlockID | None:
        """The local-safe head as derived up to L1 block ``l1_number`` (the chain's safe-head DB)."""
        ...

    async def finalize(self, head: BlockID) -> None:
        """Finalize ``head`` (forward only, never past cross-safe)."""
        ...


def logs_from_receipts(receipts: Sequence[dict]) -> list[Log]:
    """The block's logs in block order with their block-wide indexes, from ``eth_getBlockReceipts``."""
    out = []
    for r in receipts:
        for lg in r.get("logs") or []:
            out.append(Log(from_hex(lg["address"], 20), tuple(from_hex(t, 32) for t in lg["topics"]),
                           from_hex(lg["data"]), parse_quantity(lg["logIndex"])))
    out.sort(key=lambda lg: lg.log_index)
    return out


@dataclass(frozen=True, slots=True)
class Observed:
    block: FrontierBlock
    messages: tuple[ExecutingMessage, ...]
    malformed: str | None = None  # a CrossL2Inbox event that does not decode: the block is invalid


class _FrontierView:
    """The initiating-log view of a round: the frontier blocks' own logs, then the verified blocks' logs."""

    def __init__(self, frontier: Mapping[int, Observed], store: InitiatingLogView):
        self.frontier = {(c, o.block.number): o.block for c, o in frontier.items()}
        self.store = store

    def block(self, chain_id: int, number: int) -> InitiatingBlock | None:
        b = self.frontier.get((chain_id, number))
        if b is not None:
            return InitiatingBlock(b.number, b.timestamp, b.log_hashes)
        return self.store.block(chain_id, number)


def decide(timestamp: int, frontier: Mapping[int, Observed], ds: DependencySet, configs: Mapping[int, RollupConfig],
           view: InitiatingLogView) -> Decision:
    """The decision for a fully observed frontier (pure)."""
    verdicts = check_frontier(timestamp, {c: (o.block.timestamp, o.messages) for c, o in frontier.items()}, ds,
                              configs, _FrontierView(frontier, view))
    invalid, reasons, waiting = [], [], []
    for c in sorted(frontier):
        o, v = frontier[c], verdicts[c]
        if o.malformed is not None:
            invalid.append(o.block)
            reasons.append(f"chain {c} block {o.block.number}: {o.malformed}")
        elif v.verdict is Verdict.INVALID:
            invalid.append(o.block)
            reasons.append(f"chain {c} block {o.block.number}: {v}")
        elif v.verdict is Verdict.WAIT:
            waiting.append(f"chain {c} block {o.block.number}: {v}")
    if invalid:
        return Decision(Kind.INVALIDATE, timestamp, tuple(invalid), "; ".join(reasons))
    if waiting:
        return Decision(Kind.WAIT, timestamp, (), "; ".join(waiting))
    return Decision(Kind.ADVANCE, timestamp, tuple(frontier[c].block for c in sorted(frontier)))


def target_number(cfg: RollupConfig, timestamp: int) -> int:
    """The chain's highest block with time <= ``timestamp`` (op-supernode ``TargetBlockNumber``); genesis before
    it."""
    return cfg.block_number_at(max(timestamp, cfg.genesis.l2_time))


class Verifier:
    def __init__(self, chains: Mapping[int, VerifierChain], store: InteropStore, ds: DependencySet,
                 configs: Mapping[int, RollupConfig], activation: int | None,
                 l1_canonical: Callable[[BlockID], Awaitable[bool]],
                 l1_finalized: Callable[[], BlockID | None] = lambda: None):
        self.chains = dict(chains)
        self.store = store
        self.ds = ds
        self.configs = dict(configs)
        self.activation = activation
        self.l1_canonical = l1_canonical
        self.l1_finalized = l1_finalized
        self.last_decision: Decision | None = None
        self.rounds = 0
        self._wake = trio.Event()

    def wake(self) -> None:
        self._wake.set()

    # -------------------------------------------------------------------------------------------- timestamps

    def first_timestamp(self) -> int:
        assert self.activation is not None
        return max([self.activation, *(c.genesis.l2_time for c in self.configs.values())])

    def next_timestamp(self) -> int:
        """The next distinct frontier: the earliest time at which some chain has a block past the last round's."""
        last = self.store.last_verified()
        if last is None:
            return self.first_timestamp()
        return min(cfg.timestamp_for_block(target_number(cfg, last.timestamp) + 1) for cfg in self.configs.values())

    # -------------------------------------------------------------------------------------------- the loop

    async def run(self, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        await self.resume()
        task_status.started()
        while True:
            try:
                d = await self.step()
            except (RpcError, DerivationError, OSError, LookupError, ValueError) as e:  # an engine or L1 call failed
                # (TransportError is a DerivationError): the round is tried again
                log.warning("verification round failed: %s", e)
                d = Decision(Kind.WAIT, -1, (), str(e))
            if d.kind is Kind.WAIT:
                with trio.move_on_after(1.0):
                    await self._wake.wait()
                self._wake = trio.Event()
            else:
                await trio.sleep(0)

    async def resume(self) -> None:
        """Apply the decision a crash left in the WAL (op-supernode: re-apply the PendingTransition on start)."""
        pending = self.store.pending()
        if pending is not None:
            log.info("resuming pending %s at %d", pending.kind.value, pending.timestamp)
            await self.apply(pending)
        await self.sync_cross_safe()

    async def step(self) -> Decision:
        """One round; the decision is applied (after the WAL write) unless it is a wait."""
        self.rounds += 1
        pending = self.store.pending()
        if pending is not None:  # an apply that failed part-way: finish it first (every step is idempotent)
            await self.apply(pending)
            return pending
        await self.sync_cross_safe()
        if self.activation is None:
            d = Decision(Kind.WAIT, -1, (), "interop is not scheduled: cross-safe follows local-safe")
        else:
            d = await self.observe_and_decide(self.next_timestamp())
        self.last_decision = d
        if d.kind is not Kind.WAIT:
            log.info("interop %s at %d %s", d.kind.value, d.timestamp, d.reason)
            self.store.write_ahead(d)
            if os.environ.get(FAILPOINT_ENV) == "after-wal":
                log.critical("failpoint after-wal: dying with the %s at %d written, not applied", d.kind.value,
                             d.timestamp)
                os._exit(137)
            await self.apply(d)
        return d

    async def observe_and_decide(self, ts: int) -> Decision:
        last = self.store.last_verified()
        if last is not None and not await self.l1_canonical(last.l1_inclusion):
            return await self._rewind_point(last)
        frontier: dict[int, Observed] = {}
        for cid, chain in sorted(self.chains.items()):
            got = await self._observe(chain, ts)
            if isinstance(got, str):
                return Decision(Kind.WAIT, ts, (), got)
            if last is not None and cid in last.heads:
                head = last.heads[cid]
                b = got.block
                if (b.number == head.number and b.hash != head.hash) or (
                        b.number == head.number + 1 and b.parent_hash != head.hash):
                    return Decision(Kind.REWIND, last.timestamp, (),
                                    f"chain {cid} no longer builds on verified block {head}")
            frontier[cid] = got
        return decide(ts, frontier, self.ds, self.configs, self.store)

    async def _rewind_point(self, last) -> Decision:
        """Rewind to the earliest verified result whose L1 inclusion is gone: one rewind (one reset of the chains)
        per reorg, not one per verified timestamp above it."""
        first, gone = last, last.l1_inclusion
        checked: dict[BlockID, bool] = {last.l1_inclusion: False}
        while True:
            prev = self.store.verified_at(first.timestamp - 1)
            if prev is None:
                break
            inc = prev.l1_inclusion
            if inc not in checked:
                checked[inc] = await self.l1_canonical(inc)
            if checked[inc]:
                break
            first = prev
        return Decision(Kind.REWIND, first.timestamp, (), f"L1 block {gone} is no longer canonical")

    async def _observe(self, chain: VerifierChain, ts: int) -> Observed | str:
        n = target_number(chain.cfg, ts)
        if n > chain.local_safe().number:
            return f"chain {chain.chain_id} block {n} is not local-safe yet"
        blk = await chain.block(n)
        if blk is None:
            return f"chain {chain.chain_id} block {n} is not in its engine"
        inclusion = chain.l1_inclusion(n)
        if inclusion is None:
            return f"chain {chain.chain_id} block {n} has no L1 inclusion recorded yet"
        if not await self.l1_canonical(inclusion):
            return f"chain {chain.chain_id} block {n}: L1 inclusion {inclusion} is being reorged"
        block_hash = from_hex(blk["hash"], 32)
        logs = logs_from_receipts(await chain.receipts(block_hash))
        malformed = None
        try:
            ems = executing_messages(logs)
        except MalformedMessage as e:
            ems, malformed = (), f"malformed executing message: {e}"
        fb = FrontierBlock(chain.chain_id, n, block_hash, from_hex(blk["parentHash"], 32),
                           parse_quantity(blk["timestamp"]), tuple(log_hash(lg) for lg in logs), inclusion)
        return Observed(fb, ems, malformed)

    # -------------------------------------------------------------------------------------------- apply

    async def apply(self, d: Decision) -> None:
        """Apply a logged decision; each step is idempotent, so applying it again after a crash is safe."""
        if d.kind is Kind.ADVANCE:
            self.store.commit_advance(d)
            for b in d.blocks:
                await self.chains[b.chain_id].set_cross_safe(b.id)
        elif d.kind is Kind.INVALIDATE:
            self.store.add_denied(d)
            for b in d.blocks:
                await self.chains[b.chain_id].invalidate(b)
            self.store.clear_pending()
        elif d.kind is Kind.REWIND:
            prev = self.store.verified_at(d.timestamp - 1)
            for cid, chain in self.chains.items():
                await chain.rewind(None if prev is None else prev.heads.get(cid))
            self.store.rewind(d.timestamp)
        else:
            raise ValueError(f"a {d.kind.value} decision is not applied")

    async def sync_cross_safe(self) -> None:
        """Cross-safe of every chain: its last verified head (once local-safe again after a restart) and, before
        the activation time, its local-safe blocks."""
        last = self.store.last_verified()
        for cid, chain in self.chains.items():
            local = chain.local_safe()
            if self.activation is None or local.time < self.activation:
                if not local.is_zero():
                    await chain.set_cross_safe(local.id)
                continue
            if last is None:
                n = target_number(chain.cfg, self.activation - 1)
                if self.activation > chain.cfg.genesis.l2_time and n <= local.number:
                    blk = await chain.block(n)
                    if blk is not None:
                        await chain.set_cross_safe(BlockID(from_hex(blk["hash"], 32), n))
            elif cid in last.heads:
                await chain.set_cross_safe(last.heads[cid])
        await self.sync_finality()

    async def sync_finality(self) -> None:
        """Finalized of every chain: its head in the latest verified result whose L1 inclusion is finalized
        (op-supernode ``FinalizedL2Head``); before the activation time, the local-safe head derived from finalized
        L1 (nothing to verify there)."""
        fin = self.l1_finalized()
        if fin is None:
            return
        row = self.store.final_verified(fin.number)
        for cid, chain in self.chains.items():
            if row is not None and cid in row.heads:
                await chain.finalize(row.heads[cid])
                continue
            head = chain.safe_head_at_l1(fin.number)
            if head is None:
                continue
            if self.activation is not None:
                if self.activation <= chain.cfg.genesis.l2_time:
                    continue
                last_pre = target_number(chain.cfg, self.activation - 1)
                if head.number > last_pre:
                    blk = await chain.block(last_pre)
                    if blk is None:
                        continue
                    head = BlockID(from_hex(blk["hash"], 32), last_pre)
            await chain.finalize(head)
