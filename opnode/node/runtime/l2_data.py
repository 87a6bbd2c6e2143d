"""The pipeline's L2 provider in the node: L2 block refs, SystemConfigs and transactions from the execution
engine's eth namespace, answered from memory or requested with NeedData and fetched asynchronously.

The engine controller owns the L2 heads; this view subscribes to it once (``controller=`` at construction) and
keeps its number→hash index in step from the controller's :class:`~engine.controller.HeadsChanged` alone (kona's
``L2ChainProvider`` is likewise fed by the engine, not by the driver): a reset drops every number, a new unsafe
head drops the numbers from the first one that may differ, and a derived block becomes canonical at its number
without being fetched back."""

from __future__ import annotations

from collections import OrderedDict

from derivation.protocol.jsonutil import JSONObject
from derivation.protocol.l1_info import system_config_from_l2_block
from derivation.protocol.rollup_config import RollupConfig
from derivation.protocol.system_config import SystemConfig
from derivation.protocol.transactions import decode as decode_tx
from derivation.protocol.types import L2BlockRef
from derivation.providers import DataKind, DataRequest, NeedData
from engine.client import EngineClient
from engine.controller import EngineController
from engine.heads import DerivedBlock, HeadsChanged, HeadsEvent

KEEP_BLOCKS = 8192


class NodeL2Source:
    def __init__(self, cfg: RollupConfig, client: EngineClient | None, *, controller: EngineController | None = None):
        self.cfg = cfg
        self.client = client
        self._by_number: dict[int, bytes] = {}
        self._refs: OrderedDict[bytes, L2BlockRef] = OrderedDict()
        self._configs: dict[bytes, SystemConfig] = {}
        self._txs: dict[bytes, list[bytes]] = {}
        if controller is not None:
            controller.subscribe(self.on_heads)

    def on_heads(self, ev: HeadsEvent) -> None:
        """The controller's heads changed: drop the number lookups the change may have made wrong (the one rule),
        then take the derived block as canonical at its number."""
        if not isinstance(ev, HeadsChanged):
            return
        if ev.reset:
            self.forget_numbers()
        else:
            old, new = ev.old.unsafe, ev.new.unsafe
            if new != old:
                first = new.number if new.parent_hash == old.hash else min(old.number, new.number)
                self.forget_numbers(first - 1)
        if ev.block is not None:
            self.add_derived(ev.block)

    def block_ref_by_number(self, number: int) -> L2BlockRef:
        h = self._by_number.get(number)
        if h is None or h not in self._refs:
            raise NeedData(DataRequest(DataKind.L2_BLOCK_BY_NUMBER, number))
        return self._refs[h]

    def block_ref_by_hash(self, block_hash: bytes) -> L2BlockRef:
        ref = self._refs.get(block_hash)
        if ref is None:
            raise NeedData(DataRequest(DataKind.L2_BLOCK_BY_HASH, block_hash))
        return ref

    def system_config(self, block_hash: bytes) -> SystemConfig:
        c = self._configs.get(block_hash)
        if c is None:
            raise NeedData(DataRequest(DataKind.L2_SYSTEM_CONFIG, block_hash))
        return c

    def transactions(self, number: int) -> list[bytes]:
        h = self._by_number.get(number)
        if h is None or h not in self._txs:
            raise NeedData(DataRequest(DataKind.L2_TRANSACTIONS, number))
        return self._txs[h]

    async def fetch(self, req: DataRequest) -> None:
        if self.client is None:
            raise RuntimeError(f"this L2 view has no engine client to fetch {req}")
        by_number = req.kind in (DataKind.L2_BLOCK_BY_NUMBER, DataKind.L2_TRANSACTIONS)
        block = await self.client.block(req.key, full=True)
        if block is None:
            raise LookupError(f"the engine has no L2 block {req.number if by_number else '0x' + req.block_hash.hex()}")
        self.add_block(block, canonical=by_number)

    def add_block(self, block: JSONObject, canonical: bool = False) -> L2BlockRef:
        return self.add_derived(DerivedBlock.from_block(self.cfg, block), canonical)

    def add_derived(self, d: DerivedBlock, canonical: bool = True) -> L2BlockRef:
        """A block the engine controller just derived (or a fetched one): it is the canonical block at its number."""
        ref = d.ref
        self._refs[ref.hash] = ref
        self._refs.move_to_end(ref.hash)
        self._txs[ref.hash] = d.transactions
        first = decode_tx(d.transactions[0]).data if d.transactions else b""
        self._configs[ref.hash] = system_config_from_l2_block(self.cfg, first, d.gas_limit, d.extra_data, ref.time)
        if canonical:
            self._by_number[ref.number] = ref.hash
        while len(self._refs) > KEEP_BLOCKS:
            h, old = self._refs.popitem(last=False)
            self._configs.pop(h, None)
            self._txs.pop(h, None)
            if self._by_number.get(old.number) == h:
                del self._by_number[old.number]
        return ref

    def forget_numbers(self, above: int = -1) -> None:
        """The canonical L2 chain changed above ``above``: number lookups must be asked again."""
        for n in [n for n in self._by_number if n > above]:
            del self._by_number[n]

