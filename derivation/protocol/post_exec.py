"""The Lagoon post-execution transaction (type ``0x7D``) and its SDM payload: codec and validity rules (pure).

Encoding (specs lagoon/post-exec.md §Encoding, lagoon/sdm.md §Payload Schema, index @8b965fb3): the type byte
followed directly by the payload's RLP list, no outer wrapper::

    0x7D || RLP([version, blockNumber, [[index, gasRefund], ...]])

``version`` is a uint8 and must be 1 (op-alloy ``PostExecPayload::decode_checked`` rejects any other version while
decoding; op-alloy ``consensus/src/post_exec.rs`` in okx/optimism main 7573e762, 2026-06-30); ``blockNumber``,
``index`` and ``gasRefund`` are uint64. The hash is ``keccak256`` of the full EIP-2718 bytes. The transaction has no
nonce, gas, recipient, value or signature; its sender is the zero address. Decoding is strict: canonical RLP, exact
field counts and no trailing bytes (op-alloy decodes with ``decode_2718_exact``).

Validity (any violation invalidates the block):

- envelope (post-exec.md §Block-Level Structural Rules): at most one per block, the last transaction, ``blockNumber``
  equal to the block's number, a defined schema version, and only when a schema is active (from Lagoon);
- SDM version 1 (sdm.md §Validity Rules): entries non-empty, every ``gasRefund > 0``, strictly increasing ``index``,
  each ``index`` pointing at a standard (non-deposit, non-post-exec) transaction of the block.
"""

from __future__ import annotations

from dataclasses import dataclass

from derivation.protocol import rlp
from derivation.protocol.crypto import keccak256
from derivation.protocol.errors import ParseError

POST_EXEC = 0x7D
SDM_VERSION = 1
SUPPORTED_VERSIONS = (SDM_VERSION,)
SENDER = bytes(20)


class PostExecError(ParseError):
    """A post-exec transaction or payload breaks the codec or a validity rule."""


@dataclass(frozen=True, slots=True)
class SDMGasEntry:
    index: int
    gas_refund: int


@dataclass(frozen=True, slots=True)
class PostExecPayload:
    version: int
    block_number: int
    entries: tuple[SDMGasEntry, ...]

    def encode(self) -> bytes:
        """The payload's RLP list (the transaction's ``input``)."""
        return rlp.encode([self.version, self.block_number, [[e.index, e.gas_refund] for e in self.entries]])

    def tx_bytes(self) -> bytes:
        """The EIP-2718 encoding of the post-exec transaction carrying this payload."""
        return bytes((POST_EXEC,)) + self.encode()

    @property
    def tx_hash(self) -> bytes:
        return keccak256(self.tx_bytes())

    def refunds(self) -> dict[int, int]:
        return {e.index: e.gas_refund for e in self.entries}


def sdm_payload(block_number: int, refunds: dict[int, int]) -> PostExecPayload:
    """The version-1 payload a producer appends for the non-zero ``refunds`` (tx index -> gas), in index order."""
    return PostExecPayload(SDM_VERSION, block_number,
                           tuple(SDMGasEntry(i, r) for i, r in sorted(refunds.items()) if r > 0))


def decode_payload(data: bytes) -> PostExecPayload:
    """Decode the payload RLP (``data`` must hold exactly one list)."""
    try:
        f = rlp.decode_list(data, 3)
        version = rlp.decode_uint(f[0], 8)
        if version not in SUPPORTED_VERSIONS:
            raise PostExecError(f"unsupported post-exec payload version {version}")
        number = rlp.decode_uint(f[1], 64)
        if not isinstance(f[2], list):
            raise PostExecError("post-exec gas refund entries must be a list")
        entries = []
        for e in f[2]:
            if not isinstance(e, list) or len(e) != 2:
                raise PostExecError("post-exec gas refund entry must be [index, gasRefund]")
            entries.append(SDMGasEntry(rlp.decode_uint(e[0], 64), rlp.decode_uint(e[1], 64)))
    except rlp.RLPError as e:
        raise PostExecError(f"malformed post-exec payload: {e}") from None
    return PostExecPayload(version, number, tuple(entries))


def decode(raw: bytes) -> PostExecPayload:
    """Decode a ``0x7D`` EIP-2718 transaction into its payload."""
    raw = bytes(raw)
    if not raw or raw[0] != POST_EXEC:
        raise PostExecError("not a post-exec transaction (type byte must be 0x7d)")
    return decode_payload(raw[1:])


def check_payload(p: PostExecPayload) -> None:
    """The SDM version-1 rules on the payload alone: non-empty, refunds > 0, strictly increasing indices."""
    if not p.entries:
        raise PostExecError("post-exec payload has no gas refund entries")
    prev = -1
    for e in p.entries:
        if e.gas_refund == 0:
            raise PostExecError(f"zero post-exec payload refund for tx index {e.index}")
        if e.index <= prev:
            raise PostExecError(f"post-exec payload indices not strictly increasing at tx index {e.index}")
        prev = e.index


def check_block(tx_types: list[int], payloads: dict[int, PostExecPayload], block_number: int,
                lagoon: bool) -> PostExecPayload | None:
    """The envelope and SDM rules over a whole block: ``tx_types`` are the type bytes in order and ``payloads``
    the decoded post-exec payloads by position. Returns the block's payload, or None when it has none."""
    positions = [i for i, t in enumerate(tx_types) if t == POST_EXEC]
    if not positions:
        return None
    if not lagoon:
        raise PostExecError(f"unexpected post-exec transaction at index {positions[0]}: SDM not active for this block")
    if len(positions) > 1:
        raise PostExecError(f"multiple post-exec transactions: first at index {positions[0]}, duplicate at index "
                            f"{positions[1]}")
    at = positions[0]
    if at != len(tx_types) - 1:
        raise PostExecError(f"post-exec transaction at index {at} must be the final transaction; final index is "
                            f"{len(tx_types) - 1}")
    p = payloads[at]
    if p.block_number != block_number:
        raise PostExecError(f"payload block number {p.block_number} does not match block number {block_number}")
    check_payload(p)
    for e in p.entries:
        if e.index >= at:
            raise PostExecError(f"post-exec payload entry targets tx index {e.index}, not a transaction before the "
                                f"post-exec transaction")
        if tx_types[e.index] == 0x7E:
            raise PostExecError(f"payload entry targets deposit tx index {e.index}")
    return p
