"""What the pipeline did, as values: every frame, channel and batch, and every drop with its reason.

The pipeline hands events to an observer (a callable). The node turns them into logs and metrics, replay into its
per-L1-block explanation, tests into assertions. Derivation itself never logs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from derivation.protocol.jsonutil import JSONObject
from derivation.protocol.types import L1BlockRef


class DropReason(Enum):
    # L1 data
    INVALID_BATCHER_TX_DATA = "invalid_batcher_tx_data"
    MALFORMED_CONFIG_UPDATE = "malformed_config_update"
    INVALID_BLOB = "invalid_blob"
    # frames (Holocene frame queue and channel stages)
    FRAME_REJECTED = "frame_rejected"
    FRAME_OUT_OF_ORDER = "frame_out_of_order"
    FRAME_WITHOUT_CHANNEL = "frame_without_channel"
    CHANNEL_TIMED_OUT_FRAME = "frame_for_timed_out_channel"
    # channels
    CHANNEL_TIMEOUT = "channel_timeout"
    CHANNEL_PRUNED = "channel_pruned"
    CHANNEL_OVERSIZED = "channel_oversized"
    CHANNEL_REPLACED = "channel_replaced"
    CHANNEL_INVALID = "channel_invalid"
    CHANNEL_FLUSHED = "channel_flushed"
    HOLOCENE_ACTIVATION = "holocene_activation"
    # batches
    BATCH_UNDECODABLE = "batch_undecodable"
    SPAN_BATCH_BEFORE_DELTA = "span_batch_before_delta"
    FUTURE_TIMESTAMP = "future_timestamp"
    PAST_TIMESTAMP = "past_timestamp"
    PARENT_HASH_MISMATCH = "parent_hash_mismatch"
    INCLUDED_TOO_LATE = "included_too_late"
    EPOCH_TOO_OLD = "epoch_too_old"
    EPOCH_TOO_FAR_IN_FUTURE = "epoch_too_far_in_future"
    EPOCH_HASH_MISMATCH = "epoch_hash_mismatch"
    TIMESTAMP_BEFORE_L1_ORIGIN = "timestamp_before_l1_origin"
    SEQUENCER_DRIFT_EXCEEDED = "sequencer_drift_exceeded"
    SEQUENCER_DRIFT_NOT_ADOPTED_NEXT_ORIGIN = "sequencer_drift_not_adopted_next_origin"
    NON_EMPTY_ACTIVATION_BLOCK = "non_empty_activation_block"
    EMPTY_TRANSACTION = "empty_transaction"
    DEPOSIT_TRANSACTION = "deposit_transaction"
    SET_CODE_BEFORE_ISTHMUS = "set_code_before_isthmus"
    POST_EXEC_BEFORE_LAGOON = "post_exec_before_lagoon"
    SPAN_MISALIGNED_TIMESTAMP = "span_batch_misaligned_timestamp"
    SPAN_NOT_OVERLAPPED_EXACTLY = "span_batch_not_overlapped_exactly"
    SPAN_NO_NEW_BLOCKS = "span_batch_no_new_blocks"
    L1_ORIGIN_BEFORE_SAFE_HEAD = "l1_origin_before_safe_head"
    MISSING_L1_ORIGIN = "missing_l1_origin"
    OVERLAPPED_TX_COUNT_MISMATCH = "overlapped_tx_count_mismatch"
    OVERLAPPED_TX_MISMATCH = "overlapped_tx_mismatch"
    OVERLAPPED_L1_ORIGIN_MISMATCH = "overlapped_l1_origin_mismatch"
    SPAN_REMAINDER_FLUSHED = "span_remainder_flushed"
    SPAN_CACHE_MISMATCH = "span_cache_parent_mismatch"
    ORIGIN_BEHIND = "origin_behind_safe_head"


@dataclass(frozen=True, slots=True)
class Event:
    l1: L1BlockRef  # the pipeline's L1 origin when it happened


@dataclass(frozen=True, slots=True)
class OriginAdvanced(Event):
    pass


@dataclass(frozen=True, slots=True)
class SystemConfigChanged(Event):
    what: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FramesRead(Event):
    tx_index: int  # index of the data item in the L1 block (calldata tx or blob)
    frames: tuple[tuple[bytes, int, int, bool], ...]  # (channel id, number, data length, is_last)


@dataclass(frozen=True, slots=True)
class ChannelReady(Event):
    channel_id: bytes
    frames: int
    size: int  # compressed bytes
    opened_at: int  # L1 block number the channel was opened in


@dataclass(frozen=True, slots=True)
class BatchRead(Event):
    batch_type: str  # "singular" | "span"
    timestamp: int
    blocks: int
    txs: int
    size: int
    channel_id: bytes = b""
    compression: str = ""


@dataclass(frozen=True, slots=True)
class BatchAccepted(Event):
    timestamp: int
    epoch_num: int
    txs: int
    from_span: bool


@dataclass(frozen=True, slots=True)
class EmptyBatchGenerated(Event):
    timestamp: int
    epoch_num: int


@dataclass(frozen=True, slots=True)
class Dropped(Event):
    """Something was dropped. ``what`` is "data", "frame", "channel", "batch" or "config_update" (a malformed
    SystemConfig update, skipped)."""

    what: str
    reason: DropReason
    message: str
    detail: JSONObject = field(default_factory=dict, compare=False)


@dataclass(frozen=True, slots=True)
class PipelineReset(Event):
    reason: str
