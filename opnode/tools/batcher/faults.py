"""``opnode batcher --faults``: misbehave on purpose, deterministically, so that the devnet shows derivation dropping
bad data and still converging.

One channel in every ``every`` is faulty; the faulty ones cycle through ``kinds`` in order, so a run with the same
options posts the same faults at the same channel indexes (garbage bytes come from ``Random(seed, channel index)``).

=================  ================================================================  =================================
kind               what is posted                                                      the chain's data
=================  ================================================================  =================================
garbage_frame      a batcher tx of random bytes behind version byte 0, then the       the channel derives
                   channel as usual
duplicate_frame    frame 0 is posted twice, in the same data item                      the channel derives
reordered_frames   the channel cut into two frames or more, the first two swapped      reposted (Holocene drops
                                                                                       out-of-order frames)
channel_timeout    every frame but the last; nothing else is posted until the          reposted after the timeout
                   channel has timed out on L1 (CHANNEL_TIMEOUT L1 blocks later)
invalid_batch      singular batches, the first with a wrong parent hash                reposted
=================  ================================================================  =================================

A channel whose data does not (or, before Holocene, may not) derive is *sacrificial*: its blocks go back to the
front of the queue and the next channel carries them, so the sources converge on the sequencer's chain. What
derivation reports for each fault is listed in :data:`EXPECTED_DROPS` (a duplicate frame, for instance, is a
rejected frame, or a channel read a second time whose batches are already safe, depending on when the pipeline
reads the channel).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import Enum

from opnode.tools.batcher.fault_variants import garbage_payload


class FaultKind(str, Enum):
    GARBAGE = "garbage_frame"
    DUPLICATE = "duplicate_frame"
    REORDER = "reordered_frames"
    TIMEOUT = "channel_timeout"
    INVALID = "invalid_batch"


ALL_FAULTS = tuple(FaultKind)
SACRIFICIAL = frozenset({FaultKind.REORDER, FaultKind.TIMEOUT, FaultKind.INVALID})
NEEDS_TWO_FRAMES = frozenset({FaultKind.REORDER, FaultKind.TIMEOUT})

# Drop reasons (derivation.events.DropReason values) derivation may report for each fault, pre- and post-Holocene.
EXPECTED_DROPS: dict[FaultKind, frozenset[str]] = {
    FaultKind.GARBAGE: frozenset({"invalid_batcher_tx_data"}),
    FaultKind.DUPLICATE: frozenset({"frame_rejected", "frame_out_of_order", "channel_replaced", "past_timestamp",
                                    "span_batch_no_new_blocks"}),
    FaultKind.REORDER: frozenset({"frame_without_channel", "frame_out_of_order", "frame_rejected", "channel_replaced",
                                  "past_timestamp", "span_batch_no_new_blocks"}),
    FaultKind.TIMEOUT: frozenset({"channel_timeout", "frame_for_timed_out_channel"}),
    FaultKind.INVALID: frozenset({"parent_hash_mismatch"}),
}


def parse_kinds(text: str) -> tuple[FaultKind, ...]:
    """``all`` or a comma-separated list of kinds (``garbage_frame,channel_timeout``; short forms without the
    suffix are accepted: ``garbage,duplicate,reordered,timeout,invalid``)."""
    text = text.strip().lower()
    if text in ("", "all"):
        return ALL_FAULTS
    out = []
    for part in text.split(","):
        part = part.strip()
        match = [k for k in FaultKind if k.value == part or k.value.startswith(part + "_") or k.value.endswith(
            "_" + part)]
        if len(match) != 1:
            raise ValueError(f"unknown fault kind {part!r} (one of: {', '.join(k.value for k in FaultKind)})")
        out.append(match[0])
    return tuple(dict.fromkeys(out))


@dataclass(frozen=True, slots=True)
class FaultPlan:
    kinds: tuple[FaultKind, ...] = ALL_FAULTS
    every: int = 3
    seed: int = 0

    def __post_init__(self):
        if self.every < 2:
            # a sacrificial channel's blocks go into the next channel, which must not be faulty itself
            raise ValueError("faults: at most one channel in two can be faulty (every >= 2)")

    def fault_for(self, channel_index: int) -> FaultKind | None:
        """The fault of the ``channel_index``-th channel (0-based, counting every channel the batcher built)."""
        if not self.kinds or channel_index % self.every != self.every - 1:
            return None
        return self.kinds[(channel_index // self.every) % len(self.kinds)]

    def garbage(self, channel_index: int) -> bytes:
        return garbage_payload(random.Random(f"{self.seed}:{channel_index}"), 200)
