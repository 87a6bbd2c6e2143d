"""``opnode devnet --interop``: two L2 chains (901, 902) in one dependency set on one anvil (issue 16).

Topology (:meth:`~opnode.tools.devnet.stack.Stack.start_interop`): per chain a light sequencer with its engine and a
batcher; one ``opnode supernode`` deriving both chains, the only source; light nodes following the supernode's
``/<chainID>`` routes in turn. The sequencers follow the supernode too, so a block the supernode replaces (an invalid
executing message) is adopted by the chain's producer (op-node #21155) and the batcher posts the new branch.

Traffic: :mod:`~opnode.tools.devnet.interop_traffic` (``--faults``: invalid messages; the batchers post honestly, so
every replacement is the supernode's). Checks: :mod:`~opnode.tools.devnet.interop_summary`.
"""

from __future__ import annotations

import logging
import time

import trio

from derivation.protocol.hexutil import from_hex
from derivation.protocol.rollup_config import Fork
from opnode.tools.anvil import DEV_KEYS
from opnode.tools.devnet.interop_summary import ChainNodes, summarize_interop
from opnode.tools.devnet.interop_traffic import InteropTraffic, InteropTrafficConfig
from opnode.tools.devnet.run import Devnet, DevnetOptions
from opnode.tools.devnet.stack import Stack
from opnode.tools.devnet.summary import JsonRpc, NodeRef

log = logging.getLogger("opnode.tools.devnet")

CHAINS = (901, 902)
VALID_KEY, FAULT_KEY = DEV_KEYS[3], DEV_KEYS[0]  # funded on both L2s; key 0 signs nothing else on L2 here
EXPIRY_WINDOW = 30  # the set's overrideMessageExpiryWindow: short, so that "expired" happens within a run
SETTLE_LIMIT = 180.0  # --duration reached with fault rounds under way: how long they may still take
ACTIVATION_BLOCKS = 4


