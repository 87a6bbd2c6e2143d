"""The derivation pipeline: builds the stages, steps them, resets them, and switches to Holocene's stages.

``step(pending_safe)`` runs the stages until they produce payload attributes for the block after
``pending_safe``, or until they cannot go on: then it returns what stopped them (data needed, reset needed, a
temporary or a critical failure). Stepping is bounded (``budget``), so a caller can interleave other work.

Reset (specs: derivation.md "Resetting the Pipeline"): from the new safe head, walk the L2
chain back until its L1 origin is a channel timeout behind (or genesis), start L1 traversal at that block's L1
origin and seed the SystemConfig from that L2 block. Batches for heights that are already safe are then read and
discarded until traversal catches up.

Holocene (clock: the L1 block traversal moves onto): everything buffered (frames, channels, batches) is discarded
and the channel assembler and batch stage take over from the channel bank and batch queue.
"""

from __future__ import annotations

from dataclasses import dataclass

from derivation.events import Dropped, DropReason, Event, PipelineReset
from derivation.protocol.attributes import AttributesWithParent
from derivation.protocol.errors import CriticalError, ResetError, TemporaryError
from derivation.protocol.l1_chain_config import L1ChainConfig
from derivation.protocol.rollup_config import Fork, RollupConfig
from derivation.protocol.system_config import SystemConfig
from derivation.protocol.types import L1BlockRef, L2BlockRef
from derivation.providers import DataRequest, L1Source, L2Source, NeedData
from derivation.stages.attributes_builder import AttributesBuilder
from derivation.stages.attributes_queue import AttributesQueue
from derivation.stages.batch_queue import BatchQueue
from derivation.stages.batch_stage import BatchStage
from derivation.stages.channel_assembler import ChannelAssembler
from derivation.stages.channel_bank import ChannelBank
from derivation.stages.channel_reader import ChannelReader
from derivation.stages.flow import EOF, Emit, NotEnoughData, no_emit
from derivation.stages.frame_queue import FrameQueue
from derivation.stages.l1_retrieval import L1Retrieval
from derivation.stages.l1_traversal import L1Traversal


@dataclass(frozen=True, slots=True)
class Needed:
    request: DataRequest


@dataclass(frozen=True, slots=True)
class ResetRequired:
    reason: str


@dataclass(frozen=True, slots=True)
class TemporaryFailure:
    reason: str


@dataclass(frozen=True, slots=True)
class CriticalFailure:
    reason: str


@dataclass(frozen=True, slots=True)
class Progress:
    """The step budget ran out while the pipeline was still making progress: step again."""


StepResult = AttributesWithParent | Needed | ResetRequired | TemporaryFailure | CriticalFailure | Progress


@dataclass(slots=True)
class _ResetWalk:
    safe: L2BlockRef
    cursor: L2BlockRef
    origin: L1BlockRef | None = None


