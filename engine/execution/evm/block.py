"""Building a block from payload attributes and re-executing a received block, in one pass over its transactions.

Header rules by fork (specs: exec-engine.md; holocene/, isthmus/, jovian/exec-engine.md):
- ``extraData`` is empty before Holocene; from Holocene ``0x00 ‖ denominator ‖ elasticity`` taken from the
  attributes' ``eip1559Params``, or the Canyon constants when those are zero (the Holocene activation block); from
  Jovian version 1 with ``minBaseFee`` appended.
- ``withdrawalsRoot`` is the empty-trie root from Canyon, and from Isthmus the L2ToL1MessagePasser storage root.
- Ecotone adds ``blobGasUsed`` (0; from Jovian the block's DA footprint), ``excessBlobGas`` (0) and the L1 origin's
  ``parentBeaconBlockRoot``; Isthmus adds ``requestsHash = sha256("")``.
- The Canyon activation block installs the create2deployer code before any transaction (op-geth
  ``EnsureCreate2Deployer``), and then the EIP-4788/EIP-2935 system calls run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from derivation.protocol.predeploys import L2_TO_L1_MESSAGE_PASSER
from derivation.protocol.rollup_config import Fork
from derivation.protocol.transactions import Transaction
from derivation.protocol.trie import EMPTY_TRIE_ROOT as EMPTY_ROOT
from derivation.protocol.trie import ordered_trie_root
from engine.execution.chain_spec import ChainSpec
from engine.execution.evm.base_fee import encode_extra_data, next_base_fee
from engine.execution.evm.executor import BlockEnv, BlockExecutor
from engine.execution.evm.header import EMPTY_REQUESTS_HASH, Header
from engine.execution.evm.outcome import TxResult
from engine.execution.evm.receipts import bloom_bytes

CREATE2_DEPLOYER = bytes.fromhex("13b0d85ccb8bf860b6b79af3029fca081ae9bef2")


@dataclass(frozen=True, slots=True)
class BlockAttributes:
    """What the block builder needs beyond the parent (the Engine API's payload attributes, decoded)."""

    timestamp: int
    prev_randao: bytes
    fee_recipient: bytes
    gas_limit: int
    parent_beacon_root: bytes | None = None
    eip1559_params: bytes | None = None
    min_base_fee: int | None = None
    withdrawals: tuple = ()


@dataclass(slots=True)
class SealedBlock:
    header: Header
    transactions: list[Transaction]
    results: list[TxResult]
    withdrawals: list | None

    @property
    def hash(self) -> bytes:
        return self.header.hash


@dataclass(slots=True)
class BlockBuilder:
    """One block under construction on top of ``parent``; ``apply`` each transaction, then ``seal``."""

    spec: ChainSpec
    db: object
    parent: Header
    attrs: BlockAttributes
    prev_hashes: tuple[bytes, ...] = ()
    create2deployer_code: bytes = b""
    executor: BlockExecutor = field(init=False)
    transactions: list[Transaction] = field(default_factory=list)
    results: list[TxResult] = field(default_factory=list)

    def __post_init__(self) -> None:
        a = self.attrs
        env = BlockEnv(number=self.parent.number + 1, timestamp=a.timestamp, coinbase=a.fee_recipient,
                       gas_limit=a.gas_limit, base_fee=next_base_fee(self.spec, self.parent, a.timestamp),
                       prev_randao=a.prev_randao, chain_id=self.spec.chain_id, prev_hashes=self.prev_hashes,
                       deposits_only=self.spec.is_deposits_only_block(a.timestamp, self.parent.timestamp))
        self.executor = BlockExecutor(self.spec, self.db, self.parent.state_root, env)
        if self.spec.is_activation_block(Fork.CANYON, a.timestamp, self.parent.timestamp) and self.create2deployer_code:
            self.executor.set_code(CREATE2_DEPLOYER, self.create2deployer_code)
        self.executor.pre_block_system_calls(self.parent.hash, a.parent_beacon_root)

    @property
    def gas_left(self) -> int:
        return self.executor.gas_pool

    def apply(self, tx: Transaction) -> TxResult:
        res = self.executor.apply(tx)
        self.transactions.append(tx)
        self.results.append(res)
        return res

    def extra_data(self) -> bytes:
        a, spec = self.attrs, self.spec
        if not spec.is_active(Fork.HOLOCENE, a.timestamp):
            return b""
        params = a.eip1559_params or bytes(8)
        d, e = int.from_bytes(params[:4], "big"), int.from_bytes(params[4:], "big")
        if d == 0 and e == 0:
            d, e = spec.eip1559_denominator_canyon, spec.eip1559_elasticity
        jovian = spec.is_active(Fork.JOVIAN, a.timestamp)
        return encode_extra_data(d, e, (a.min_base_fee or 0) if jovian else None)

    def seal(self) -> SealedBlock:
        ex, a, spec = self.executor, self.attrs, self.spec
        state_root = ex.state.make_state_root()
        withdrawals_root = None
        if ex.rules.shanghai:
            withdrawals_root = EMPTY_ROOT
            if spec.is_active(Fork.ISTHMUS, a.timestamp):
                withdrawals_root = ex.state._account_db._get_account(L2_TO_L1_MESSAGE_PASSER).storage_root
        ex.state.persist()
        receipts = [r.receipt for r in self.results]
        bloom = 0
        for r in receipts:
            bloom |= r.bloom
        header = Header(
            parent_hash=self.parent.hash, coinbase=a.fee_recipient, state_root=state_root,
            transactions_root=ordered_trie_root([t.raw for t in self.transactions]),
            receipts_root=ordered_trie_root([r.consensus_encoding() for r in receipts]),
            logs_bloom=bloom_bytes(bloom), number=self.parent.number + 1, gas_limit=a.gas_limit,
            gas_used=ex.cumulative_gas, timestamp=a.timestamp, extra_data=self.extra_data(),
            mix_hash=a.prev_randao, base_fee=ex.env.base_fee, withdrawals_root=withdrawals_root,
            blob_gas_used=(ex.da_footprint if ex.jovian else 0) if ex.rules.cancun else None,
            excess_blob_gas=0 if ex.rules.cancun else None,
            parent_beacon_root=a.parent_beacon_root if ex.rules.cancun else None,
            requests_hash=EMPTY_REQUESTS_HASH if ex.rules.prague else None,
        )
        return SealedBlock(header, self.transactions, self.results, [] if ex.rules.shanghai else None)