class InteropDevnet(Devnet):
    def __init__(self, opts: DevnetOptions, workdir):
        super().__init__(opts, workdir)
        batcher_args = ["--da", opts.da, "--poll-interval", str(opts.batcher_poll), "--max-channel-duration", "1",
                        *opts.batcher_args]
        self.stack = Stack(self.dir, sources=0, light_nodes=opts.light_nodes, forks=opts.forks,
                           block_time=opts.block_time, l1_block_time=opts.l1_block_time, batcher_args=batcher_args,
                           metrics=True, sequencer_l1_confs=opts.sequencer_l1_confs, interop=True)
        self.supernode = None
        self.interop: InteropTraffic | None = None

    def start(self) -> dict:
        self.started_at = time.monotonic()
        try:
            self.supernode = self.stack.start_interop(CHAINS, activation_blocks=ACTIVATION_BLOCKS,
                                                      expiry_window=EXPIRY_WINDOW)
        except BaseException:
            self.stack.stop()
            raise
        log.info("interop devnet up in %.1f s: %s", time.monotonic() - self.started_at, self.dir)
        return self.stack.ready_info()

    # -------------------------------------------------------------------------------------------- endpoints

    def sequencer(self, cid: int):
        return self.stack.node("sequencer" if cid == CHAINS[0] else f"sequencer-{cid}")

    def chain_nodes(self) -> dict[int, ChainNodes]:
        sn = self.supernode
        out = {}
        for cid in CHAINS:
            seq = self.sequencer(cid)
            lights = tuple(NodeRef(n.name, n.role, n.rpc, n.engine_rpc, n.metrics) for n in self.stack.nodes
                           if n.role == "light" and n.follows == f"{sn.rpc}/{cid}")
            out[cid] = ChainNodes(cid, self.stack.chain_files[cid].rollup_config, f"{sn.rpc}/{cid}",
                                  sn.engines[cid][1], NodeRef(seq.name, seq.role, seq.rpc, seq.engine_rpc, seq.metrics),
                                  lights)
        return out

    def status_endpoints(self) -> list[tuple[str, str]]:
        """(name, rollup RPC) of every chain view: the supernode once per chain route."""
        out = []
        for n in self.stack.nodes:
            if n.role == "supernode":
                out += [(f"{n.name}/{cid}", f"{n.rpc}/{cid}") for cid in n.chains]
            else:
                out.append((n.name, n.rpc))
        return out

    # -------------------------------------------------------------------------------------------- live

    async def _traffic(self) -> None:
        chains = self.chain_nodes()

        async def replaced(cid: int, number: int, orig: bytes) -> bool:
            c = chains[cid]
            st = await self._rpc(c.route, "optimism_syncStatus")
            if not isinstance(st, dict) or st["safe_l2"]["number"] < number:
                return False
            b = await self._rpc(c.source_engine, "eth_getBlockByNumber", hex(number), False)
            return isinstance(b, dict) and from_hex(b["hash"], 32) != orig

        cfg = InteropTrafficConfig(
            engines={cid: c.sequencer.engine_rpc for cid, c in chains.items()},
            configs={cid: c.cfg for cid, c in chains.items()}, valid_key=from_hex(VALID_KEY, 32),
            fault_key=from_hex(FAULT_KEY, 32), activation=self.stack.activation, expiry_window=EXPIRY_WINDOW,
            faults=self.opts.faults, replaced=replaced)
        self.interop = InteropTraffic(cfg)
        try:
            await self.interop.run()
        except Exception as e:
            log.exception("interop traffic stopped")
            self.errors.append(f"interop traffic stopped: {type(e).__name__}: {e}")

    async def settle(self) -> None:
        """With ``--faults``: a summary taken while a fault round is under way would find its blocks not replaced
        yet (a loaded machine, or a same-timestamp cycle that missed its block and was sent again, can take the
        rounds past ``--duration``). Wait, at most ``SETTLE_LIMIT`` s, until the rounds are over and every view of
        each chain (the supernode's route, the light sequencer, the light nodes) holds as safe the highest block a
        fault landed in; the summary then judges what happened."""
        if not self.opts.faults or self.interop is None:
            return
        views = {cid: [c.route, *(n.rpc for n in c.followers)] for cid, c in self.chain_nodes().items()}
        with trio.move_on_after(SETTLE_LIMIT) as scope:
            logged = False
            while True:
                counters = self.interop.counters
                pending = [] if counters.faults_done else ["fault rounds"]
                for cid, urls in views.items():
                    top = max((e.block_number or 0 for e in counters.invalid if e.chain_id == cid), default=0)
                    for url in urls:
                        st = await self._rpc(url, "optimism_syncStatus")
                        if not isinstance(st, dict) or st["safe_l2"]["number"] < top:
                            pending.append(f"{url} safe < {top}")
                if not pending:
                    return
                if not logged:
                    log.info("--duration reached: waiting for the fault rounds to settle (at most %.0f s): %s",
                             SETTLE_LIMIT, "; ".join(pending))
                    logged = True
                await trio.sleep(1)
        if scope.cancelled_caught:
            log.warning("fault rounds not settled within %.0f s: the summary judges them as they are", SETTLE_LIMIT)

    async def sample(self) -> dict:
        nodes: dict[str, dict | None] = {}
        l1_head = None
        for name, url in self.status_endpoints():
            st = await self._rpc(url, "optimism_syncStatus")
            if not isinstance(st, dict):
                nodes[name] = None
                continue
            nodes[name] = {"unsafe": st["unsafe_l2"]["number"], "local_safe": st["local_safe_l2"]["number"],
                           "safe": st["safe_l2"]["number"], "finalized": st["finalized_l2"]["number"],
                           "safe_l1origin": st["safe_l2"]["l1origin"]["number"]}
            l1_head = max(l1_head or 0, st["head_l1"]["number"])
        row = {"t": round(time.monotonic() - self.started_at, 1), "l1_head": l1_head, "nodes": nodes}
        self.samples.append(row)
        return row

    # -------------------------------------------------------------------------------------------- summary

    def summary(self) -> dict:
        o = self.opts
        rpc = JsonRpc()
        errors = list(self.errors)
        try:
            for n in self.stack.nodes:
                if n.proc is None or not n.proc.alive():
                    errors.append(f"{n.name} is not running")
            for p in [self.stack.batcher, *self.stack.batchers]:
                if p is None or not p.alive():
                    errors.append(f"{p.name if p else 'batcher'} is not running")
            traffic = self.interop.snapshot() if self.interop else None
            if traffic is not None:
                errors += [f"interop traffic: {e}" for e in traffic["errors"]]
            log_path = self.supernode.proc.log_path if self.supernode.proc else None
            sn_log = log_path.read_text(errors="replace") if log_path and log_path.exists() else ""
            result = summarize_interop(rpc, supernode_rpc=self.supernode.rpc, chains=self.chain_nodes(),
                                       traffic=traffic, faults=o.faults, errors=errors, supernode_log=sn_log)
        finally:
            rpc.close()
        result["options"] = {"interop": True, "chains": list(CHAINS), "light_nodes": o.light_nodes, "da": o.da,
                             "faults": o.faults, "block_time": o.block_time, "l1_block_time": o.l1_block_time,
                             "expiry_window": EXPIRY_WINDOW, "activation": self.stack.activation,
                             "forks": {Fork(f).name.lower(): v for f, v in o.forks.items()}}
        result["traffic"] = traffic
        result["nodes"] = [n.to_json() for n in self.stack.nodes]
        result["samples"] = self.samples
        return result
