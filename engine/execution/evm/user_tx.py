"""Applying a user transaction (op-geth ``core/state_transition.go``): geth's checks (nonce, fee caps, intrinsic gas
and the EIP-7623 floor, EIP-7702 authorizations), then the OP fee split: the tip goes to the block's fee recipient,
the base fee to BaseFeeVault instead of being burned, the L1 data fee to L1FeeVault and (Isthmus) the operator fee
to OperatorFeeVault (specs: exec-engine.md §Fees; isthmus/exec-engine.md §Operator Fee); Jovian's DA footprint.

A part of :class:`~engine.execution.evm.executor.BlockExecutor` (it runs on the executor's state and helpers).
"""

from __future__ import annotations

from eth._utils.state import code_is_delegation_designation
from eth.vm.forks.prague.transactions import Authorization

from derivation.protocol.errors import ParseError
from derivation.protocol.predeploys import BASE_FEE_VAULT, L1_FEE_VAULT, OPERATOR_FEE_VAULT
from derivation.protocol.transactions import BLOB, LEGACY, SET_CODE, Transaction
from engine.execution.evm.fees import CostData, da_footprint
from engine.execution.evm.gas import MAX_INITCODE_SIZE, floor_data_gas, intrinsic_gas, max_tx_gas_error
from engine.execution.evm.outcome import DAFootprintLimitReached, GasLimitReached, InvalidTransaction, TxResult


