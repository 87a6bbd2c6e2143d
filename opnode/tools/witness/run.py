"""The offline fault-proof run: from an agreed L2 output root, derive the next L2 blocks from the L1 data in a
preimage store, execute them on the L2 state in the store, and compare the output root with the claim.

It follows kona's single-chain client (kona ``bin/client/src/single.rs``, ``crates/proof/proof/src/sync.rs``,
``crates/proof/driver/src/core.rs``; op-rs/kona@cdb9be24, 2026-01-09), which the live fault-proof games run:

1. The agreed output root's preimage (``0 ‖ state root ‖ message passer root ‖ block hash``) names the agreed L2
   head. A claim for a block below it does not hold; a claim equal to the agreed root holds without derivation
   (trace extension).
2. Derivation starts at the agreed head's L1 origin minus the channel timeout (kona takes the timeout at the L2
   head's timestamp, and so does this run), found by walking L1 back from the L1 head by parent hash, with the
   agreed head's SystemConfig; it does not walk the L2 chain back as a node's reset does.
3. Each payload attributes are executed on the state in the store (:mod:`engine.execution.stateless`); the block becomes the
   safe head. A block that cannot be built is replaced by its deposits from Holocene (and the channel flushed);
   before Holocene its attributes are dropped.
4. When the safe head reaches the claimed block the output root is compared with the claim. When derivation needs
   an L1 block past the L1 head, the data is exhausted and the safe head reached so far is the answer (kona
   "Exhausted data source"): its output root is compared with the claim. kona starts its tip cursor with a zero
   output root, so a run that derives nothing compares zero; this run compares the agreed root instead, which is
   op-program's answer and the honest one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from derivation.events import Event, PipelineReset
from derivation.pipeline import CriticalFailure, Needed, Pipeline, Progress, ResetRequired, TemporaryFailure
from derivation.protocol.attributes import AttributesWithParent
from derivation.protocol.errors import ParseError
from derivation.protocol.hexutil import to_hex
from derivation.protocol.l1_chain_config import L1ChainConfig
from derivation.protocol.output_root import OutputRootError, OutputV0
from derivation.protocol.rollup_config import Fork, RollupConfig
from derivation.protocol.transactions import decode as decode_tx
from derivation.providers import DataKind
from engine.execution.evm.block import BlockAttributes
from engine.execution.evm.header import Header
from engine.execution.stateless import BlockInvalid, StatelessExecutor, StateMissing, spec_for
from opnode.tools.witness.keys import keccak_key
from opnode.tools.witness.l1 import OracleL1
from opnode.tools.witness.l2 import OracleL2
from opnode.tools.witness.oracle import Oracle, PreimageMismatch, PreimageMissing


@dataclass(frozen=True, slots=True)
class Inputs:
    """The program's local inputs (kona ``BootInfo``), the rollup config and the L1's chain config."""

    l1_head: bytes
    agreed_output_root: bytes
    claimed_output_root: bytes
    claimed_block_number: int
    cfg: RollupConfig
    l1_chain: L1ChainConfig


@dataclass(frozen=True, slots=True)
class ExecutedBlock:
    """One derived and executed L2 block (``replaced``: Holocene's deposit-only replacement, with why)."""

    attributes: AttributesWithParent
    header: Header
    transactions: tuple[bytes, ...]
    output_root: bytes
    replaced: str | None = None

    @property
    def number(self) -> int:
        return self.header.number

    @property
    def derived_from(self):
        return self.attributes.derived_from


@dataclass(frozen=True, slots=True)
class DroppedPayload:
    """Pre-Holocene attributes the engine could not build: dropped, derivation goes on."""

    attributes: AttributesWithParent
    reason: str

    @property
    def derived_from(self):
        return self.attributes.derived_from


TimelineItem = Event | ExecutedBlock | DroppedPayload


@dataclass
class Timings:
    total: float = 0.0
    store: float = 0.0  # reading preimages and checking them against their keys (in both phases)
    derivation: float = 0.0  # pipeline steps, store time excluded
    execution: float = 0.0  # block building and output roots, store time excluded


@dataclass
class Result:
    inputs: Inputs
    claim_holds: bool
    computed_output_root: bytes
    safe_head: int  # the L2 block whose output root was computed
    message: str
    agreed_head: int
    start_l1: int | None = None
    exhausted: bool = False  # the L1 data ran out before the claimed block
    failed: bool = False  # derivation or a deposit-only block failed: the program would not finish
    timeline: list[TimelineItem] = field(default_factory=list)
    executed: list[ExecutedBlock] = field(default_factory=list)
    claimed_preimage: OutputV0 | None = None  # the claim's preimage, when the store holds it
    timings: Timings = field(default_factory=Timings)
    preimages_read: int = 0
    preimages_bytes: int = 0


class WitnessRun:
    def __init__(self, inputs: Inputs, oracle: Oracle, step_budget: int = 1000):
        self.inputs = inputs
        self.oracle = oracle
        self.step_budget = step_budget
        self.timeline: list[TimelineItem] = []
        self.executed: list[ExecutedBlock] = []
        self._purpose = "L2 state"

    def _agreed(self) -> OutputV0:
        root = self.inputs.agreed_output_root
        raw = self.oracle.keccak(root, "the agreed L2 output root")
        try:
            return OutputV0.unmarshal(raw)
        except OutputRootError as e:
            raise PreimageMismatch(keccak_key(root), "the agreed L2 output root", f"is not an output root: {e}") \
                from None

    def _claimed_preimage(self) -> OutputV0 | None:
        """The claim's preimage if the store happens to hold it (it shows which part of the claim differs)."""
        root = self.inputs.claimed_output_root
        if not self.oracle.has_keccak(root):
            return None
        try:
            return OutputV0.unmarshal(self.oracle.keccak(root, "the claimed L2 output root"))
        except (OutputRootError, PreimageMismatch):
            return None

    def run(self) -> Result:
        """Derive and execute from the agreed head until the claimed block, the end of the L1 data or a failure."""
        self._t_start = time.perf_counter()
        inp, cfg = self.inputs, self.inputs.cfg
        l2 = OracleL2(cfg, self.oracle, self._agreed().block_hash)
        self.l2 = l2
        self._agreed_head = l2.safe.number
        self._derive_t = self._exec_t = 0.0
        if inp.claimed_block_number < self._agreed_head:
            return self._result(False, inp.agreed_output_root, f"the claimed block {inp.claimed_block_number} is "
                                                               f"below the agreed L2 head {self._agreed_head}")
        if inp.agreed_output_root == inp.claimed_output_root:
            return self._result(True, inp.agreed_output_root, "the claim is the agreed output root (trace "
                                                              "extension): nothing to derive")
        l1 = OracleL1(self.oracle, inp.l1_head)
        self.executor = StatelessExecutor(spec_for(cfg), self._state_node, self.oracle.has_keccak,
                                          lambda h: l2.header(h))
        pipeline, start = self._start(l1, l2)
        output = inp.agreed_output_root
        while l2.safe.number < inp.claimed_block_number:
            s0, t0 = self.oracle.stats.seconds, time.perf_counter()
            r = pipeline.step(l2.safe, self.step_budget)
            self._derive_t += (time.perf_counter() - t0) - (self.oracle.stats.seconds - s0)
            if isinstance(r, AttributesWithParent):
                done = self._timed_execute(r, pipeline)
                if isinstance(done, str):
                    return self._result(False, output, done, failed=True, start_l1=start)
                if done is not None:
                    output = done.output_root
            elif isinstance(r, Progress):
                continue
            elif isinstance(r, Needed) and r.request.kind is DataKind.L1_BLOCK_BY_NUMBER \
                    and r.request.key > l1.head.info.number:
                holds = output == inp.claimed_output_root
                return self._result(holds, output, f"the L1 data ends at the L1 head {l1.head.info.number} before "
                                                   f"the claimed block {inp.claimed_block_number}: the answer is the "
                                                   f"safe head {l2.safe.number}", exhausted=True, start_l1=start)
            else:
                what = {Needed: "needed data it cannot have", ResetRequired: "asked for a reset",
                        TemporaryFailure: "failed", CriticalFailure: "failed critically"}.get(type(r), "stopped")
                detail = r.request if isinstance(r, Needed) else getattr(r, "reason", r)
                return self._result(False, output, f"derivation {what}: {detail}", failed=True, start_l1=start)
        holds = output == inp.claimed_output_root
        msg = (f"L2 block {l2.safe.number} has output root {to_hex(output)}"
               + (", the claimed one" if holds else f", not the claimed {to_hex(inp.claimed_output_root)}"))
        return self._result(holds, output, msg, start_l1=start)

    def _start(self, l1: OracleL1, l2: OracleL2) -> tuple[Pipeline, int]:
        """The pipeline, started a channel timeout before the agreed head's L1 origin (as op-program does)."""
        cfg = self.inputs.cfg
        pipeline = Pipeline(cfg, self.inputs.l1_chain, l1, l2, self.timeline.append)
        safe = l2.safe
        timeout = cfg.channel_timeout_at(safe.time)
        origin = l1.block_by_number(safe.l1_origin.number)
        start = l1.block_by_number(max(origin.number - timeout, cfg.genesis.l1.number))
        pipeline.start_at(start.ref, l2.system_config(safe.hash),
                          f"derivation starts at L1 block {start.number}: the agreed L2 head {safe.number}'s L1 "
                          f"origin {origin.number} minus the channel timeout {timeout}")
        return pipeline, start.number

    def _timed_execute(self, r: AttributesWithParent, pipeline: Pipeline):
        s0, t0 = self.oracle.stats.seconds, time.perf_counter()
        try:
            return self._execute(r, pipeline)
        except StateMissing as e:
            raise PreimageMissing(keccak_key(e.node_hash), self._state_purpose()) from None
        finally:
            self._exec_t += (time.perf_counter() - t0) - (self.oracle.stats.seconds - s0)

    def _result(self, holds: bool, root: bytes, message: str, **kw) -> Result:
        r = Result(self.inputs, holds, root, self.l2.safe.number, message, self._agreed_head, timeline=self.timeline,
                   executed=self.executed, **kw)
        if not holds:
            r.claimed_preimage = self._claimed_preimage()
        r.timings.total = time.perf_counter() - self._t_start
        r.timings.store = self.oracle.stats.seconds
        r.timings.derivation, r.timings.execution = self._derive_t, self._exec_t
        r.preimages_read, r.preimages_bytes = self.oracle.stats.reads, self.oracle.stats.bytes
        return r

    def _state_node(self, h: bytes) -> bytes | None:
        return self.oracle.keccak_if_held(h, self._state_purpose())

    def _state_purpose(self) -> str:
        return f"{self._purpose} (a trie node or contract code)"

    def _execute(self, a: AttributesWithParent, pipeline: Pipeline) -> ExecutedBlock | str | None:
        """Build the block; Holocene replaces a failing one by its deposits. A string: the run cannot go on."""
        cfg, attrs = self.inputs.cfg, a.attributes
        number = a.parent.number + 1
        self._purpose = f"the L2 state read by block {number}"
        parent = self.l2.header(a.parent.hash, f"L2 header {a.parent.number}")
        battrs = BlockAttributes(timestamp=attrs.timestamp, prev_randao=attrs.prev_randao,
                                 fee_recipient=attrs.suggested_fee_recipient, gas_limit=attrs.gas_limit,
                                 parent_beacon_root=attrs.parent_beacon_block_root,
                                 eip1559_params=attrs.eip1559_params, min_base_fee=attrs.min_base_fee)
        replaced = None
        txs_raw = attrs.transactions
        try:
            sealed = self.executor.build(parent, battrs, _decode_all(txs_raw))
        except BlockInvalid as e:
            if not cfg.is_active(Fork.HOLOCENE, attrs.timestamp):
                self.timeline.append(DroppedPayload(a, str(e)))
                return None
            pipeline.flush_channel()
            replaced = str(e)
            txs_raw = attrs.deposits_only().transactions
            try:
                sealed = self.executor.build(parent, battrs, _decode_all(txs_raw))
            except BlockInvalid as e2:
                return f"the deposit-only replacement of L2 block {number} cannot be built either: {e2}"
        header = sealed.header
        self.l2.add_executed(header, tuple(txs_raw))
        self._purpose = f"the L2 state after block {number}"
        done = ExecutedBlock(a, header, tuple(txs_raw), self.executor.output_root(header), replaced)
        self.executed.append(done)
        self.timeline.append(done)
        return done


def _decode_all(raws):
    out = []
    for i, raw in enumerate(raws):
        try:
            out.append(decode_tx(raw))
        except ParseError as e:
            raise BlockInvalid(f"transaction {i} does not decode: {e}") from None
    return out


def first_l1_block(result: Result) -> int | None:
    return next((e.l1.number for e in result.timeline if isinstance(e, PipelineReset)), None)
