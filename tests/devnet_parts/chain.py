"""A small real chain for the batcher and traffic tests, in one trio run: anvil as L1 with the project's contracts,
an embedded engine driven by the real sequencer (Driver + Sequencer on the node's L1/L2 providers), a stub rollup
RPC (``optimism_syncStatus``, ``optimism_rollupConfig``), and a verifier: the sans-IO ``Pipeline`` deriving from
anvil, whose every payload attributes must equal the sequencer's block (all transactions, deposits included)."""

from __future__ import annotations

import dataclasses
import json
import socket
import time
from dataclasses import dataclass, field

import trio

from derivation.pipeline import CriticalFailure, Needed, Pipeline, Progress, ResetRequired, TemporaryFailure
from derivation.protocol.attributes import AttributesWithParent
from derivation.protocol.crypto import address_from_private_key
from derivation.protocol.hexutil import from_hex, parse_quantity
from derivation.protocol.l1_chain_config import L1ChainConfig
from derivation.protocol.rollup_config import Fork, RollupConfig
from derivation.protocol.tx_json import tx_from_json
from derivation.protocol.types import BlockID, L1BlockRef, L2BlockRef
from derivation.providers import DataKind
from derivation.stages.attributes_builder import AttributesBuilder
from engine.client import EngineClient
from engine.controller import EngineController
from engine.execution.chain import Chain
from engine.execution.op_genesis import build_op_genesis, rollup_config_for
from engine.execution.service import EngineService
from engine.heads import ref_from_block
from opnode.jsonrpc.client import RpcClient
from opnode.jsonrpc.http import lifespan, read_body, send_response, serve_url
from opnode.node.l1.beacon import BeaconClient
from opnode.node.l1.client import L1Client
from opnode.node.l1.config import BeaconConfig, L1Config
from opnode.node.l1.heads import HeadTracker
from opnode.node.runtime.driver import Driver
from opnode.node.runtime.l1_data import NodeL1Source, NotYetOnL1
from opnode.node.runtime.l2_data import NodeL2Source
from opnode.node.runtime.sequencer import Sequencer
from opnode.tools.anvil import DEV_KEYS, Anvil
from opnode.tools.batcher.txmgr import TxManager
from opnode.tools.beacon_shim import BeaconShim
from opnode.tools.l1contracts.deploy import L1Deployment, deploy_l1_contracts
from opnode.tools.l1contracts.system_config import InitialValues

SECRET = b"\x42" * 32
L1_CHAIN = L1ChainConfig(900, ())  # anvil: no excess blob gas builds up in these tests, any fraction gives fee 1
OWNER_KEY, BATCHER_KEY, NEXT_BATCHER_KEY = DEV_KEYS[0], DEV_KEYS[1], DEV_KEYS[2]
L2_KINDS = {DataKind.L2_BLOCK_BY_NUMBER, DataKind.L2_BLOCK_BY_HASH, DataKind.L2_SYSTEM_CONFIG,
            DataKind.L2_TRANSACTIONS}


@dataclass
class DevChain:
    anvil: Anvil
    cfg: RollupConfig
    deployment: L1Deployment
    l1_rpc: RpcClient
    engine_http: str
    engine_auth: str
    rollup_rpc: str = ""
    beacon_url: str = ""
    sequencer: Sequencer | None = None
    driver: Driver | None = None
    verifier: Verifier | None = None
    tracker: HeadTracker | None = None

    @property
    def unsafe(self) -> L2BlockRef:
        return self.driver.ctrl.unsafe


def _l1_config(url: str) -> L1Config:
    return L1Config(rpc_url=url, anvil_tx_root=True, http_poll_interval=0.25, prefetch_depth=0)


