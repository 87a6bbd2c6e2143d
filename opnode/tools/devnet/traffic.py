"""Devnet traffic: what a small live chain sees, at a steady rate, as one trio task (``nursery.start(traffic.run)``).

- L2: transfers and calls of a counter contract (deployed first), sent to the sequencer's engine with
  ``eth_sendRawTransaction``; nonces are counted per sender and counted again from the chain when a transaction
  has not made it into a block for ``stuck_after`` seconds (the pool dropped it, or its fee fell below a raised
  base fee); fee caps follow the L2 head's base fee.
- L1 deposits through the deposit contract: value transfers to L2 accounts (``depositTransaction`` and the portal's
  ``receive``), and deposits that call the L2 counter.
- SystemConfig updates, one every ``config_interval`` seconds, cycling through the update types that the L2 fork
  at the head makes meaningful: gas limit, fee scalars, EIP-1559 parameters (Holocene), operator fee parameters
  (Isthmus), minimum base fee and DA footprint gas scalar (Jovian). Values stay where the chain keeps working
  (gas limit 50M-60M, small fees).
- One batcher key rotation ``rotation_after`` seconds in, when ``next_batcher_key`` is set. The handshake with the
  batcher (``control``: the in-process :class:`~opnode.tools.batcher.service.Batcher` or
  :class:`~opnode.tools.batcher.admin.BatcherControl` for a batcher process, both with ``pause``/``resume``):

  1. ``pause``: the batcher sends nothing new and returns once its transactions in flight are mined;
  2. ``setBatcherHash(next)`` from the SystemConfig owner, and wait until it is mined in L1 block N;
  3. ``resume``: the batcher, which holds both keys, reads the update from L1 and signs with the new key.

  Derivation authenticates batcher transactions of block N with the new address already (derivation.md §L1 Traversal),
  and the batcher only counts a transaction as posted if its sender was the batcher at its block, so the pause
  only saves wasted transactions: without a ``control`` the rotation still converges.

Counters (:meth:`Traffic.snapshot`) tell the devnet summary what was sent and what made it in.
"""

from __future__ import annotations

import contextlib
import logging
import random
from collections import Counter
from dataclasses import dataclass, field

import trio

from derivation.protocol.crypto import address_from_private_key
from derivation.protocol.hexutil import parse_quantity, to_hex
from derivation.protocol.rollup_config import Fork, RollupConfig
from opnode.node.l1.rpc import RpcClient, RpcError, TransportError
from opnode.tools.batcher.txmgr import PendingTx, SendError, TxCandidate, TxManager
from opnode.tools.l1contracts import portal
from opnode.tools.l1contracts import system_config as sysconf
from opnode.tools.l1contracts.helpers import counter_creation_code

log = logging.getLogger("opnode.tools.devnet.traffic")


@dataclass(frozen=True, slots=True)
class TrafficConfig:
    l1_rpc: str
    l2_rpc: str  # the sequencer's engine (unauthenticated eth RPC)
    rollup: RollupConfig
    owner_key: bytes  # the SystemConfig owner on L1
    depositor_key: bytes  # sends deposits on L1
    l2_keys: tuple[bytes, ...]  # funded on L2
    next_batcher_key: bytes | None = None
    tx_interval: float = 1.0
    txs_per_round: int = 2
    deposit_interval: float = 4.0
    config_interval: float = 6.0
    rotation_after: float | None = 15.0
    stuck_after: float = 20.0
    seed: int = 0

    def __post_init__(self):
        if not self.l2_keys:
            raise ValueError("traffic needs at least one funded L2 key")


@dataclass
class TrafficCounters:
    l2_sent: Counter = field(default_factory=Counter)  # transfer / call / deploy
    l2_included: int = 0
    l2_refused: int = 0
    nonce_resets: int = 0
    deposits: Counter = field(default_factory=Counter)  # deposit / receive / call
    config_updates: Counter = field(default_factory=Counter)  # by setter name
    rotations: list = field(default_factory=list)  # (L1 block, new batcher address)
    errors: int = 0

    def to_json(self) -> dict:
        return {"l2_sent": dict(self.l2_sent), "l2_included": self.l2_included, "l2_refused": self.l2_refused,
                "nonce_resets": self.nonce_resets, "deposits": dict(self.deposits),
                "config_updates": dict(self.config_updates),
                "rotations": [{"l1_block": n, "batcher": "0x" + a.hex()} for n, a in self.rotations],
                "errors": self.errors}


