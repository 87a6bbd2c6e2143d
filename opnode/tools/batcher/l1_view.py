"""The batcher's view of L1: the head, which blocks are canonical, and who the batcher is at each block.

The batcher address is derivation's (specs derivation.md §L1 Retrieval, §L1 Traversal): the rollup's genesis
SystemConfig batcher, changed by ``ConfigUpdate(BATCHER)`` logs of the SystemConfig after the rollup's L1 genesis block; an update in block N
already applies to block N's batcher transactions. The batcher signs with the key of the address in force at the
head (a key rotation is seen on L1, not announced), and counts a transaction as posted only if its sender was the
batcher at the block that included it. Updates are re-read for the last ``RESCAN`` blocks on every new head, so an
L1 reorg that removes or moves one is followed.
"""

from __future__ import annotations

from dataclasses import dataclass

from derivation.protocol.config_update import (
    CONFIG_UPDATE_TOPIC,
    CONFIG_UPDATE_VERSION_0,
    ConfigUpdateError,
    UpdateType,
    parse_config_update,
)
from derivation.protocol.hexutil import from_hex, parse_quantity, to_hex
from derivation.protocol.rollup_config import RollupConfig
from derivation.protocol.types import L1BlockRef, Log
from opnode.node.l1.rpc import RpcClient

RESCAN = 64


@dataclass(frozen=True, slots=True)
class L1Head:
    ref: L1BlockRef
    blobs: bool  # the header has excessBlobGas: the L1 takes blob transactions

    @property
    def number(self) -> int:
        return self.ref.number

    @property
    def time(self) -> int:
        return self.ref.time


def _ref(block: dict) -> L1BlockRef:
    return L1BlockRef(from_hex(block["hash"], 32), parse_quantity(block["number"]), from_hex(block["parentHash"], 32),
                      parse_quantity(block["timestamp"]))


async def l1_head(rpc: RpcClient) -> L1Head:
    block = await rpc.call("eth_getBlockByNumber", "latest", False)
    return L1Head(_ref(block), block.get("excessBlobGas") is not None)


async def canonical(rpc: RpcClient, numbers) -> dict[int, L1BlockRef]:
    """The canonical blocks at ``numbers`` (missing numbers are beyond the head)."""
    numbers = sorted(set(numbers))
    got = await rpc.batch([("eth_getBlockByNumber", [hex(n), False]) for n in numbers])
    return {n: _ref(b) for n, b in zip(numbers, got, strict=True) if isinstance(b, dict)}


class BatcherAddresses:
    def __init__(self, cfg: RollupConfig):
        self.cfg = cfg
        self.genesis = cfg.genesis.system_config.batcher_addr
        self.updates: list[tuple[int, int, bytes]] = []  # (L1 block number, log index, new batcher), chain order
        self._scanned_to = cfg.genesis.l1.number  # updates in blocks up to this one are known

    def at(self, number: int) -> bytes:
        """The batcher address for transactions included in L1 block ``number``."""
        addr = self.genesis
        for n, _, a in self.updates:
            if n > number:
                break
            addr = a
        return addr

    async def refresh(self, rpc: RpcClient, head: int) -> list[tuple[int, int, bytes]]:
        """Read updates up to ``head`` (again for the last RESCAN blocks); returns the updates newly seen."""
        start = max(self.cfg.genesis.l1.number + 1, min(self._scanned_to + 1, head - RESCAN + 1))
        if start > head:
            self.updates = [u for u in self.updates if u[0] <= head]
            self._scanned_to = head
            return []
        logs = await rpc.call("eth_getLogs", {
            "fromBlock": hex(start), "toBlock": hex(head), "address": to_hex(self.cfg.l1_system_config_address),
            "topics": [to_hex(CONFIG_UPDATE_TOPIC), to_hex(CONFIG_UPDATE_VERSION_0),
                       to_hex(int(UpdateType.BATCHER).to_bytes(32, "big"))]})
        fresh = []
        for raw in logs:
            if raw.get("removed"):
                continue
            log = Log(from_hex(raw["address"], 20), tuple(from_hex(t, 32) for t in raw["topics"]),
                      from_hex(raw["data"]), parse_quantity(raw["logIndex"]))
            try:
                update = parse_config_update(log)
            except ConfigUpdateError:
                continue  # derivation halts on it; nothing the batcher can do
            payload = update.payload
            if any(payload[:12]):
                continue
            fresh.append((parse_quantity(raw["blockNumber"]), log.log_index, payload[12:]))
        old = set(self.updates)
        new = [u for u in fresh if u not in old]
        self.updates = sorted([u for u in self.updates if u[0] < start] + fresh)
        self._scanned_to = head
        return new