class Pipeline:
    def __init__(self, cfg: RollupConfig, l1_chain: L1ChainConfig, l1: L1Source, l2: L2Source,
                 emit: Emit = no_emit):
        self.cfg = cfg
        self.l1 = l1
        self.l2 = l2
        self.emit: Emit = emit
        self.traversal = L1Traversal(cfg, l1, self._emit)
        self.retrieval = L1Retrieval(cfg, self.traversal, l1, self._emit)
        self.frame_queue = FrameQueue(cfg, self.retrieval, self._emit)
        self.channel_bank = ChannelBank(cfg, self.frame_queue, self._emit)
        self.channel_assembler = ChannelAssembler(cfg, self.frame_queue, self._emit)
        self.channel_reader = ChannelReader(cfg, self.channel_bank, self._emit)
        self.batch_queue = BatchQueue(cfg, self.channel_reader, l2, self._emit)
        self.batch_stage = BatchStage(cfg, self.channel_reader, l2, self._emit)
        self.attributes = AttributesQueue(AttributesBuilder(cfg, l1_chain, l1, l2), self.batch_queue)
        self._reset: _ResetWalk | None = None

    def _emit(self, ev: Event) -> None:
        self.emit(ev)

    # -------------------------------------------------------------------------------------------- state

    @property
    def origin(self) -> L1BlockRef | None:
        """The L1 block derivation has reached: everything up to it has been read (``current_l1``)."""
        return self.traversal.block

    @property
    def holocene(self) -> bool:
        return self.attributes.prev is self.batch_stage

    @property
    def resetting(self) -> bool:
        return self._reset is not None

    def buffered(self) -> dict[str, int]:
        """Sizes of what the stages hold, for metrics and tests of boundedness."""
        ch = self.channel_assembler if self.holocene else self.channel_bank
        return {"frames": len(self.frame_queue.frames), "channel_bytes": ch.buffered_bytes,
                "batches": self.attributes.prev.buffered_batches}

    # -------------------------------------------------------------------------------------------- control

    def reset(self, safe_head: L2BlockRef) -> None:
        """Start deriving again after ``safe_head`` (after an L1 reorg, an engine reset or at start-up)."""
        self._reset = _ResetWalk(safe_head, safe_head)

    def flush_channel(self) -> None:
        """Holocene: the engine replaced an invalid payload by a deposit-only block: drop the rest of the span batch
        and channel it came from (holocene/derivation.md "Engine Queue")."""
        self.attributes.prev.flush()

    def step(self, pending_safe: L2BlockRef, budget: int = 1000) -> StepResult:
        if self._reset is None and self.traversal.block is None:
            return ResetRequired("the pipeline has not been reset onto a safe head yet")
        try:
            for _ in range(budget):
                try:
                    if self._reset is not None:
                        self._do_reset(self._reset, pending_safe)
                        continue
                    return self.attributes.next_attributes(pending_safe)
                except NotEnoughData:
                    continue
                except EOF:
                    before = self.traversal.origin
                    after = self.traversal.advance()
                    if not self.cfg.is_active(Fork.HOLOCENE, before.time) and self.cfg.is_active(Fork.HOLOCENE,
                                                                                                after.time):
                        self._activate_holocene()
            return Progress()
        except NeedData as e:
            return Needed(e.request)
        except ResetError as e:
            return ResetRequired(str(e))
        except TemporaryError as e:
            return TemporaryFailure(str(e))
        except CriticalError as e:
            return CriticalFailure(str(e))

    def _do_reset(self, walk: _ResetWalk, pending_safe: L2BlockRef) -> None:
        if walk.safe != pending_safe:
            walk = self._reset = _ResetWalk(pending_safe, pending_safe)
        cfg, l1o = self.cfg, walk.safe.l1_origin
        if walk.origin is None:
            walk.origin = self.l1.block_by_hash(walk.cursor.l1_origin.hash).ref
        while (walk.cursor.number > cfg.genesis.l2.number and walk.cursor.l1_origin.number > cfg.genesis.l1.number
               and walk.cursor.l1_origin.number + cfg.channel_timeout_at(walk.origin.time) > l1o.number):
            parent = self.l2.block_ref_by_hash(walk.cursor.parent_hash)
            origin = self.l1.block_by_hash(parent.l1_origin.hash).ref
            walk.cursor, walk.origin = parent, origin
        sys_cfg = self.l2.system_config(walk.cursor.hash)
        base = walk.origin
        self.start_at(base, sys_cfg, f"derivation restarts at L1 block {base.number} for safe head "
                                     f"{walk.safe.number} (walked back to L2 block {walk.cursor.number})")

    def start_at(self, base: L1BlockRef, sys_cfg: SystemConfig, reason: str) -> None:
        """Start traversal at ``base`` with ``sys_cfg`` and empty stages, without walking the L2 chain back: how a
        fault-proof program starts, having picked ``base`` itself (kona ``new_oracle_pipeline_cursor`` then a
        ``ResetSignal``: the safe head's L1 origin minus the channel timeout, with the safe head's SystemConfig)."""
        self.traversal.reset(base, sys_cfg)
        for stage in (self.retrieval, self.frame_queue, self.channel_bank, self.channel_assembler,
                      self.channel_reader, self.attributes):
            stage.reset()
        holocene = self.cfg.is_active(Fork.HOLOCENE, base.time)
        batches = self.batch_stage if holocene else self.batch_queue
        batches.reset(base)
        self._use_stages(holocene)
        self._reset = None
        self._emit(PipelineReset(base, reason))

    def _use_stages(self, holocene: bool) -> None:
        self.channel_reader.prev = self.channel_assembler if holocene else self.channel_bank
        self.attributes.prev = self.batch_stage if holocene else self.batch_queue

    def _activate_holocene(self) -> None:
        origin = self.traversal.origin
        dropped = self.buffered()
        if any(dropped.values()):
            self._emit(Dropped(origin, "channel", DropReason.HOLOCENE_ACTIVATION,
                               f"Holocene activates at L1 block {origin.number}: buffered data discarded",
                               dict(dropped)))
        for stage in (self.frame_queue, self.channel_bank, self.channel_assembler, self.channel_reader):
            stage.reset()
        self.batch_stage.reset(self.batch_queue.origin)
        self.batch_stage.take_state(self.batch_queue)
        self._use_stages(True)
