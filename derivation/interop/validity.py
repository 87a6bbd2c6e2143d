"""The validity of executing messages, one at a time, against a view of initiating logs the caller fills.

Rules (messaging.md §Messaging Invariants, §Invalid messages; derivation.md §Invariants, §Expiry Window, §Activation
Block; specs @fd72cf79 2026-04-28), checked in kona's order (``MessageGraph::check_single_dependency`` in
``rust/kona/crates/protocol/interop/src/graph.rs`` @04a5ca97 with ``MessageRules`` from ``rules.rs`` @a350dfec, the
rules kona's proof program and its node-side verifier share):

1. the executing chain and the initiating chain are in the dependency set (ChainID invariant);
2. interop has been active for a full block on the executing chain at the executing block's time;
3. ``init.timestamp <= exec.timestamp`` (Timestamp invariant; equal only when acyclic: :mod:`cycles`);
4. interop has been active for a full block on the initiating chain at ``init.timestamp`` (no messages from or in
   the activation block);
5. ``exec.timestamp - init.timestamp <= window`` (expiry: equality is valid). derivation.md §Invariants writes a
   strict inequality; op-supernode ``algo.go`` (``init + window < exec`` is expired), op-core ``links.go`` and kona
   all accept equality, and the shared window-differential vectors pin it: the code the chains run wins;
6. the initiating block ``init.blockNumber`` of ``init.chainId`` has ``init.timestamp`` as its time and a log at
   block-wide index ``init.logIndex`` whose checksum equals the message's (op-supernode ``logsDB.Contains`` @f0b2b80e:
   the sealed block's timestamp and the checksum recomputed from the stored log hash).

op-supernode checks 1 (initiating side only: "hosted chain"), 3, 5, 6 and not 2/4, because it starts verifying at the
activation timestamp with an empty log store; kona and op-core's ``LinkCheckerImpl.CanExecute`` check all of them.
A message whose initiating block the view does not know yet is ``WAIT``: with op-supernode's lockstep (every chain
verified up to the executing timestamp) a valid message never waits, so the supernode may treat a wait at the frontier
as invalid exactly as ``algo.go`` does.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from derivation.interop.cycles import cycle_chains
from derivation.interop.dependency_set import interop_active_for_full_block
from derivation.interop.messages import ExecutingMessage, Message, message_checksum
from derivation.protocol.rollup_config import DependencySet, RollupConfig


class Verdict(enum.Enum):
    VALID = "valid"
    INVALID = "invalid"
    WAIT = "wait"  # the initiating side is not known yet: ask again later


class Reason(enum.Enum):
    EXECUTING_CHAIN_NOT_IN_SET = "executing-chain-not-in-dependency-set"
    UNKNOWN_CHAIN = "initiating-chain-not-in-dependency-set"
    EXECUTED_TOO_EARLY = "executed-before-interop-active-for-a-full-block"
    MESSAGE_IN_FUTURE = "initiating-timestamp-after-executing-timestamp"
    INITIATED_TOO_EARLY = "initiated-before-interop-active-for-a-full-block"
    MESSAGE_EXPIRED = "message-expired"
    TIMESTAMP_MISMATCH = "initiating-block-timestamp-mismatch"
    LOG_NOT_FOUND = "initiating-log-not-found"
    CHECKSUM_MISMATCH = "checksum-mismatch"
    CYCLE = "same-timestamp-cycle"
    INITIATING_BLOCK_UNKNOWN = "initiating-block-not-known-yet"


@dataclass(frozen=True, slots=True)
class Validity:
    verdict: Verdict
    reason: Reason | None = None
    detail: str = ""

    @property
    def valid(self) -> bool:
        return self.verdict is Verdict.VALID

    def __str__(self) -> str:
        return self.verdict.value if self.reason is None else f"{self.verdict.value}: {self.reason.value}: {self.detail}"


VALID = Validity(Verdict.VALID)


def _invalid(reason: Reason, detail: str) -> Validity:
    return Validity(Verdict.INVALID, reason, detail)


@dataclass(frozen=True, slots=True)
class InitiatingBlock:
    """What a log store keeps of a block for the existence check: its time and each log's hash, block-wide order."""

    number: int
    timestamp: int
    log_hashes: tuple[bytes, ...]


class InitiatingLogView(Protocol):
    """The supernode's view of initiating logs: the block ``number`` of ``chain_id`` on the chain being verified, or
    ``None`` when that block is not derived (local-safe) yet."""

    def block(self, chain_id: int, number: int) -> InitiatingBlock | None: ...


