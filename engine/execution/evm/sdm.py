"""Sequencer-Defined Metering (Lagoon): where a block's per-transaction gas refunds come from.

A block either verifies refunds carried by its trailing post-exec transaction (:class:`SDMVerifier`: the refund is
taken from the payload as-is, sdm.md §Gas Refund Semantics) or, when the sequencer opted in, produces them
(:class:`SDMProducer`). What the executor does with a refund ``r`` is the same in both cases (sdm.md §Canonical
Gas, §Settlement; alloy-op-evm ``post_exec_settlement_deltas``, index id 71291605217, 2026-11): receipts and the
header count ``evmGas - r``, the block gas limit admits on pre-refund gas, and fees are settled on the canonical gas.

Refund amounts are sequencer policy (sdm.md §Security Considerations: "the sequencer has complete freedom to
allocate refunds"); verifiers only bound them by ``evmGasUsed``. The producer here follows the block-warming idea of
op-reth's ``SDMWarmingInspector`` (alloy-op-evm ``post_exec/inspector.rs``, okx/optimism main 7573e762): an account
(2,500 gas) or storage slot (2,000 gas) that a transaction warms after an earlier transaction of the same block
already touched it is refunded, except what the transaction has warm anyway (sender, recipient, coinbase,
precompiles, its access list). It is a simplification of that inspector, not a copy: it counts warm marks, not
priced accesses, and caps the total at the transaction's EVM gas, which keeps every block it makes valid.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from derivation.protocol.post_exec import PostExecError, PostExecPayload, check_payload, sdm_payload

ACCOUNT_REWARM_REFUND = 2500
SLOT_REWARM_REFUND = 2000


class SDMError(PostExecError):
    """The block's post-exec payload does not fit the block (the block is invalid)."""


@dataclass(slots=True)
class SDMVerifier:
    """Refunds from a block's own post-exec payload, consumed as the transactions they name execute."""

    payload: PostExecPayload
    remaining: dict[int, int] = field(init=False)

    def __post_init__(self) -> None:
        check_payload(self.payload)
        self.remaining = self.payload.refunds()

    def refund(self, index: int, is_deposit: bool, evm_gas: int) -> int:
        r = self.remaining.pop(index, 0)
        if r and is_deposit:
            raise SDMError(f"payload entry targets deposit tx index {index}")
        if r > evm_gas:
            raise SDMError(f"payload refund {r} exceeds evm_gas_used {evm_gas} for tx index {index}")
        return r

    def check_post_exec(self, index: int, payload: PostExecPayload) -> None:
        if payload != self.payload:
            raise SDMError(f"post-exec tx payload mismatch at index {index}")
        if self.remaining:
            raise SDMError(f"{len(self.remaining)} unconsumed post-exec payload entries for tx indexes "
                           f"{sorted(self.remaining)}")


@dataclass(slots=True)
class SDMProducer:
    """Block-warming refunds for the sequencer's own blocks (see the module docstring)."""

    refunds: dict[int, int] = field(default_factory=dict)
    warm_accounts: set = field(default_factory=set)
    warm_slots: set = field(default_factory=set)
    _tx_accounts: set = field(default_factory=set)
    _tx_slots: set = field(default_factory=set)

    def attach(self, state) -> None:
        """Record every account and slot the block's EVM warms (py-evm marks each one once per transaction)."""
        mark_address, mark_storage = state.mark_address_warm, state.mark_storage_warm

        def mark_address_warm(address):
            self._tx_accounts.add(bytes(address))
            return mark_address(address)

        def mark_storage_warm(address, slot):
            self._tx_slots.add((bytes(address), slot))
            return mark_storage(address, slot)

        state.mark_address_warm = mark_address_warm
        state.mark_storage_warm = mark_storage_warm

    def begin(self) -> None:
        self._tx_accounts = set()
        self._tx_slots = set()

    def finish(self, index: int, claims: bool, evm_gas: int, intrinsic_accounts, intrinsic_slots) -> int:
        """Close transaction ``index``; deposits (``claims=False``) warm for later transactions but claim none."""
        accounts = self._tx_accounts - set(intrinsic_accounts)
        slots = self._tx_slots - set(intrinsic_slots)
        refund = 0
        if claims:
            refund = (ACCOUNT_REWARM_REFUND * len(accounts & self.warm_accounts)
                      + SLOT_REWARM_REFUND * len(slots & self.warm_slots))
            refund = min(refund, evm_gas)
        self.warm_accounts |= self._tx_accounts | set(intrinsic_accounts)
        self.warm_slots |= self._tx_slots | set(intrinsic_slots)
        if refund:
            self.refunds[index] = refund
        return refund

    def payload(self, block_number: int) -> PostExecPayload | None:
        return sdm_payload(block_number, self.refunds) if self.refunds else None
