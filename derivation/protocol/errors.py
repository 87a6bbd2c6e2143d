"""Error types of derivation. Each class tells the caller what to do next.

- ``ParseError``: the input bytes are malformed; the spec says to drop them (the caller knows what "them" is).
- ``TemporaryError``: data is missing or a dependency failed; retry the same step later.
- ``ResetError``: the pipeline's view is inconsistent with L1/L2 (reorg); reset derivation.
- ``CriticalError``: derivation cannot continue safely (op-node halts); a human must look.
"""


class DerivationError(Exception):
    """Base of every error raised by ``derivation``."""


class ParseError(DerivationError, ValueError):
    """Malformed input: a frame, channel, batch, blob, log or transaction that the rules reject."""


class TemporaryError(DerivationError):
    """Retry later: data not available yet, or a transient failure."""


class ResetError(DerivationError):
    """The derivation state must be reset (L1 reorg, inconsistent heads)."""


class CriticalError(DerivationError):
    """Unrecoverable: continuing would risk deriving a wrong chain."""


def drop_message(e: Exception) -> str:
    """Why a decoder refused an input, for its drop: a ParseError's own text; any other exception is a decoder bug
    and is named by its type, so it reaches logs and metrics but costs only the input that raised it (never the
    node: one batcher transaction must not halt every deriving node)."""
    return str(e) if isinstance(e, ParseError) else f"unexpected {type(e).__name__} in decoder: {e}"