def check_link(ds: DependencySet, configs: Mapping[int, RollupConfig], exec_chain: int, exec_timestamp: int,
               init_chain: int, init_timestamp: int, window: int | None = None) -> Validity:
    """Rules 1–5: whether ``exec_chain`` may execute, at ``exec_timestamp``, a message of ``init_chain`` made at
    ``init_timestamp`` (op-core ``CanExecute``). ``window`` defaults to the set's expiry window."""
    if exec_chain not in ds.chain_ids:
        return _invalid(Reason.EXECUTING_CHAIN_NOT_IN_SET, f"chain {exec_chain} is not in the dependency set")
    if init_chain not in ds.chain_ids:
        return _invalid(Reason.UNKNOWN_CHAIN, f"initiating chain {init_chain} is not in the dependency set")
    if not interop_active_for_full_block(configs, exec_chain, exec_timestamp):
        return _invalid(Reason.EXECUTED_TOO_EARLY, f"chain {exec_chain} at {exec_timestamp}")
    if init_timestamp > exec_timestamp:
        return _invalid(Reason.MESSAGE_IN_FUTURE, f"initiated at {init_timestamp} > executed at {exec_timestamp}")
    if not interop_active_for_full_block(configs, init_chain, init_timestamp):
        return _invalid(Reason.INITIATED_TOO_EARLY, f"chain {init_chain} at {init_timestamp}")
    w = ds.message_expiry_window if window is None else window
    if exec_timestamp - init_timestamp > w:
        return _invalid(Reason.MESSAGE_EXPIRED, f"initiated at {init_timestamp}, executed at {exec_timestamp}, window {w}s")
    return VALID


def check_existence(message: Message, view: InitiatingLogView) -> Validity:
    """Rule 6: the initiating log exists where the identifier says, with the same checksum."""
    i = message.identifier
    block = view.block(i.chain_id, i.block_number)
    if block is None:
        return Validity(Verdict.WAIT, Reason.INITIATING_BLOCK_UNKNOWN, f"chain {i.chain_id} block {i.block_number}")
    if block.timestamp != i.timestamp:
        return _invalid(Reason.TIMESTAMP_MISMATCH,
                        f"chain {i.chain_id} block {i.block_number} has time {block.timestamp}, message says {i.timestamp}")
    if i.log_index >= len(block.log_hashes):
        return _invalid(Reason.LOG_NOT_FOUND, f"chain {i.chain_id} block {i.block_number} has "
                                              f"{len(block.log_hashes)} logs, message says index {i.log_index}")
    stored = message_checksum(block.log_hashes[i.log_index], block.number, i.log_index, block.timestamp, i.chain_id)
    if stored != message.checksum:
        return _invalid(Reason.CHECKSUM_MISMATCH, f"chain {i.chain_id} block {i.block_number} log {i.log_index}: "
                                                  f"origin or payload hash differ")
    return VALID


def check_message(message: Message, exec_chain: int, exec_timestamp: int, ds: DependencySet,
                  configs: Mapping[int, RollupConfig], view: InitiatingLogView) -> Validity:
    """All rules for one executing message, emitted on ``exec_chain`` in a block with time ``exec_timestamp``
    (same-timestamp cycles aside: :func:`derivation.interop.cycles.cycle_chains`)."""
    i = message.identifier
    link = check_link(ds, configs, exec_chain, exec_timestamp, i.chain_id, i.timestamp)
    return link if not link.valid else check_existence(message, view)


def check_block(messages: Iterable[ExecutingMessage], exec_chain: int, exec_timestamp: int, ds: DependencySet,
                configs: Mapping[int, RollupConfig], view: InitiatingLogView) -> tuple[Validity, ExecutingMessage | None]:
    """A block's verdict from its executing messages, in log order: the first invalid one makes it invalid
    (op-supernode ``verifyInteropMessages``: one invalid message invalidates the block), else the first that waits
    makes it wait, else valid. Returns the verdict and the message it is about."""
    waiting: tuple[Validity, ExecutingMessage] | None = None
    for em in sorted(messages, key=lambda m: m.log_index):
        v = check_message(em.message, exec_chain, exec_timestamp, ds, configs, view)
        if v.verdict is Verdict.INVALID:
            return v, em
        if v.verdict is Verdict.WAIT and waiting is None:
            waiting = (v, em)
    return waiting if waiting is not None else (VALID, None)


def check_frontier(timestamp: int, blocks: Mapping[int, tuple[int, Sequence[ExecutingMessage]]], ds: DependencySet,
                   configs: Mapping[int, RollupConfig], view: InitiatingLogView) -> dict[int, Validity]:
    """One verification round of op-supernode (``verifyInteropMessages`` then ``verifyCycleMessages``, results
    merged: ``interop.go`` @f0b2b80e): ``blocks`` maps each chain to the time and executing messages of its block at
    ``timestamp`` (the highest block with time <= ``timestamp``). ``view`` must also hold these frontier blocks'
    own logs, for messages initiated at the same timestamp. A block valid on its own but on a same-timestamp cycle
    is invalid with reason ``CYCLE``."""
    out = {c: check_block(ems, c, block_time, ds, configs, view)[0] for c, (block_time, ems) in blocks.items()}
    on_cycle = cycle_chains(timestamp, {c: ems for c, (block_time, ems) in blocks.items() if block_time == timestamp})
    for c in on_cycle:
        if out[c].verdict is not Verdict.INVALID:
            out[c] = _invalid(Reason.CYCLE, f"chain {c} block at {timestamp} is on a same-timestamp message cycle")
    return out
