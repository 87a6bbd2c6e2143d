"""What applying one transaction yields (:class:`~engine.execution.evm.executor.BlockExecutor`): a
:class:`TxResult`, or an :class:`InvalidTransaction` when the transaction cannot be included in the block."""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.execution.evm.receipts import Receipt


class InvalidTransaction(Exception):
    """The transaction cannot be included in this block (a consensus error, not an EVM failure)."""


class GasLimitReached(InvalidTransaction):
    """The block has not enough gas left for the transaction's gas limit."""


class DAFootprintLimitReached(GasLimitReached):
    """Jovian: the transaction's DA footprint does not fit what the block has left."""


class InvalidPostExec(InvalidTransaction):
    """The post-exec transaction or the SDM refunds break a block validity rule."""


@dataclass(slots=True)
class TxResult:
    receipt: Receipt
    gas_used: int
    contract_address: bytes | None = None
    error: str | None = None
    return_data: bytes = b""
    l1_fee: int | None = None
    da_footprint: int = 0
    extra: dict = field(default_factory=dict)
    evm_gas_used: int | None = None  # before the SDM refund, when there is one