async def start_chain(nursery, anvil: Anvil, forks: dict[Fork, int], *, l1_confs: int = 2, block_time: int = 1,
                      **overrides) -> DevChain:
    """Deploy the contracts, build the L2 genesis on top of the current L1 head, and start the sequencer, the
    stub rollup RPC and the verifier. ``forks`` are offsets after the L2 genesis time."""
    l1_rpc = RpcClient(anvil.url)
    owner = TxManager(l1_rpc, from_hex(OWNER_KEY, 32))
    batcher = address_from_private_key(from_hex(BATCHER_KEY, 32))
    deployment = await deploy_l1_contracts(owner, InitialValues(owner=owner.address, batcher=batcher,
                                                                gas_limit=60_000_000, basefee_scalar=1368,
                                                                blobbasefee_scalar=810949))
    head = await l1_rpc.call("eth_getBlockByNumber", "latest", False)
    l1_genesis = BlockID(from_hex(head["hash"], 32), parse_quantity(head["number"]))
    t0 = parse_quantity(head["timestamp"])
    genesis = build_op_genesis(901, t0, {f: t0 + o for f, o in forks.items()})
    cfg = rollup_config_for(genesis, Chain(genesis).head.hash, l1_genesis=l1_genesis, l1_chain_id=900,
                            batcher=batcher, deposit_contract=deployment.portal,
                            system_config_address=deployment.system_config, block_time=block_time)
    cfg = dataclasses.replace(cfg, **overrides)
    ports = await nursery.start(EngineService(genesis, SECRET, http_port=0, auth_port=0).run)
    chain = DevChain(anvil, cfg, deployment, l1_rpc, f"http://127.0.0.1:{ports.http}",
                     f"http://127.0.0.1:{ports.auth}")
    shim = BeaconShim(anvil.url)
    chain.beacon_url = await nursery.start(shim.serve)
    await _start_sequencer(nursery, chain, l1_confs)
    chain.verifier = Verifier(chain)
    await nursery.start(chain.verifier.run)
    chain.rollup_rpc = await nursery.start(serve_url, _rollup_rpc_app(chain))
    return chain


async def _start_sequencer(nursery, chain: DevChain, l1_confs: int) -> None:
    cfg = chain.cfg
    client = L1Client(_l1_config(chain.anvil.url))
    engine = EngineClient(chain.engine_auth, SECRET, cfg)
    tracker = HeadTracker(client)
    l1 = NodeL1Source(client, None, confirmed_head=lambda: tracker.confirmed_head)
    ctrl = EngineController(cfg, engine)
    l2 = NodeL2Source(cfg, engine, controller=ctrl)
    driver = Driver(cfg, pipeline=Pipeline(cfg, L1_CHAIN, l1, l2), ctrl=ctrl, l1=l1, l2=l2,
                    l1_finalized=lambda: None, derive=False)
    seq = Sequencer(cfg, ctrl, AttributesBuilder(cfg, L1_CHAIN, l1, l2), driver, l1_confs=l1_confs,
                    clock=time.time, l1_head=lambda: tracker.head.number if tracker.head else None)
    driver.hooks.append(seq.step)
    driver.deadlines.append(seq.seconds_until_next)
    tracker.on_change = lambda what, ref: driver.wake()
    await nursery.start(tracker.run)
    await nursery.start(driver.run)
    chain.sequencer, chain.driver, chain.tracker = seq, driver, tracker


class DerivationMismatch(AssertionError):
    pass


