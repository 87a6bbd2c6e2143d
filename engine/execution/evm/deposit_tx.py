"""Applying a deposit transaction (specs: deposits.md §Execution; op-geth ``core/state_transition.go``): ``mint`` is
credited first and kept whatever happens; no fee is charged and nothing is paid to any vault; a deposit that cannot
be executed (not enough balance for ``value``, intrinsic gas above its limit, a system deposit after Regolith) is
still included as failed: state rolls back to just after the mint, the sender's nonce is bumped and it is recorded
as using its whole gas limit. Before Regolith a deposit reports ``gasLimit`` gas used (0 for a system transaction);
from Regolith the real gas used, refunds included. The receipt records the sender's nonce before execution from
Regolith (``depositNonce``) and the receipt version 1 from Canyon.

A part of :class:`~engine.execution.evm.executor.BlockExecutor` (it runs on the executor's state and helpers).
"""

from __future__ import annotations

from derivation.protocol.transactions import Transaction
from engine.execution.evm.gas import MAX_INITCODE_SIZE, floor_data_gas, intrinsic_gas
from engine.execution.evm.outcome import GasLimitReached, InvalidTransaction, TxResult


class DepositExecution:
    def _apply_deposit(self, tx: Transaction) -> TxResult:
        st = self.state
        sender = tx.from_
        is_system = tx.is_system_tx
        if not (is_system and not self.regolith) and tx.gas > self.gas_pool:
            raise GasLimitReached(f"deposit gas {tx.gas} exceeds the block's remaining gas {self.gas_pool}")
        if tx.mint:
            st.delta_balance(sender, tx.mint)
        nonce_before = st.get_nonce(sender)
        floor = floor_data_gas(tx.data) if self.rules.prague else 0
        snap = st.snapshot()
        failure = None
        comp = None
        created = None
        self._sdm_begin()
        try:
            if is_system and self.regolith:
                raise InvalidTransaction("system transactions are not supported after Regolith")
            need = intrinsic_gas(tx.data, tx.to is None, (), 0, self.rules.shanghai)
            if tx.gas < need:
                raise InvalidTransaction(f"intrinsic gas too low: have {tx.gas}, want {need}")
            if tx.gas < floor:
                raise InvalidTransaction(f"insufficient gas for floor data gas cost: have {tx.gas}, want {floor}")
            if tx.value and st.get_balance(sender) < tx.value:
                raise InvalidTransaction("insufficient funds for transfer")
            if self.rules.shanghai and tx.to is None and len(tx.data) > MAX_INITCODE_SIZE:
                raise InvalidTransaction("max initcode size exceeded")
            if tx.to is not None:
                st.increment_nonce(sender)
            msg, created = self._message(sender, tx.to, tx.value, tx.data, tx.gas - need + self._initcode_gas(tx),
                                         nonce_before)
            if tx.to is None:
                st.increment_nonce(sender)
            comp = self._run(msg, sender, 0)
        except InvalidTransaction as e:
            failure = str(e)
        if failure is not None:
            st.revert(snap)
            st.set_nonce(sender, st.get_nonce(sender) + 1)
            gas_used = 0 if (is_system and not self.regolith) else tx.gas
            receipt = self._receipt(tx, 0, gas_used, (), nonce_before if self.regolith else None)
            self.gas_pool -= gas_used
            return TxResult(receipt, gas_used, error=f"failed deposit: {failure}")
        st.commit(snap)
        self._finish(comp)
        if not self.regolith:
            gas_used = 0 if is_system else tx.gas
        else:
            used = tx.gas - comp.get_gas_remaining()
            gas_used = max(used - min(comp.get_gas_refund(), used // 5), floor)
        self._sdm_refund(tx, gas_used, sender)
        logs = self._logs(comp)
        self.gas_pool -= gas_used
        receipt = self._receipt(tx, 0 if comp.is_error else 1, gas_used, logs,
                                nonce_before if self.regolith else None)
        return TxResult(receipt, gas_used, created if comp.is_success else None,
                        None if comp.is_success else str(comp._error), bytes(comp.output))
