"""Attributes queue (specs: derivation.md "Payload Attributes Derivation"): one accepted batch → payload attributes
on top of the current pending safe head."""

from __future__ import annotations

import dataclasses

from derivation.protocol.attributes import AttributesWithParent
from derivation.protocol.batches import SingularBatch
from derivation.protocol.errors import ResetError
from derivation.protocol.types import BlockID, L1BlockRef, L2BlockRef
from derivation.stages.attributes_builder import AttributesBuilder
from derivation.stages.batch_queue import BatchQueue
from derivation.stages.batch_stage import BatchStage


class AttributesQueue:
    def __init__(self, builder: AttributesBuilder, prev: BatchQueue | BatchStage):
        self.builder = builder
        self.prev = prev  # the batch queue or, from Holocene, the batch stage (swapped by the pipeline)
        self.batch: SingularBatch | None = None
        self.concluding = False

    @property
    def origin(self) -> L1BlockRef:
        return self.prev.prev.origin

    def next_attributes(self, parent: L2BlockRef) -> AttributesWithParent:
        if self.batch is None:
            self.batch, self.concluding = self.prev.next_batch(parent)
        batch = self.batch
        if batch.parent_hash != parent.hash:
            self.batch = None
            raise ResetError(f"valid batch has parent {batch.parent_hash.hex()[:12]}, expected {parent.hash.hex()[:12]}")
        if batch.timestamp != parent.time + self.builder.cfg.block_time:
            self.batch = None
            raise ResetError(f"valid batch has timestamp {batch.timestamp}, expected "
                             f"{parent.time + self.builder.cfg.block_time}")
        attrs = self.builder.prepare(parent, BlockID(batch.epoch_hash, batch.epoch_num))  # NeedData keeps the batch
        attrs = dataclasses.replace(attrs, transactions=attrs.transactions + tuple(batch.transactions))
        out = AttributesWithParent(attrs, parent, self.origin, self.concluding)
        self.batch = None
        self.concluding = False
        return out

    def reset(self) -> None:
        self.batch = None
        self.concluding = False