@dataclass
class Verifier:
    """Derives the chain from anvil with the pipeline; each derived block must be the sequencer's block."""

    chain: DevChain
    safe: L2BlockRef | None = None
    derived_from: dict[int, L1BlockRef] = field(default_factory=dict)
    events: list = field(default_factory=list)
    resets: int = 0
    attributes: int = 0

    async def run(self, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        chain = self.chain
        cfg = chain.cfg
        async with L1Client.open(_l1_config(chain.anvil.url)) as client, \
                BeaconClient(BeaconConfig(url=chain.beacon_url)) as beacon:
            self.engine = EngineClient(chain.engine_auth, SECRET, cfg)
            self.l1 = NodeL1Source(client, beacon, confirmed_head=lambda: None)
            self.l1.ahead_of_head = lambda req: False
            self.l2 = NodeL2Source(cfg, self.engine)
            self.pipeline = Pipeline(cfg, L1_CHAIN, self.l1, self.l2, self.events.append)
            self.safe = ref_from_block(cfg, await self.engine.block(0, full=True))
            self.pipeline.reset(self.safe)
            task_status.started()
            while True:
                await self._step()

    async def _step(self) -> None:
        r = self.pipeline.step(self.safe)
        if isinstance(r, AttributesWithParent):
            await self._consolidate(r)
        elif isinstance(r, Needed):
            try:
                if r.request.kind in L2_KINDS:
                    await self.l2.fetch(r.request)
                else:
                    await self.l1.fetch(r.request)
            except (NotYetOnL1, LookupError, Exception) as e:  # not on L1 (or L2) yet
                if isinstance(e, DerivationMismatch):
                    raise
                await trio.sleep(0.2)
        elif isinstance(r, Progress):
            await trio.sleep(0)
        elif isinstance(r, ResetRequired):
            await self._reset()
        elif isinstance(r, TemporaryFailure):
            await trio.sleep(0.2)
        elif isinstance(r, CriticalFailure):
            raise DerivationMismatch(f"derivation halted: {r.reason}")

    async def _consolidate(self, a: AttributesWithParent) -> None:
        n = a.parent.number + 1
        block = None
        while block is None:
            block = await self.engine.block(n, full=True)
            if block is None:
                await trio.sleep(0.2)
        txs = tuple(tx_from_json(t).raw for t in block["transactions"])
        attrs = a.attributes
        if (from_hex(block["parentHash"], 32) != a.parent.hash or parse_quantity(block["timestamp"]) != attrs.timestamp
                or txs != attrs.transactions or parse_quantity(block["gasLimit"]) != attrs.gas_limit
                or from_hex(block["mixHash"], 32) != attrs.prev_randao):
            raise DerivationMismatch(f"derived attributes for L2 block {n} differ from the sequencer's block: "
                                     f"{len(attrs.transactions)} vs {len(txs)} txs, timestamp {attrs.timestamp} vs "
                                     f"{block['timestamp']}")
        self.safe = ref_from_block(self.chain.cfg, block)
        self.derived_from[n] = a.derived_from
        self.attributes += 1

    async def _reset(self) -> None:
        """After an L1 reorg: back to the newest block derived from L1 data that is still canonical."""
        self.resets += 1
        self.l1.forget_numbers()
        self.l2.forget_numbers()
        client = self.l1.client
        while self.safe.number > 0:
            src = self.derived_from.get(self.safe.number)
            if src is not None:
                try:
                    if (await client.block_ref_by_number(src.number)).hash == src.hash:
                        break
                except Exception:
                    pass
            self.safe = ref_from_block(self.chain.cfg, await self.engine.block(self.safe.number - 1, full=True))
        self.pipeline.reset(self.safe)

    def drops(self) -> list:
        return [e for e in self.events if type(e).__name__ == "Dropped"]


def _rollup_rpc_app(chain: DevChain):
    """optimism_syncStatus (unsafe: the sequencer; safe: the verifier) and optimism_rollupConfig."""

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        req = json.loads(await read_body(receive))
        v = chain.verifier
        if req["method"] == "optimism_syncStatus":
            origin = v.pipeline.origin
            result = {"current_l1": (origin.to_json() if origin else {"number": 0}),
                      "unsafe_l2": chain.unsafe.to_json(), "safe_l2": v.safe.to_json()}
        elif req["method"] == "optimism_rollupConfig":
            result = chain.cfg.to_json()
        else:
            result = None
        out = {"jsonrpc": "2.0", "id": req.get("id"), "result": result}
        await send_response(send, 200, json.dumps(out).encode())

    return app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def wait_for(predicate, timeout: float, what: str, poll: float = 0.25):
    with trio.move_on_after(timeout) as scope:
        while not predicate():
            await trio.sleep(poll)
    if scope.cancelled_caught:
        raise AssertionError(f"timed out after {timeout}s waiting for {what}")
