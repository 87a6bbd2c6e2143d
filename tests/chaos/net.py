"""The chaos suite's devnet: a :class:`Stack` whose nodes reach L1, the beacon API and their own engine's Engine API
through one :class:`FaultProxy` (``/l1/<node>``, ``/beacon/<node>``, ``/engine/<node>``), plus the moves the
scenarios make on its processes: kill -9 and restart from the same command line, SIGSTOP of anvil."""

from __future__ import annotations

import os
import signal

from opnode.testing.fault_proxy import FaultProxy
from opnode.tools.devnet.stack import NodeInfo, Stack

# Deeper than the L1 reorgs the suite makes: the sequencer's L1 origins stay out of them (its chain is the reference).
SEQUENCER_L1_CONFS = 15
# With 1 s L1 blocks under 2 s L2 blocks the sequencer's L1 origin falls one block behind every 2 s (it moves at most
# one per L2 block): after ~7 min the devnet's 200-block window would expire for batches an L1 reorg sent back to
# the batcher (deposit-only blocks, a legitimate sequencer reorg). op-mainnet's window keeps the full form clear of it.
SEQ_WINDOW_SIZE = 3600
FOLLOW_RPC_TIMEOUT = 2


class ChaosStack(Stack):
    def __init__(self, workdir, proxy: FaultProxy, **kw):
        self.proxy = proxy
        super().__init__(workdir, sequencer_l1_confs=SEQUENCER_L1_CONFS, seq_window_size=SEQ_WINDOW_SIZE,
                         l1_url_for=self._l1_url, **kw)

    def _l1_url(self, anvil_url: str, node: str) -> str:
        self.proxy.route("l1", anvil_url)
        return self.proxy.url("l1", node)

    def node_args(self, info: NodeInfo, role: str, rpc_port: int, follows: NodeInfo | None) -> list[str]:
        args = super().node_args(info, role, rpc_port, follows)
        self.proxy.route("beacon", self.beacon_url)
        self.proxy.route("engine", info.engine_auth, node=info.name)
        swap = {self.beacon_url: self.proxy.url("beacon", info.name),
                info.engine_auth: self.proxy.url("engine", info.name)}
        args = [swap.get(a, a) for a in args]
        if role == "light":  # a source that vanished is noticed within a poll, not op-node's default 10 s
            args += ["--l2.follow.source.rpc-timeout", f"{FOLLOW_RPC_TIMEOUT}s"]
        return args

    # -------------------------------------------------------------------------------------------- process moves

    def restart_node(self, info: NodeInfo) -> None:
        """Start the node again from its own command line (ready when its RPC answers)."""
        self.start_node(info, timeout=180)

    def restart_engine(self, info: NodeInfo) -> None:
        info.engine.start()
        info.engine.wait_rpc(info.engine_rpc, "eth_chainId", timeout=180)

    def restart_batcher(self) -> None:
        self.batcher.start()

    def stop_l1(self) -> None:
        os.kill(self.anvil.proc.pid, signal.SIGSTOP)

    def continue_l1(self) -> None:
        os.kill(self.anvil.proc.pid, signal.SIGCONT)
