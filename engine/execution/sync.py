"""EL sync from peers: the stand-in for op-geth's devp2p sync that a light node needs to reach a head it never saw
(specs: exec-engine.md §Happy-path sync).

When a forkchoice update or a payload names an unknown block, the engine answers SYNCING and this task fetches the
missing blocks by hash from ``--sync.peers`` (other engines' HTTP RPC, ``debug_getRawBlock``), walking parent links
back to a known block, then executes and validates them oldest first exactly as ``newPayload`` would. A peer's
block is only accepted if it hashes to the requested hash, so a wrong or lying peer cannot inject anything. When a
forkchoice target is reached it becomes the head, as op-geth does after a beacon sync.
"""

from __future__ import annotations

import logging

import httpx
import trio

from derivation.protocol import rlp
from derivation.protocol.hexutil import from_hex, to_hex
from derivation.protocol.jsonutil import loads_bounded
from derivation.protocol.payload import ExecutionPayloadEnvelope
from engine.execution.chain import Chain, InvalidBlock
from engine.execution.evm.header import Header
from engine.execution.payload import envelope_of

log = logging.getLogger("opnode.engine.sync")
MAX_SYNC_DEPTH = 100_000


class SyncError(Exception):
    """No peer could supply a needed block."""


def decode_raw_block(raw: bytes) -> tuple[Header, list[bytes], bool]:
    """(header, transactions as EIP-2718 bytes, has withdrawals) from a block's RLP (``debug_getRawBlock``)."""
    items = rlp.decode(raw)
    if not isinstance(items, list) or len(items) not in (3, 4):
        raise rlp.RLPError("block must be [header, transactions, uncles(, withdrawals)]")
    header = Header.decode(rlp.encode(items[0]))
    txs = [t if isinstance(t, bytes) else rlp.encode(t) for t in items[1]]
    return header, txs, len(items) == 4


def encode_raw_block(header: Header, raw_txs: list[bytes], has_withdrawals: bool) -> bytes:
    txs = [rlp.decode(t) if t and t[0] >= 0xC0 else t for t in raw_txs]
    body = [header.fields(), txs, []]
    if has_withdrawals:
        body.append([])
    return rlp.encode(body)


class Syncer:
    def __init__(self, chain: Chain, peers: list[str], api_lock: trio.Lock, timeout: float = 10.0):
        self.chain = chain
        self.peers = list(peers)
        self.lock = api_lock
        self.timeout = timeout
        self.target: bytes | None = None
        self.set_head = False
        self.stashed: dict[bytes, ExecutionPayloadEnvelope] = {}
        self._wake: trio.Event = trio.Event()
        self._trio_token = None
        self.last_error: str | None = None
        self.synced = 0

    @property
    def active(self) -> bool:
        return self.target is not None

    # Called from the API worker thread.
    def request(self, head: bytes) -> None:
        self.target, self.set_head = head, True
        self._notify()

    def stash(self, p: ExecutionPayloadEnvelope) -> None:
        if len(self.stashed) < 1024:
            self.stashed[p.block_hash] = p
        if self.target is None or not self.set_head:
            self.target, self.set_head = p.block_hash, False
        self._notify()

    def _notify(self) -> None:
        if self._trio_token is not None:
            trio.from_thread.run_sync(self._wake.set, trio_token=self._trio_token)

    async def run(self) -> None:
        self._trio_token = trio.lowlevel.current_trio_token()
        backoff = 0.5
        async with httpx.AsyncClient(timeout=self.timeout) as client:
            while True:
                await self._wake.wait()
                self._wake = trio.Event()
                target, set_head = self.target, self.set_head
                if target is None or not self.peers:
                    continue
                try:
                    await self._sync_to(client, target, set_head)
                    self.last_error = None
                    backoff = 0.5
                except (SyncError, InvalidBlock) as e:
                    self.last_error = str(e)
                    log.warning("EL sync to 0x%s failed (retrying in %.1fs): %s", target.hex(), backoff, e)
                    await trio.sleep(backoff)
                    backoff = min(backoff * 2, 8.0)
                    self._wake.set()
                    continue
                if self.target == target:
                    self.target = None

    async def _fetch(self, client: httpx.AsyncClient, block_hash: bytes) -> tuple[Header, list[bytes], bool]:
        errors = []
        for peer in self.peers:
            try:
                r = await client.post(peer, json={"jsonrpc": "2.0", "id": 1, "method": "debug_getRawBlock",
                                                  "params": [to_hex(block_hash)]})
                body = loads_bounded(r.content)
                if body.get("result") is None:
                    errors.append(f"{peer}: {body.get('error', 'not found')}")
                    continue
                header, txs, wd = decode_raw_block(from_hex(body["result"]))
                if header.hash != block_hash:
                    errors.append(f"{peer}: returned a block with another hash")
                    continue
                return header, txs, wd
            except (httpx.HTTPError, ValueError, rlp.RLPError) as e:
                errors.append(f"{peer}: {e}")
        raise SyncError(f"no peer has block 0x{block_hash.hex()}: {'; '.join(errors)}")

    async def _sync_to(self, client: httpx.AsyncClient, target: bytes, set_head: bool) -> None:
        missing: list[ExecutionPayloadEnvelope] = []
        cur = target
        while not self.chain.has_block(cur):
            if len(missing) > MAX_SYNC_DEPTH:
                raise SyncError("sync target is too far behind any known block")
            p = self.stashed.get(cur)
            if p is None:
                header, txs, wd = await self._fetch(client, cur)
                p = envelope_of(self.chain.spec, header, txs, wd)
            missing.append(p)
            cur = p.parent_hash
        for p in reversed(missing):
            async with self.lock:
                await trio.to_thread.run_sync(self.chain.import_payload, p)
            self.stashed.pop(p.block_hash, None)
            self.synced += 1
        if set_head and self.chain.has_block(target):
            async with self.lock:
                await trio.to_thread.run_sync(self.chain.set_forkchoice, target)
        log.info("EL sync reached 0x%s (%d blocks)", target.hex(), len(missing))
