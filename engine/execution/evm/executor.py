"""One block's transactions applied to its state, in order, with the OP Stack rules (op-geth
``core/state_transition.go``, ``core/state_processor.go``): the pre-block system calls, the dispatch by transaction
type, the EVM message and its receipt; deposits are :mod:`.deposit_tx`, user transactions :mod:`.user_tx`, Lagoon's
post-exec transaction and SDM refunds here.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth._utils.address import generate_contract_address
from eth._utils.state import code_is_delegation_designation
from eth.exceptions import VMError
from eth.vm.execution_context import ExecutionContext
from eth.vm.forks.spurious_dragon._utils import collect_touched_accounts
from eth.vm.message import Message

from derivation.protocol.crypto import keccak256
from derivation.protocol.post_exec import POST_EXEC
from derivation.protocol.predeploys import BEACON_ROOTS, HISTORY_STORAGE, L1_BLOCK
from derivation.protocol.rollup_config import Fork
from derivation.protocol.transactions import DEPOSIT, Transaction
from engine.execution.chain_spec import ChainSpec
from engine.execution.evm.deposit_tx import DepositExecution
from engine.execution.evm.fees import L1FeeParams, operator_fee, read_l1_fee_params
from engine.execution.evm.forks import EVMRules, rules_for
from engine.execution.evm.outcome import InvalidPostExec, InvalidTransaction, TxResult
from engine.execution.evm.receipts import LogEntry, Receipt, logs_bloom
from engine.execution.evm.sdm import SDMError, SDMProducer, SDMVerifier
from engine.execution.evm.user_tx import UserTxExecution

EMPTY_CODE_HASH = keccak256(b"")
CANYON_DEPOSIT_RECEIPT_VERSION = 1


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


class BlockExecutor(DepositExecution, UserTxExecution):
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
