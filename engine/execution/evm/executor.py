"""Applying one transaction to a block's state, with the OP Stack rules (op-geth ``core/state_transition.go``).

User transactions follow geth (nonce, fee caps, intrinsic gas and the EIP-7623 floor, EIP-7702 authorizations) and
then the OP fee split: the tip goes to the block's fee recipient, the base fee to BaseFeeVault instead of being
burned, the L1 data fee to L1FeeVault and (Isthmus) the operator fee to OperatorFeeVault (specs: exec-engine.md
§Fees; isthmus/exec-engine.md §Operator Fee).

Deposits (specs: deposits.md §Execution): ``mint`` is credited first and kept whatever happens; no fee is charged
and nothing is paid to any vault; a deposit that cannot be executed (not enough balance for ``value``, intrinsic gas
above its limit, a system deposit after Regolith) is still included as failed: state rolls back to just after the
mint, the sender's nonce is bumped and it is recorded as using its whole gas limit. Before Regolith a deposit reports
``gasLimit`` gas used (0 for a system transaction); from Regolith the real gas used, refunds included. The receipt
records the sender's nonce before execution from Regolith (``depositNonce``) and the receipt version 1 from Canyon.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from eth._utils.address import generate_contract_address
from eth._utils.state import code_is_delegation_designation
from eth.exceptions import VMError
from eth.vm.execution_context import ExecutionContext
from eth.vm.forks.prague.transactions import Authorization
from eth.vm.forks.spurious_dragon._utils import collect_touched_accounts
from eth.vm.message import Message

from derivation.protocol.crypto import keccak256
from derivation.protocol.errors import ParseError
from derivation.protocol.post_exec import POST_EXEC
from derivation.protocol.predeploys import (
    BASE_FEE_VAULT,
    BEACON_ROOTS,
    HISTORY_STORAGE,
    L1_BLOCK,
    L1_FEE_VAULT,
    OPERATOR_FEE_VAULT,
)
from derivation.protocol.rollup_config import Fork
from derivation.protocol.transactions import BLOB, DEPOSIT, LEGACY, SET_CODE, Transaction
from engine.execution.chain_spec import ChainSpec
from engine.execution.evm.fees import CostData, L1FeeParams, da_footprint, operator_fee, read_l1_fee_params
from engine.execution.evm.forks import EVMRules, rules_for
from engine.execution.evm.gas import MAX_INITCODE_SIZE, floor_data_gas, intrinsic_gas, max_tx_gas_error
from engine.execution.evm.receipts import LogEntry, Receipt, logs_bloom
from engine.execution.evm.sdm import SDMError, SDMProducer, SDMVerifier

EMPTY_CODE_HASH = keccak256(b"")
CANYON_DEPOSIT_RECEIPT_VERSION = 1


class InvalidTransaction(Exception):
    """The transaction cannot be included in this block (a consensus error, not an EVM failure)."""


class GasLimitReached(InvalidTransaction):
    """The block has not enough gas left for the transaction's gas limit."""


class DAFootprintLimitReached(GasLimitReached):
    """Jovian: the transaction's DA footprint does not fit what the block has left."""


class InvalidPostExec(InvalidTransaction):
    """The post-exec transaction or the SDM refunds break a block validity rule."""


@dataclass(frozen=True, slots=True)
class BlockEnv:
    """What the EVM sees of the block being built or imported."""

    number: int
    timestamp: int
    coinbase: bytes
    gas_limit: int
    base_fee: int
    prev_randao: bytes
    chain_id: int
    prev_hashes: tuple[bytes, ...] = ()  # newest first, up to 256
    deposits_only: bool = False  # a fork-activation block from Jovian on


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


