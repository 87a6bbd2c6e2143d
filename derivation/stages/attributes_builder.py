"""Payload attributes for the next L2 block (specs: derivation.md "Building Individual Payload Attributes",
exec-engine.md, holocene/, jovian/ and karst/ derivation.md; op-node ``PreparePayloadAttributes``,
karlfloersch/optimism@b5c39b26 2026-06-03).

The SystemConfig is the L2 parent's, updated with the epoch's ConfigUpdate receipts when the block starts a new
epoch (whose receipts also give the user deposits). Transactions: the L1-info deposit, user deposits (first block of
an epoch only), upgrade deposits on activation blocks; the batch's transactions are appended by the attributes
queue. Holocene's activation block carries all-zero eip1559Params (the engine then uses Canyon's constants); Jovian
adds a non-null minBaseFee. From Karst, a NUT fork's activation block has the gas limit of the SystemConfig plus the
fork's upgrade gas (:func:`derivation.protocol.upgrades.upgrade_gas_for_block`). A config with a derivation limit (a chain
that left the OP fork schedule) refuses to build any block at or after it.
"""

from __future__ import annotations

from derivation.protocol.attributes import PayloadAttributes
from derivation.protocol.config_update import apply_receipts
from derivation.protocol.deposits import user_deposits
from derivation.protocol.errors import CriticalError, ParseError, ResetError
from derivation.protocol.l1_chain_config import L1ChainConfig
from derivation.protocol.l1_info import l1_info_deposit
from derivation.protocol.predeploys import SEQUENCER_FEE_VAULT
from derivation.protocol.rollup_config import Fork, RollupConfig
from derivation.protocol.types import BlockID, L2BlockRef
from derivation.protocol.upgrades import upgrade_gas_for_block, upgrade_txs_for_block
from derivation.providers import L1Source, L2Source


class AttributesBuilder:
    def __init__(self, cfg: RollupConfig, l1_chain: L1ChainConfig, l1: L1Source, l2: L2Source):
        self.cfg = cfg
        self.l1_chain = l1_chain
        self.l1 = l1
        self.l2 = l2

    def prepare(self, parent: L2BlockRef, epoch: BlockID) -> PayloadAttributes:
        cfg = self.cfg
        ts = parent.time + cfg.block_time
        if cfg.derivation_limit is not None and ts >= cfg.derivation_limit.time:
            raise CriticalError(cfg.derivation_limit.message(ts))
        sys_cfg = self.l2.system_config(parent.hash)
        deposits = []
        if parent.l1_origin.number != epoch.number:
            info = self.l1.block_by_hash(epoch.hash)
            if info.parent_hash != parent.l1_origin.hash:
                raise ResetError(f"cannot build on L2 block {parent.number} with L1 origin {epoch.number} whose parent "
                                 f"{info.parent_hash.hex()[:12]} is not {parent.l1_origin.hash.hex()[:12]}")
            receipts = self.l1.receipts(info.ref)
            try:
                deposits = user_deposits(receipts, cfg.deposit_contract_address, info.hash)
            except ParseError as e:
                raise CriticalError(f"malformed deposit in L1 block {info.number}: {e}") from None
            sys_cfg = apply_receipts(sys_cfg, receipts, cfg.l1_system_config_address, cfg, info.time)
            seq = 0
        else:
            if parent.l1_origin.hash != epoch.hash:
                raise ResetError(f"L1 origin {epoch.number} conflicts with the parent's {parent.l1_origin.hash.hex()[:12]}")
            info = self.l1.block_by_hash(epoch.hash)
            seq = parent.sequence_number + 1
        if ts < info.time:
            raise ResetError(f"L2 block at {ts} cannot have L1 origin {info.number} from time {info.time}")
        l1_info = l1_info_deposit(cfg, sys_cfg, seq, info, ts, self.l1_chain)
        txs = [l1_info.raw, *(d.raw for d in deposits), *(u.raw for u in upgrade_txs_for_block(cfg, ts))]
        eip1559 = None
        if cfg.is_active(Fork.HOLOCENE, ts):
            eip1559 = bytes(8) if cfg.is_activation_block(Fork.HOLOCENE, ts) else sys_cfg.eip1559_params
        beacon_root = None
        if cfg.is_active(Fork.ECOTONE, ts):
            beacon_root = info.parent_beacon_root or bytes(32)
        return PayloadAttributes(
            timestamp=ts, prev_randao=info.mix_digest, suggested_fee_recipient=SEQUENCER_FEE_VAULT,
            transactions=tuple(txs), gas_limit=sys_cfg.gas_limit + upgrade_gas_for_block(cfg, ts), no_tx_pool=True,
            withdrawals=() if cfg.is_active(Fork.CANYON, ts) else None, parent_beacon_block_root=beacon_root,
            eip1559_params=eip1559, min_base_fee=sys_cfg.min_base_fee if cfg.is_active(Fork.JOVIAN, ts) else None)