class UserTxExecution:
    def _check_user(self, tx: Transaction) -> bytes:
        if tx.type == BLOB:
            raise InvalidTransaction("blob transactions are not supported on L2")
        if tx.type == SET_CODE:
            if not self.rules.prague:
                raise InvalidTransaction("set-code transactions are not supported before Isthmus")
            if not tx.authorization_list:
                raise InvalidTransaction("set-code transaction with an empty authorization list")
        if tx.type != LEGACY and tx.chain_id != self.spec.chain_id:
            raise InvalidTransaction(f"invalid chain id {tx.chain_id}")
        if tx.type == LEGACY and tx.chain_id is not None and tx.chain_id != self.spec.chain_id:
            raise InvalidTransaction(f"invalid chain id {tx.chain_id}")
        try:
            return tx.sender()
        except ParseError as e:
            raise InvalidTransaction(f"invalid signature: {e}") from None

    def _apply_user(self, tx: Transaction) -> TxResult:
        """A user transaction: validated (``_validate_user``), its gas bought, the message run, the gas settled."""
        st = self.state
        env = self.env
        cost_data = CostData.of(tx.raw)
        footprint = self._da_footprint_of(tx, cost_data)
        sender, nonce, fee_cap, tip_cap = self._validate_user(tx)
        is_create = tx.to is None
        auths = tx.authorization_list if tx.type == SET_CODE else []
        need = intrinsic_gas(tx.data, is_create, tx.access_list, len(auths), self.rules.shanghai)
        if tx.gas < need:
            raise InvalidTransaction(f"intrinsic gas too low: have {tx.gas}, want {need}")
        floor = floor_data_gas(tx.data) if self.rules.prague else 0
        if tx.gas < floor:
            raise InvalidTransaction(f"insufficient gas for floor data gas cost: have {tx.gas}, want {floor}")
        if tx.gas > self.gas_pool:
            raise GasLimitReached(f"gas limit reached: tx gas {tx.gas}, block has {self.gas_pool} left")
        if self.rules.shanghai and is_create and len(tx.data) > MAX_INITCODE_SIZE:
            raise InvalidTransaction("max initcode size exceeded")
        price = min(fee_cap, env.base_fee + tip_cap)
        l1_fee = self.l1_fee_params().l1_cost(cost_data)
        op_fee_max = self._operator_fee(tx.gas)
        balance = st.get_balance(sender)
        if balance < tx.gas * fee_cap + tx.value + l1_fee + op_fee_max:
            raise InvalidTransaction(f"insufficient funds for gas * price + value: address 0x{sender.hex()} "
                                     f"have {balance} want {tx.gas * fee_cap + tx.value + l1_fee + op_fee_max}")
        st.delta_balance(sender, -(tx.gas * price + l1_fee + op_fee_max))
        st.increment_nonce(sender)
        self._sdm_begin()
        refund = 0
        if auths:
            refund = st.process_set_code_authorizations(_Auths(auths))
        msg, created = self._message(sender, tx.to, tx.value, tx.data, tx.gas - need + self._initcode_gas(tx), nonce,
                                     refund)
        comp = self._run(msg, sender, price, tx.access_list)
        used = tx.gas - comp.get_gas_remaining()
        evm_gas = max(used - min(comp.get_gas_refund(), used // 5), floor)
        sdm_refund = self._sdm_refund(tx, evm_gas, sender)
        # Fees are paid on the canonical gas: the same balances as sdm.md §Settlement's pay-then-debit, whose
        # debits cannot underflow once the refund is at most the EVM gas (checked above).
        gas_used = evm_gas - sdm_refund
        self._settle(tx, sender, gas_used, price, l1_fee, op_fee_max)
        self._finish(comp)
        self.gas_pool -= evm_gas
        self.da_footprint += footprint
        receipt = self._receipt(tx, 0 if comp.is_error else 1, gas_used, self._logs(comp))
        extra = self._receipt_fields(cost_data, price, l1_fee, footprint, sdm_refund)
        return TxResult(receipt, gas_used, created if comp.is_success else None,
                        None if comp.is_success else str(comp._error), bytes(comp.output), l1_fee, footprint, extra,
                        evm_gas if sdm_refund else None)

    def _da_footprint_of(self, tx: Transaction, cost_data: CostData) -> int:
        """Osaka's per-transaction gas cap, and Jovian's DA footprint against what the block has left."""
        if self.rules.osaka and (err := max_tx_gas_error(tx.gas)):
            raise InvalidTransaction(err)
        if not self.jovian:
            return 0
        footprint = da_footprint(cost_data.fastlz_size, self.l1_fee_params().da_footprint_gas_scalar)
        left = self.env.gas_limit - self.da_footprint
        if footprint > left:
            raise DAFootprintLimitReached(
                f"transaction DA footprint exceeds available block DA footprint. transaction_da_footprint: "
                f"{footprint}, available_block_da_footprint: {left}")
        return footprint

    def _validate_user(self, tx: Transaction) -> tuple[bytes, int, int, int]:
        """Sender, nonce and fee caps of a user transaction, with geth's refusals (state_transition preCheck)."""
        st = self.state
        sender = self._check_user(tx)
        nonce = st.get_nonce(sender)
        if tx.nonce != nonce:
            raise InvalidTransaction(f"nonce {'too high' if tx.nonce > nonce else 'too low'}: address "
                                     f"0x{sender.hex()}, tx: {tx.nonce} state: {nonce}")
        if nonce >= 2**64 - 1:
            raise InvalidTransaction("nonce has max value")
        code = st.get_code(sender)
        if code and not (self.rules.prague and code_is_delegation_designation(code)):
            raise InvalidTransaction(f"sender not an eoa: address 0x{sender.hex()}")
        if tx.type in (LEGACY, 1):
            fee_cap = tip_cap = tx.gas_price
        else:
            fee_cap, tip_cap = tx.max_fee_per_gas, tx.max_priority_fee_per_gas
            if fee_cap < tip_cap:
                raise InvalidTransaction("max priority fee per gas higher than max fee per gas")
        if fee_cap < self.env.base_fee:
            raise InvalidTransaction(f"max fee per gas less than block base fee: maxFeePerGas: {fee_cap}, "
                                     f"baseFee: {self.env.base_fee}")
        return sender, nonce, fee_cap, tip_cap

    def _settle(self, tx: Transaction, sender: bytes, gas_used: int, price: int, l1_fee: int, op_fee_max: int) -> None:
        """Return unused gas and operator fee to the sender; pay the coinbase tip and the three fee vaults."""
        st, env = self.state, self.env
        st.delta_balance(sender, (tx.gas - gas_used) * price)
        op_fee = 0
        if op_fee_max:
            op_fee = self._operator_fee(gas_used)
            st.delta_balance(sender, op_fee_max - op_fee)
        st.delta_balance(env.coinbase, gas_used * (price - env.base_fee))
        st.delta_balance(BASE_FEE_VAULT, gas_used * env.base_fee)
        st.delta_balance(L1_FEE_VAULT, l1_fee)
        if self.isthmus:
            st.delta_balance(OPERATOR_FEE_VAULT, op_fee)

    def _receipt_fields(self, cost_data: CostData, price: int, l1_fee: int, footprint: int, sdm_refund: int) -> dict:
        """The OP receipt fields op-geth adds for the fork in force (L1 fee, operator fee, DA footprint, SDM refund)."""
        p = self.l1_fee_params()
        extra = {"effectiveGasPrice": price, "l1Fee": l1_fee, "l1BaseFee": p.l1_base_fee,
                 "l1GasUsed": p.l1_gas_used(cost_data)}
        if p.kind == "bedrock":
            extra.update(l1FeeScalar=p.scalar)
        else:
            extra.update(l1BlobBaseFee=p.blob_base_fee, l1BaseFeeScalar=p.base_fee_scalar,
                         l1BlobBaseFeeScalar=p.blob_base_fee_scalar)
        if self.isthmus and (p.operator_fee_scalar or p.operator_fee_constant):
            extra.update(operatorFeeScalar=p.operator_fee_scalar, operatorFeeConstant=p.operator_fee_constant)
        if self.jovian:
            extra.update(daFootprintGasScalar=p.da_footprint_gas_scalar, blobGasUsed=footprint)
        if sdm_refund:
            extra.update(opGasRefund=sdm_refund)
        return extra


class _Auths:
    """Adapter: py-evm's authorization processing reads ``transaction.authorization_list`` of its own objects."""

    def __init__(self, auths):
        self.authorization_list = [
            Authorization(int.from_bytes(a[0], "big"), bytes(a[1]), int.from_bytes(a[2], "big"),
                          int.from_bytes(a[3], "big"), int.from_bytes(a[4], "big"), int.from_bytes(a[5], "big"))
            for a in auths]