class BlockExecutor:
    """Owns one block's py-evm state while its transactions are applied, in order."""

    def __init__(self, spec: ChainSpec, db, parent_state_root: bytes, env: BlockEnv):
        self.spec = spec
        self.env = env
        self.fork = spec.fork_at(env.timestamp)
        self.rules: EVMRules = rules_for(self.fork)
        ctx = ExecutionContext(coinbase=env.coinbase, timestamp=env.timestamp, block_number=env.number,
                               difficulty=0, mix_hash=env.prev_randao, gas_limit=env.gas_limit,
                               prev_hashes=env.prev_hashes, chain_id=env.chain_id, base_fee_per_gas=env.base_fee,
                               excess_blob_gas=0 if self.rules.cancun else None)
        self.state = self.rules.state_class(db, ctx, parent_state_root)
        self.regolith = spec.is_active(Fork.REGOLITH, env.timestamp)
        self.canyon = spec.is_active(Fork.CANYON, env.timestamp)
        self.isthmus = spec.is_active(Fork.ISTHMUS, env.timestamp)
        self.jovian = spec.is_active(Fork.JOVIAN, env.timestamp)
        self.lagoon = spec.is_active(Fork.LAGOON, env.timestamp)
        self.gas_pool = env.gas_limit  # admission on pre-refund (EVM) gas under SDM
        self.cumulative_gas = 0  # canonical gas: the receipts' and the header's
        self.da_footprint = 0
        self.log_index = 0
        self.tx_index = 0
        self.sdm: SDMVerifier | SDMProducer | None = None
        self.post_exec_seen = False
        self._l1: L1FeeParams | None = None

    def verify_post_exec(self, payload) -> None:
        """Take SDM refunds from this block's post-exec payload (import, or attributes carrying one)."""
        try:
            self.sdm = SDMVerifier(payload)
        except ValueError as e:
            raise InvalidPostExec(str(e)) from None

    def produce_post_exec(self) -> SDMProducer:
        """The sequencer opted in: compute block-warming refunds as transactions run (Lagoon on)."""
        producer = SDMProducer()
        producer.attach(self.state)
        self.sdm = producer
        return producer

    # ------------------------------------------------------------------------------------------------ system

    def pre_block_system_calls(self, parent_hash: bytes, parent_beacon_root: bytes | None) -> None:
        """EIP-4788 beacon root and EIP-2935 parent hash, once their contracts are deployed.

        The system contracts only write these two storage slots, so the writes are applied directly (as py-evm
        does); when the contract is absent the call would do nothing.
        """
        st = self.state
        if self.rules.cancun and parent_beacon_root is not None and st.get_code(BEACON_ROOTS):
            t = self.env.timestamp
            st.set_storage(BEACON_ROOTS, t % 8191, t)
            st.set_storage(BEACON_ROOTS, t % 8191 + 8191, int.from_bytes(parent_beacon_root, "big"))
        if self.rules.prague and self.env.number > 0 and st.get_code(HISTORY_STORAGE):
            st.set_storage(HISTORY_STORAGE, (self.env.number - 1) % 8191, int.from_bytes(parent_hash, "big"))
        st.lock_changes()

    def set_code(self, address: bytes, code: bytes) -> None:
        self.state.set_code(address, code)
        self.state.lock_changes()

    # ------------------------------------------------------------------------------------------------ fees

    def l1_fee_params(self) -> L1FeeParams:
        """Read once per block, at the first user transaction (after the L1-info deposit updated L1Block)."""
        if self._l1 is None:
            t = self.env.timestamp
            self._l1 = read_l1_fee_params(lambda slot: self.state.get_storage(L1_BLOCK, slot),
                                          self.spec.is_active(Fork.ECOTONE, t), self.spec.is_active(Fork.FJORD, t),
                                          self.regolith, self.isthmus)
        return self._l1

    def _operator_fee(self, gas: int) -> int:
        if not self.isthmus:
            return 0
        p = self.l1_fee_params()
        if p.operator_fee_scalar == 0 and p.operator_fee_constant == 0:
            return 0
        return operator_fee(gas, p.operator_fee_scalar, p.operator_fee_constant, self.jovian)

    # ------------------------------------------------------------------------------------------------ apply

    def apply(self, tx: Transaction) -> TxResult:
        """Apply ``tx`` or raise :class:`InvalidTransaction` (state untouched by the failed attempt)."""
        if self.post_exec_seen:
            raise InvalidPostExec(f"post-exec transaction must be the final transaction; found tx {self.tx_index} "
                                  f"after it")
        if tx.type == POST_EXEC:
            res = self._apply_post_exec(tx)
        elif self.env.deposits_only and tx.type != DEPOSIT:
            raise InvalidTransaction("unexpected non-deposit transactions in fork activation block")
        elif tx.type == DEPOSIT:
            res = self._apply_deposit(tx)
        else:
            res = self._apply_user(tx)
        self.state.lock_changes()
        if self.rules.cancun:
            self.state.clear_transient_storage()
        self.tx_index += 1
        return res

    def _apply_post_exec(self, tx: Transaction) -> TxResult:
        """lagoon/post-exec.md §Receipt: no code runs; status 1, no logs, zero bloom, the previous cumulative gas,
        no DA footprint. The envelope rules a single transaction can check are checked here; the rest (last in
        block) by the caller."""
        p = tx.post_exec
        if not self.lagoon:
            raise InvalidPostExec(f"unexpected post-exec transaction at index {self.tx_index}: SDM not active for "
                                  f"this block")
        if p.block_number != self.env.number:
            raise InvalidPostExec(f"payload block number {p.block_number} does not match block number "
                                  f"{self.env.number}")
        try:
            if isinstance(self.sdm, SDMVerifier):
                self.sdm.check_post_exec(self.tx_index, p)
            elif isinstance(self.sdm, SDMProducer):
                produced = self.sdm.payload(self.env.number)
                if produced != p:
                    raise SDMError(f"post-exec tx payload mismatch at index {self.tx_index}")
            else:
                raise SDMError(f"post-exec transaction at index {self.tx_index} without its payload being verified")
        except SDMError as e:
            raise InvalidPostExec(str(e)) from None
        self.post_exec_seen = True
        receipt = Receipt(POST_EXEC, 1, self.cumulative_gas, (), 0)
        return TxResult(receipt, 0)

    def _sdm_begin(self) -> None:
        if isinstance(self.sdm, SDMProducer):
            self.sdm.begin()

    def _sdm_refund(self, tx: Transaction, evm_gas: int, sender: bytes) -> int:
        """The SDM refund of the transaction just executed (0 without SDM)."""
        if self.sdm is None:
            return 0
        is_deposit = tx.type == DEPOSIT
        if isinstance(self.sdm, SDMVerifier):
            try:
                return self.sdm.refund(self.tx_index, is_deposit, evm_gas)
            except SDMError as e:
                raise InvalidPostExec(str(e)) from None
        accounts = {sender, self.env.coinbase, *(a for a, _ in tx.access_list)}
        if tx.to is not None:
            accounts.add(tx.to)
        slots = {(bytes(a), int.from_bytes(k, "big")) for a, keys in tx.access_list for k in keys}
        return self.sdm.finish(self.tx_index, not is_deposit, evm_gas, accounts, slots)

    def _message(self, sender: bytes, to: bytes | None, value: int, data: bytes, gas: int, nonce_before: int,
                 refund: int = 0):
        if to is None:
            created = generate_contract_address(sender, nonce_before)
            return Message(gas=gas, to=b"", sender=sender, value=value, data=b"", code=data, create_address=created,
                           refund=refund), created
        code = self.state.get_code(to)
        is_delegation = False
        if self.rules.prague and code_is_delegation_designation(code):
            target = code[3:]
            self.state.mark_address_warm(target)
            code = self.state.get_code(target)
            is_delegation = True
        return Message(gas=gas, to=to, sender=sender, value=value, data=data, code=code, refund=refund,
                       is_delegation=is_delegation), None

    def _initcode_gas(self, tx: Transaction) -> int:
        """py-evm charges EIP-3860 initcode gas inside the creating computation; it is part of the intrinsic gas
        checked up front here, so hand it back to the message to avoid charging it twice."""
        if tx.to is None and self.rules.shanghai:
            return 2 * ((len(tx.data) + 31) // 32)
        return 0

    def _run(self, msg: Message, sender: bytes, gas_price: int, access_list=()):
        st = self.state
        st.mark_address_warm(sender)
        st.mark_address_warm(msg.storage_address)
        for addr, keys in access_list:
            st.mark_address_warm(addr)
            for k in keys:
                st.mark_storage_warm(addr, int.from_bytes(k, "big"))
        ctx = st.get_transaction_context_class()(gas_price=gas_price, origin=sender)
        if self.rules.cancun:
            ctx._blob_versioned_hashes = []
        comp_cls = st.computation_class
        if msg.is_create:
            if st.has_code_or_nonce(msg.storage_address):
                comp = st.get_computation(msg, ctx)
                comp.error = VMError("contract address collision")
                comp._gas_meter.consume_gas(comp._gas_meter.gas_remaining, "collision")
                return comp
            return comp_cls.apply_create_message(st, msg, ctx)
        return comp_cls.apply_message(st, msg, ctx)

    def _finish(self, comp) -> None:
        """SELFDESTRUCT deletions and EIP-161 cleanup of touched empty accounts."""
        st = self.state
        for account in comp.get_accounts_for_deletion():
            st.delete_account(account)
        for account in collect_touched_accounts(comp):
            if st.account_exists(account) and st.account_is_empty(account):
                st.delete_account(account)

    def _logs(self, comp) -> tuple[LogEntry, ...]:
        if comp.is_error:
            return ()
        return tuple(LogEntry(bytes(a), tuple(t.to_bytes(32, "big") for t in topics), bytes(d))
                     for a, topics, d in comp.get_log_entries())

    def _receipt(self, tx: Transaction, status: int, gas_used: int, logs, deposit_nonce=None) -> Receipt:
        self.cumulative_gas += gas_used
        version = CANYON_DEPOSIT_RECEIPT_VERSION if tx.type == DEPOSIT and self.canyon else None
        return Receipt(tx.type, status, self.cumulative_gas, logs, logs_bloom(logs), deposit_nonce, version)

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