class Traffic:
    def __init__(self, cfg: TrafficConfig, *, control=None):
        self.cfg = cfg
        self.control = control
        self.counters = TrafficCounters()
        self.counter_address: bytes | None = None
        self.rng = random.Random(cfg.seed)
        self._config_round = 0

    def snapshot(self) -> dict:
        return self.counters.to_json()

    async def run(self, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        cfg = self.cfg
        async with RpcClient(cfg.l1_rpc) as l1, RpcClient(cfg.l2_rpc) as l2:
            self.l1, self.l2 = l1, l2
            self.owner = TxManager(l1, cfg.owner_key)
            self.depositor = TxManager(l1, cfg.depositor_key)
            self.senders = [TxManager(l2, k, min_tip=1) for k in cfg.l2_keys]
            task_status.started(self)
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._guard, self._l2_loop, None)
                nursery.start_soon(self._guard, self._deposit_loop, self.depositor)
                nursery.start_soon(self._guard, self._config_loop, self.owner)

    async def _guard(self, loop, l1_sender: TxManager | None) -> None:
        """Keep a loop going through RPC hiccups (a devnet under load times out now and then)."""
        while True:
            try:
                await loop()
                return
            except (TransportError, RpcError, SendError, trio.TooSlowError) as e:
                self.counters.errors += 1
                log.warning("traffic: %s", e)
                await trio.sleep(1)
                # An L1 reorg (anvil's evm_revert) drops mined transactions and rewinds nonces: without a recount
                # every later L1 send of this loop would wait on a nonce gap forever.
                if l1_sender is not None:
                    with contextlib.suppress(TransportError, RpcError):
                        await l1_sender.reset_nonce()

    # -------------------------------------------------------------------------------------------- L2

    async def _l2_loop(self) -> None:
        cfg = self.cfg
        if self.counter_address is None:
            r = await self.senders[0].send_and_wait(TxCandidate(to=None, data=counter_creation_code()), timeout=60)
            self.counter_address = r.contract_address
            self.counters.l2_sent["deploy"] += 1
            self.counters.l2_included += 1
        pending: list[tuple[TxManager, PendingTx]] = []
        i = 0
        while True:
            for _ in range(cfg.txs_per_round):
                m = self.senders[i % len(self.senders)]
                i += 1
                if i % 2:
                    kind, c = "transfer", TxCandidate(to=self.rng.randbytes(20), value=self.rng.randrange(1, 10**12),
                                                      gas_limit=21_000)
                else:
                    kind, c = "call", TxCandidate(to=self.counter_address, data=self.rng.randbytes(36),
                                                  gas_limit=60_000)
                try:
                    pending.append((m, await m.send(c)))
                    self.counters.l2_sent[kind] += 1
                except SendError as e:
                    self.counters.l2_refused += 1
                    log.debug("L2 transaction refused: %s", e)
                    await m.reset_nonce()
            pending = await self._settle(pending)
            await trio.sleep(cfg.tx_interval)

    async def _settle(self, pending: list[tuple[TxManager, PendingTx]]) -> list[tuple[TxManager, PendingTx]]:
        """Count what made it in (one batched request); count nonces again for a sender whose transaction is
        stuck."""
        if not pending:
            return []
        got = await self.l2.batch([("eth_getTransactionReceipt", [to_hex(p.hash)]) for _, p in pending])
        keep = []
        stuck: set[TxManager] = set()
        now = trio.current_time()
        for (m, p), r in zip(pending, got, strict=True):
            if isinstance(r, dict) and r.get("blockHash"):
                self.counters.l2_included += 1
            elif now - p.sent_at > self.cfg.stuck_after:
                stuck.add(m)
            else:
                keep.append((m, p))
        for m in stuck:
            self.counters.nonce_resets += 1
            await m.reset_nonce()
        return [(m, p) for m, p in keep if m not in stuck]

    # -------------------------------------------------------------------------------------------- deposits

    async def _deposit_loop(self) -> None:
        cfg = self.cfg
        n = 0
        while True:
            await trio.sleep(cfg.deposit_interval)
            to = address_from_private_key(cfg.l2_keys[n % len(cfg.l2_keys)])
            kind = ("deposit", "receive", "call")[n % 3]
            n += 1
            if kind == "deposit":
                c = TxCandidate(cfg.rollup.deposit_contract_address, portal.DEPOSIT_TRANSACTION.encode(
                    to, 10**15, 100_000, False, b""), value=10**15)
            elif kind == "receive":
                c = TxCandidate(cfg.rollup.deposit_contract_address, b"", value=10**15, gas_limit=150_000)
            elif self.counter_address is not None:
                c = TxCandidate(cfg.rollup.deposit_contract_address, portal.DEPOSIT_TRANSACTION.encode(
                    self.counter_address, 0, 200_000, False, b"deposited call"))
            else:
                continue
            await self.depositor.send_and_wait(c, timeout=60)
            self.counters.deposits[kind] += 1

    # -------------------------------------------------------------------------------------------- SystemConfig

    async def _l2_time(self) -> int:
        head = await self.l2.call("eth_getBlockByNumber", "latest", False)
        return parse_quantity(head["timestamp"])

    def updates_for(self, l2_time: int) -> list[tuple[str, bytes]]:
        """The SystemConfig calls that mean something at this L2 time, with this round's values."""
        r, rollup = self._config_round, self.cfg.rollup
        out = [("setGasLimit", sysconf.SET_GAS_LIMIT.encode(60_000_000 - 5_000_000 * (r % 3))),
               ("setGasConfigEcotone", sysconf.SET_GAS_CONFIG_ECOTONE.encode(1368 + r, 810949 - r))]
        if rollup.is_active(Fork.HOLOCENE, l2_time):
            out.append(("setEIP1559Params", sysconf.SET_EIP1559_PARAMS.encode(250 if r % 2 else 50, 6 if r % 2 else 2)))
        if rollup.is_active(Fork.ISTHMUS, l2_time):
            out.append(("setOperatorFeeScalars", sysconf.SET_OPERATOR_FEE_SCALARS.encode(r % 5, 1000 * (r % 3))))
        if rollup.is_active(Fork.JOVIAN, l2_time):
            out.append(("setMinBaseFee", sysconf.SET_MIN_BASE_FEE.encode(10**6 * (r % 3))))
            out.append(("setDAFootprintGasScalar", sysconf.SET_DA_FOOTPRINT_GAS_SCALAR.encode(400 + 100 * (r % 2))))
        return out

    async def _config_loop(self) -> None:
        cfg = self.cfg
        start = trio.current_time()
        rotated = cfg.next_batcher_key is None or cfg.rotation_after is None
        while True:
            await trio.sleep(cfg.config_interval)
            if not rotated and trio.current_time() - start >= cfg.rotation_after:
                await self.rotate_batcher()
                rotated = True
                continue
            updates = self.updates_for(await self._l2_time())
            name, data = updates[self._config_round % len(updates)]
            self._config_round += 1
            await self.owner.send_and_wait(TxCandidate(cfg.rollup.l1_system_config_address, data), timeout=60)
            self.counters.config_updates[name] += 1

    async def rotate_batcher(self) -> int:
        """The key-rotation handshake (module docstring); returns the L1 block of the update."""
        new = address_from_private_key(self.cfg.next_batcher_key)
        if self.control is not None:
            await self.control.pause()
        try:
            r = await self.owner.send_and_wait(TxCandidate(self.cfg.rollup.l1_system_config_address,
                                                           sysconf.SET_BATCHER_HASH.encode(bytes(12) + new)),
                                               timeout=60)
        finally:
            if self.control is not None:
                await self.control.resume()
        self.counters.rotations.append((r.block_number, new))
        self.counters.config_updates["setBatcherHash"] += 1
        log.info("batcher key rotated to 0x%s in L1 block %d", new.hex(), r.block_number)
        return r.block_number
