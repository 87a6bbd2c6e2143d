"""The sequencer (op-node ``sequencing.Sequencer`` and ``L1OriginSelector``): one block per block time on the
unsafe head, built by the engine from derived attributes plus its transaction pool.

L1 origin: the next L1 block as soon as the new block's time reaches it (and it is ``--sequencer.l1-confs`` deep);
otherwise the current one, unless that would exceed the sequencer drift — then the next one is required, and
without it no block is built. The pool is off (``noTxPool``) past the drift and on fork activation blocks with
upgrade transactions, Ecotone through Lagoon (op-node sequencer: "For the Karst activation block we must not include
any sequencer transactions"; Jovian, Karst and Lagoon also drop a batch that carries any). ``--sequencer.max-safe-lag`` pauses
sequencing when the unsafe head runs too far ahead of the safe head.

Log lines are op-node's (op-node/rollup/sequencing/sequencer.go, okx/optimism@7573e762, 2026-06-30): "Sequencer has
been started" (``next action``), "Sequencer has been stopped", "Started sequencing new block" (parent, l1Origin),
"Sequencer sealed block" (block, parent, txs, time; no ``payloadID``: the engine client does not surface it),
"Sequencer inserted block" (block, parent), "sequencer has fallen behind safe head by more than lag, stalling"
(head, safe, max_lag; once per stall, where op-node repeats it per forkchoice update) and the recover-mode warning.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

from derivation.protocol.errors import TemporaryError
from derivation.protocol.payload import ExecutionPayloadEnvelope
from derivation.protocol.rollup_config import RollupConfig
from derivation.protocol.types import BlockID, L1BlockInfo
from derivation.protocol.upgrades import UPGRADE_FORKS
from derivation.stages.attributes_builder import AttributesBuilder
from engine.controller import EngineController, InvalidPayload
from opnode.node.logs import get_logger

log = get_logger("opnode.sequencer")

NO_POOL_FORKS = UPGRADE_FORKS


def no_tx_pool(cfg: RollupConfig, origin_time: int, l2_timestamp: int) -> bool:
    """The block at ``l2_timestamp`` takes no pool transactions: past the drift, or a fork activation block with
    upgrade transactions."""
    return (l2_timestamp > origin_time + cfg.max_sequencer_drift_at(origin_time)
            or any(cfg.is_activation_block(f, l2_timestamp) for f in NO_POOL_FORKS))


class Sequencer:
    def __init__(self, cfg: RollupConfig, ctrl: EngineController, builder: AttributesBuilder, driver, *,
                 l1_confs: int = 4, max_safe_lag: int = 0, active: bool = True,
                 l1_head: Callable[[], int | None] = lambda: None, clock: Callable[[], float] = time.time,
                 on_sealed: Callable[[ExecutionPayloadEnvelope], None] | None = None, metrics=None,
                 sealing_duration: float = 0.0):
        self.cfg = cfg
        self.ctrl = ctrl
        self.builder = builder
        self.driver = driver  # for resolve() and wake()
        self.l1_confs = l1_confs
        self.max_safe_lag = max_safe_lag
        self.active = active
        self.l1_head = l1_head
        self.clock = clock
        self.on_sealed = on_sealed or (lambda env: None)
        self.metrics = metrics  # opnode.node.metrics.Metrics: op-node's sequencer families
        # --sequencer.sealing-duration: seal this long before the block's timestamp (op-node fetches the payload
        # from the engine that much earlier; flags.go SequencerSealingDurationFlag)
        self.sealing_duration = sealing_duration
        self.sealed = 0
        self.waiting = False  # past the drift without the next L1 origin
        # --sequencer.recover / admin_setRecoverMode (op-node Sequencer.SetRecoverMode): blocks take no pool
        # transactions. The origin rule is already recover mode's: the next L1 origin is always looked up.
        self.recover = False
        self.stalled = False  # behind the safe head by --sequencer.max-safe-lag (logged once per stall)

    # -------------------------------------------------------------------------------------------- control

    def start(self, head_hash: bytes) -> None:
        """``admin_startSequencer``: only on top of the current unsafe head (op-node refuses otherwise)."""
        if self.active:
            raise ValueError("sequencer already running")
        if head_hash != self.ctrl.unsafe.hash:
            raise ValueError(f"block hash does not match the unsafe head {self.ctrl.unsafe.hash.hex()}")
        self.active = True
        self.log_started()
        self.driver.wake()

    def log_started(self) -> None:
        # op-node's next action is a time.Time, formatted by go-ethereum's logfmt as 2006-01-02T15:04:05-0700
        nxt = time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(max(self.clock(), self.next_seal_time())))
        log.info("Sequencer has been started", **{"next action": nxt})

    def stop(self) -> bytes:
        """``admin_stopSequencer``: returns the unsafe head hash to restart from."""
        if not self.active:
            raise ValueError("sequencer not running")
        self.active = False
        log.info("Sequencer has been stopped")
        return self.ctrl.unsafe.hash

    def next_seal_time(self) -> float:
        return self.ctrl.unsafe.time + self.cfg.block_time - self.sealing_duration

    def seconds_until_next(self) -> float:
        return self.next_seal_time() - self.clock()

    # -------------------------------------------------------------------------------------------- building

    async def step(self) -> None:
        """Called by the driver every iteration: seal the next block if its time has come."""
        if not self.active or self.ctrl.el_syncing or self.driver.reset_reason is not None:
            return
        h = self.ctrl.heads
        if self.max_safe_lag and h.unsafe.number - h.safe.number >= self.max_safe_lag:
            if not self.stalled:
                log.warn("sequencer has fallen behind safe head by more than lag, stalling", head=h.unsafe,
                         safe=h.safe, max_lag=self.max_safe_lag)
            self.stalled = True
            return
        self.stalled = False
        if self.seconds_until_next() > 0:
            return
        try:
            await self._seal()
        except InvalidPayload as e:
            log.error("engine refused the sequenced block", err=str(e))
            if self.metrics is not None:
                self.metrics.record_sequencing_error()
        finally:
            self.driver.wake()

    def _visible(self, number: int) -> bool:
        head = self.l1_head()
        return head is not None and number + self.l1_confs <= head

    async def _origin(self) -> L1BlockInfo | None:
        parent = self.ctrl.unsafe
        l1 = self.driver.l1
        cur = await self.driver.resolve(lambda: l1.block_by_hash(parent.l1_origin.hash))
        ts = parent.time + self.cfg.block_time
        nxt = None
        if self._visible(cur.number + 1):
            nxt = await self.driver.resolve(lambda: l1.block_by_number(cur.number + 1))
            if nxt.parent_hash != cur.hash:
                raise TemporaryError(f"L1 block {nxt.number} does not build on the current origin {cur.number}")
        if nxt is not None and ts >= nxt.time:
            return nxt
        if ts - cur.time <= self.cfg.max_sequencer_drift_at(cur.time):
            return cur
        if nxt is None:
            if not self.waiting:
                log.warn("past the sequencer drift and the next L1 origin is not available: waiting",
                         origin=cur.number)
            self.waiting = True
            return None
        return cur if ts < nxt.time else nxt

    async def _seal(self) -> None:
        started = time.monotonic()
        parent = self.ctrl.unsafe
        origin = await self._origin()
        if origin is None:
            return
        self.waiting = False
        epoch = BlockID(origin.hash, origin.number)
        log.info("Started sequencing new block", parent=parent, l1Origin=epoch)
        attrs = await self.driver.resolve(lambda: self.builder.prepare(parent, epoch))
        ts = attrs.timestamp
        attrs = dataclasses.replace(attrs, no_tx_pool=no_tx_pool(self.cfg, origin.time, ts) or self.recover)
        if self.recover:
            log.warn("Sequencing temporarily without user transactions, in recover mode")
        sealing = time.monotonic()
        env, ref = await self.ctrl.sequence(attrs)
        if self.metrics is not None:
            done = time.monotonic()
            deposits = sum(1 for tx in env.transactions if tx[:1] == b"\x7e")
            self.metrics.record_sequenced(done - started, done - sealing, self.cfg.block_time, deposits,
                                          len(env.transactions) - deposits)
        await self.ctrl.sync_forkchoice()
        self.sealed += 1
        self.on_sealed(env)
        log.info("Sequencer sealed block", block=ref.id, parent=parent.id, txs=len(env.transactions), time=ref.time)
        log.info("Sequencer inserted block", block=ref, parent=parent.id)
