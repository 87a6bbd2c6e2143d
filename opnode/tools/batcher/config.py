"""Settings of ``opnode batcher`` (flag names follow op-batcher where it has the same setting)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from derivation.protocol.errors import ParseError
from derivation.protocol.frames import FRAME_V0_OVERHEAD
from derivation.protocol.hexutil import from_hex
from derivation.protocol.l1_chain_config import L1ChainConfig
from opnode.tools.batcher.channel_out import MAX_BLOB_FRAME_SIZE
from opnode.tools.batcher.faults import FaultPlan
from opnode.tools.batcher.txmgr import DEFAULT_L1_CHAIN

DA_MODES = ("calldata", "blobs", "auto")


class BatcherConfigError(ValueError):
    """A batcher setting that cannot be used (reported as a one-line CLI error)."""


def parse_private_key(value: str) -> bytes:
    """A private key as hex (``0x…``, 64 digits) or the path of a file holding it."""
    text = value.strip()
    if not text.removeprefix("0x").removeprefix("0X").isalnum() or len(text.removeprefix("0x")) != 64:
        path = Path(text)
        if not path.is_file():
            raise BatcherConfigError("private key must be 32 bytes of hex or a file containing them")
        text = path.read_text().strip()
    try:
        key = from_hex(text if text.startswith(("0x", "0X")) else "0x" + text, 32)
    except ParseError:
        raise BatcherConfigError("private key must be 32 bytes of hex (file or value)") from None
    if not 0 < int.from_bytes(key, "big") < 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141:
        raise BatcherConfigError("private key is not a valid secp256k1 key")
    return key


@dataclass(frozen=True, slots=True)
class BatcherConfig:
    l1_rpc: str  # --l1-eth-rpc
    l2_rpc: str  # --l2-eth-rpc: the sequencer's execution client
    rollup_rpc: str  # --rollup-rpc: the sequencer's rollup node (optimism_syncStatus, optimism_rollupConfig)
    keys: tuple[bytes, ...]  # --private-key (repeatable): the batcher keys it may sign with (see l1_view)
    da: str = "auto"  # --data-availability-type
    max_channel_duration: int = 2  # --max-channel-duration (L1 blocks; 0 = post every poll)
    max_frame_size: int = 120_000 - 1  # --max-frame-size for calldata (blobs: at most 130,043)
    max_channel_bytes: int = 500_000  # batch bytes that close a channel before its duration is up
    blobs_per_tx: int = 6  # --target-num-frames for blob transactions
    max_pending_tx: int = 4  # --max-pending-tx
    num_confirmations: int = 3  # --num-confirmations: L1 depth after which a posted channel is forgotten
    poll_interval: float = 0.5  # --poll-interval (seconds)
    resubmit_after: float = 12.0  # --resubmission-timeout (seconds)
    l1_chain: L1ChainConfig | None = None  # --l1.chain-config: the L1's blob schedule (default: Prague's)
    faults: FaultPlan | None = None  # --faults
    events_path: str | None = None  # --log.events: JSON lines
    rollup_config_path: str | None = None  # --rollup-config: instead of optimism_rollupConfig

    def __post_init__(self):
        if self.da not in DA_MODES:
            raise BatcherConfigError(f"--data-availability-type must be one of {', '.join(DA_MODES)}")
        if not self.keys:
            raise BatcherConfigError("a batcher needs --private-key")
        if not FRAME_V0_OVERHEAD < self.max_frame_size:
            raise BatcherConfigError(f"--max-frame-size must exceed {FRAME_V0_OVERHEAD} bytes")
        if self.da == "blobs" and self.max_frame_size < 1000:
            raise BatcherConfigError("--max-frame-size is too small for blobs")
        if self.max_channel_duration < 0 or self.max_pending_tx < 1 or self.num_confirmations < 0:
            raise BatcherConfigError("channel duration, pending tx and confirmations must not be negative "
                                     "(and at least one pending tx)")
        if not 1 <= self.blobs_per_tx <= 9:
            raise BatcherConfigError("--target-num-frames must be between 1 and 9 for blobs")

    @property
    def blob_frame_size(self) -> int:
        return min(self.max_frame_size, MAX_BLOB_FRAME_SIZE)

    @property
    def l1_blob_schedule(self) -> L1ChainConfig:
        return self.l1_chain or DEFAULT_L1_CHAIN
