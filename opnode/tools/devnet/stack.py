"""A devnet as processes: anvil (L1) and its beacon shim, one embedded engine per node, the sequencer node, source
nodes deriving from L1, light nodes following sources, and the batcher. Used by ``opnode devnet`` and by the
end-to-end tests; every process is stopped by :meth:`Stack.stop` (and dies with its parent in any case)."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import trio

from derivation.protocol.crypto import address_from_private_key, keccak256
from derivation.protocol.hexutil import from_hex, parse_quantity
from derivation.protocol.rollup_config import Fork
from derivation.protocol.types import BlockID
from opnode.jsonrpc.client import RpcClient
from opnode.tools.anvil import DEV_KEYS, Anvil
from opnode.tools.batcher.txmgr import TxManager
from opnode.tools.devnet.chain_files import ChainFiles, write_chain_files
from opnode.tools.devnet.procs import Proc, free_port
from opnode.tools.devnet.summary import JsonRpc
from opnode.tools.l1contracts.deploy import L1Deployment, deploy_l1_contracts
from opnode.tools.l1contracts.system_config import InitialValues

DEFAULT_FORKS = {Fork.GRANITE: 0, Fork.HOLOCENE: 40, Fork.ISTHMUS: 80, Fork.JOVIAN: 120, Fork.KARST: 160}
OWNER_KEY, BATCHER_KEY, NEXT_BATCHER_KEY = DEV_KEYS[0], DEV_KEYS[1], DEV_KEYS[2]
SEQUENCER_P2P_KEY = keccak256(b"opnode devnet sequencer p2p key")
GAS_LIMIT = 60_000_000
BASEFEE_SCALAR = 1368  # the genesis SystemConfig of engine.execution.op_genesis.rollup_config_for


def node_key(name: str) -> bytes:
    """Each node's libp2p identity, fixed by its name so that static peers can be written before it starts."""
    return keccak256(b"opnode devnet p2p identity " + name.encode())


@dataclass
class NodeInfo:
    name: str
    role: str  # sequencer | source | light | supernode
    rpc: str
    engine_rpc: str  # the engine's unauthenticated eth RPC
    engine_auth: str
    follows: str | None = None
    metrics: str | None = None
    chains: list[int] | None = None  # a supernode's chain IDs (its ``rpc`` is the root; chains at ``rpc/<id>``)
    files: ChainFiles | None = field(default=None, repr=False)  # its chain's files (None: the stack's first chain)
    engines: dict = field(default_factory=dict, repr=False)  # a supernode's engines: chain id -> (Proc, eth URL)
    proc: Proc | None = field(default=None, repr=False)
    engine: Proc | None = field(default=None, repr=False)
    args: list[str] = field(default_factory=list, repr=False)

    def to_json(self) -> dict:
        out = {"name": self.name, "pid": self.proc.pid if self.proc else None, "role": self.role, "rpc": self.rpc,
               "engine_rpc": self.engine_rpc, "metrics": self.metrics, "follows": self.follows}
        if self.chains is not None:
            out["chains"] = self.chains
        return out


class Stack:
    def __init__(self, workdir: Path, *, sources: int = 1, light_nodes: int = 0,
                 forks: dict[Fork, int] | None = None, block_time: int = 2, l1_block_time: int = 1,
                 seq_window_size: int = 200, channel_timeout: int = 60, batcher_args: list[str] | None = None,
                 start_batcher: bool = True, metrics: bool = False, sequencer_l1_confs: int = 4,
                 l1_url_for: Callable[[str, str], str] | None = None, spread_light_nodes: bool = False,
                 l1_poll_interval: float = 1, l1_epoch_poll_interval: float = 2, interop: bool = False):
        """``l1_url_for(anvil_url, node_name)`` gives a node another L1 URL (a counting or faulty proxy).
        Light nodes follow source-A (the first two) and source-B (the rest), or, with ``spread_light_nodes``, the
        sources in turn (light-1 → source-A, light-2 → source-B, …).
        ``sequencer_l1_confs``: op-node's default 4 keeps the sequencer's L1 origins out of shallow L1 reorgs.
        ``l1_poll_interval``/``l1_epoch_poll_interval``: every node's ``--l1.http-poll-interval`` and
        ``--l1.epoch-poll-interval`` (seconds; op-node's defaults are 12 and 384, a devnet polls faster).
        ``interop``: every chain's genesis has the interop predeploys, and chains added later share the first chain's
        block times (their genesis is moved up to the next block time of the first chain), so blocks of the set meet
        at equal timestamps as interop's same-timestamp rules assume."""
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.logs = self.dir / "logs"
        self.logs.mkdir(exist_ok=True)
        self.n_sources = sources
        self.n_light = light_nodes
        self.spread_light_nodes = spread_light_nodes
        self.forks = DEFAULT_FORKS if forks is None else forks
        self.block_time = block_time
        self.l1_block_time = l1_block_time
        self.seq_window_size = seq_window_size
        self.channel_timeout = channel_timeout
        self.batcher_args = batcher_args or []
        self.start_batcher = start_batcher
        self.metrics = metrics
        self.sequencer_l1_confs = sequencer_l1_confs
        self.l1_url_for = l1_url_for or (lambda url, name: url)
        self.l1_poll_interval = l1_poll_interval
        self.l1_epoch_poll_interval = l1_epoch_poll_interval
        self.interop = interop
        self.activation: int | None = None  # the supernode's interop activation time (start_interop)
        self.spawned: list[Proc] = []  # every engine process started (stopped by stop() whoever owns it)
        self.anvil: Anvil | None = None
        self.beacon: Proc | None = None
        self.beacon_url = ""
        self.files: ChainFiles | None = None
        self.nodes: list[NodeInfo] = []
        self.batcher: Proc | None = None
        self.jsonrpc = JsonRpc(timeout=10)
        self.deployment: L1Deployment | None = None
        self.p2p_ports: dict[str, int] = {}
        self.chain_files: dict[int, ChainFiles] = {}  # every L2 chain on the L1 by chain id (add_chain adds more)
        self.batchers: list[Proc] = []  # the batchers of chains added by add_chain

    # -------------------------------------------------------------------------------------------- lifecycle

    def __enter__(self) -> Stack:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        self.start_l1()
        self.deploy_contracts()
        self.write_files()
        seq = self.add_node("sequencer", "sequencer")
        for i in range(self.n_sources):
            self.add_node(f"source-{'ABCDEFGH'[i]}", "source")
        sources = [n for n in self.nodes if n.role == "source"]
        for i in range(self.n_light):
            if self.spread_light_nodes:
                src = sources[i % len(sources)]
            else:
                src = sources[0] if (i < 2 or len(sources) == 1) else sources[1]
            self.add_node(f"light-{i + 1}", "light", follows=src, sync_peer=seq)
        if self.start_batcher:
            self.start_batcher_proc(seq)

    def start_interop(self, chain_ids: tuple[int, int] = (901, 902), *, activation_blocks: int = 4,
                      expiry_window: int = 0) -> NodeInfo:
        """The interop topology (issue 16): chains ``chain_ids`` on this L1 in one dependency set, each with a light
        sequencer (it follows the supernode's ``/<chainID>``, so it adopts replaced blocks, which its engine fetches
        from the supernode's engine of that chain) and a batcher; one supernode as the only source, verifying from
        ``activation_blocks`` blocks after the later genesis; light nodes following the chains' routes in turn.
        Returns the supernode."""
        self.start_l1()
        self.deploy_contracts()
        self.write_files(l2_chain_id=chain_ids[0])
        keys = {chain_ids[0]: BATCHER_KEY}
        for cid in chain_ids[1:]:
            keys[cid] = NEXT_BATCHER_KEY
            self.write_files(self.deploy_contracts(NEXT_BATCHER_KEY), l2_chain_id=cid, batcher_key=NEXT_BATCHER_KEY,
                             out=f"chain-{cid}")
        # every engine at once (each takes seconds to open its store), then the nodes in order
        engines = {cid: self._spawn_engine(f"supernode-{cid}", [], self.chain_files[cid]) for cid in chain_ids}
        seq_names = {cid: "sequencer" if i == 0 else f"sequencer-{cid}" for i, cid in enumerate(chain_ids)}
        seq_engines = {cid: self._spawn_engine(seq_names[cid], [engines[cid][1]], self.chain_files[cid])
                       for cid in chain_ids}
        light_chain = [chain_ids[i % len(chain_ids)] for i in range(self.n_light)]
        light_engines = [self._spawn_engine(f"light-{i + 1}", [seq_engines[cid][1], engines[cid][1]],
                                            self.chain_files[cid]) for i, cid in enumerate(light_chain)]
        for proc, url, _ in [*engines.values(), *seq_engines.values(), *light_engines]:
            proc.wait_rpc(url, "eth_chainId", timeout=120)
        sn_port = free_port()
        sn_url = f"http://127.0.0.1:{sn_port}"
        seqs = {}
        for i, cid in enumerate(chain_ids):
            files = None if i == 0 else self.chain_files[cid]
            seqs[cid] = self.add_node(seq_names[cid], "sequencer", files=files, follow_url=f"{sn_url}/{cid}",
                                      engine=seq_engines[cid])
            if self.start_batcher:
                proc = self.start_batcher_proc(seqs[cid], keys[cid])
                if i > 0:
                    self.batchers.append(proc)
        self.activation = max(f.rollup_config.genesis.l2_time for f in self.chain_files.values()) + \
            activation_blocks * self.block_time
        sn = self.add_supernode(extra_args=["--interop.activation-timestamp", str(self.activation)],
                                rpc_port=sn_port, expiry_window=expiry_window, engines=engines)
        for i, cid in enumerate(light_chain):
            self.add_light_node(f"light-{i + 1}", f"{sn.rpc}/{cid}", peer=seqs[cid], sync_peer=seqs[cid],
                                engine=light_engines[i])
        return sn

    def stop(self) -> None:
        engines = [e for n in self.nodes for e in ([n.engine] + [p for p, _ in n.engines.values()])] + self.spawned
        for p in [self.batcher, *self.batchers, *(n.proc for n in self.nodes), *dict.fromkeys(engines), self.beacon]:
            if p is not None:
                p.stop()
        if self.anvil is not None:
            self.anvil.stop()
        self.jsonrpc.close()

    # -------------------------------------------------------------------------------------------- L1

    def start_l1(self) -> None:
        self.anvil = Anvil(block_time=self.l1_block_time, extra_args=("--slots-in-an-epoch", "2")).start()
        port = free_port()
        self.beacon = Proc("beacon-shim", [], self.logs, argv=[
            sys.executable, "-m", "opnode.tools.devnet.shim_main", "--anvil", self.anvil.url, "--port",
            str(port)]).start()
        self.beacon_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if self.jsonrpc.http.get(self.beacon_url + "/eth/v1/beacon/genesis").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or not self.beacon.alive():
                raise RuntimeError(f"beacon shim did not start:\n{self.beacon.log_tail()}")
            time.sleep(0.1)

    def l1_rpc(self, method: str, *params):
        return self.anvil.rpc(method, *params)

    def deploy_contracts(self, batcher_key: str = BATCHER_KEY) -> L1Deployment:
        """The deposit contract and the SystemConfig, holding the rollup's genesis SystemConfig and the
        sequencer's gossip key as unsafe block signer (what nodes read with eth_getStorageAt)."""
        initial = InitialValues(owner=address_from_private_key(from_hex(OWNER_KEY, 32)),
                                batcher=address_from_private_key(from_hex(batcher_key, 32)), gas_limit=GAS_LIMIT,
                                basefee_scalar=BASEFEE_SCALAR,
                                unsafe_block_signer=address_from_private_key(SEQUENCER_P2P_KEY))

        async def deploy():
            rpc = RpcClient(self.anvil.url)
            try:
                return await deploy_l1_contracts(TxManager(rpc, from_hex(OWNER_KEY, 32)), initial)
            finally:
                await rpc.aclose()

        deployment = trio.run(deploy)
        if self.deployment is None:
            self.deployment = deployment
        return deployment

    def write_files(self, deployment: L1Deployment | None = None, *, l2_chain_id: int = 901,
                    batcher_key: str = BATCHER_KEY, out: str = "chain") -> ChainFiles:
        """The chain starts on the L1 block of the last deployment transaction (nothing before it matters)."""
        deployment = deployment or self.deployment
        g = self.l1_rpc("eth_getBlockByNumber", hex(deployment.block_number), False)
        l1_genesis = BlockID(from_hex(g["hash"], 32), deployment.block_number)
        batcher = address_from_private_key(from_hex(batcher_key, 32))
        funded = {address_from_private_key(from_hex(k, 32)): 10**24 for k in DEV_KEYS}
        genesis_time = parse_quantity(g["timestamp"])
        if self.interop and self.files is not None:
            first = self.files.rollup_config.genesis.l2_time
            genesis_time = first + -(-(genesis_time - first) // self.block_time) * self.block_time
        files = write_chain_files(
            self.dir / out, l1_chain_id=parse_quantity(self.l1_rpc("eth_chainId")), l1_genesis=l1_genesis,
            genesis_time=genesis_time, fork_offsets=self.forks, batcher=batcher, interop_predeploys=self.interop,
            deposit_contract=deployment.portal, system_config=deployment.system_config, funded=funded,
            block_time=self.block_time, seq_window_size=self.seq_window_size, channel_timeout=self.channel_timeout,
            gas_limit=GAS_LIMIT, l2_chain_id=l2_chain_id)
        if self.files is None:
            self.files = files
        self.chain_files[files.rollup_config.l2_chain_id] = files
        return files

    def add_chain(self, l2_chain_id: int, batcher_key: str = NEXT_BATCHER_KEY, follow_url: str | None = None) -> NodeInfo:
        """A further L2 chain on the same L1: its own deposit contract and SystemConfig (batcher ``batcher_key``),
        files, sequencer ``sequencer-<id>`` (following ``follow_url`` if given) and batcher; the sequencer is
        returned (its ``files`` name the chain)."""
        files = self.write_files(self.deploy_contracts(batcher_key), l2_chain_id=l2_chain_id, batcher_key=batcher_key,
                                 out=f"chain-{l2_chain_id}")
        seq = self.add_node(f"sequencer-{l2_chain_id}", "sequencer", files=files, follow_url=follow_url)
        if self.start_batcher:
            self.batchers.append(self.start_batcher_proc(seq, batcher_key))
        return seq

    # -------------------------------------------------------------------------------------------- nodes

    def start_engine(self, name: str, sync_peer: NodeInfo | None, files: ChainFiles | None = None,
                      sync_urls: list[str] | None = None) -> tuple[Proc, str, str]:
        """``sync_urls``: more engines to sync from, besides ``sync_peer``'s."""
        engine = self._spawn_engine(name, ([sync_peer.engine_rpc] if sync_peer is not None else []) + (sync_urls or []),
                                    files)
        engine[0].wait_rpc(engine[1], "eth_chainId", timeout=120)
        return engine

    def _spawn_engine(self, name: str, peers: list[str], files: ChainFiles | None = None) -> tuple[Proc, str, str]:
        """An engine process, not waited for: (process, eth RPC URL, Engine API URL)."""
        files = files or self.files
        http_port, auth_port = free_port(), free_port()
        args = ["engine", "--genesis", str(files.genesis), "--jwt-secret", str(files.jwt),
                "--http.port", str(http_port), "--authrpc.port", str(auth_port),
                "--datadir", str(self.dir / "data" / name)]
        if peers:
            args += ["--sync.peers", ",".join(peers)]
        proc = Proc(f"{name}-engine", args, self.logs).start()
        self.spawned.append(proc)
        return proc, f"http://127.0.0.1:{http_port}", f"http://127.0.0.1:{auth_port}"

    def node_args(self, info: NodeInfo, role: str, rpc_port: int, follows: NodeInfo | None) -> list[str]:
        f = info.files or self.files
        args = ["node", "--l1", self.l1_url_for(self.anvil.url, info.name), "--l1.beacon", self.beacon_url, "--l2", info.engine_auth,
                "--l2.jwt-secret", str(f.jwt), "--rollup.config", str(f.rollup), "--rollup.l1-chain-config",
                str(f.l1_chain_config), "--rpc.port", str(rpc_port), "--rpc.enable-admin",
                "--l1.http-poll-interval", f"{self.l1_poll_interval}s",
                "--l1.epoch-poll-interval", f"{self.l1_epoch_poll_interval}s", "--log.format", "logfmt"]
        args += self.p2p_args(info.name, role, follows)
        if role == "sequencer":
            args += ["--sequencer.enabled", "--sequencer.l1-confs", str(self.sequencer_l1_confs)]
            if follows is not None:  # a light sequencer: safe heads (and replaced blocks) from its source
                args += ["--l2.follow.source", follows.rpc]
        if role == "source":
            args += ["--safedb.path", str(self.dir / "data" / f"{info.name}.safedb")]
        if role == "light":  # its engine syncs from the sequencer's: EL sync fills gaps in what gossip brings
            args += ["--l2.follow.source", follows.rpc, "--syncmode", "execution-layer"]
        if self.metrics:
            mport = free_port()
            args += ["--metrics.enabled", "--metrics.port", str(mport), "--metrics.addr", "127.0.0.1"]
            info.metrics = f"http://127.0.0.1:{mport}"
        return args

    def p2p_args(self, name: str, role: str, follows: NodeInfo | None) -> list[str]:
        """Gossip on loopback only, static peers and no discovery: sources peer with the sequencer, light nodes
        with the source they follow, so blocks reach light nodes relayed by a source."""
        port = self.p2p_ports.setdefault(name, free_port())
        args = ["--p2p.listen.ip", "127.0.0.1", "--p2p.listen.tcp", str(port), "--p2p.no-discovery",
                "--p2p.priv.raw", node_key(name).hex(),
                "--p2p.peerstore.path", str(self.dir / "data" / f"{name}.peerstore")]
        peer = {"source": "sequencer", "light": follows.name if follows else None}.get(role)
        if peer is not None:
            args += ["--p2p.static", self.multiaddr(peer)]
        if role == "sequencer":
            args += ["--p2p.sequencer.key", SEQUENCER_P2P_KEY.hex()]
        return args

    def multiaddr(self, name: str) -> str:
        from p2p.keys import peer_id_of

        return f"/ip4/127.0.0.1/tcp/{self.p2p_ports[name]}/p2p/{peer_id_of(node_key(name))}"

    def add_node(self, name: str, role: str, follows: NodeInfo | None = None,
                 sync_peer: NodeInfo | None = None, files: ChainFiles | None = None,
                 follow_url: str | None = None, sync_urls: list[str] | None = None,
                 engine: tuple[Proc, str, str] | None = None) -> NodeInfo:
        """``follow_url`` (a sequencer): follow that source route, e.g. a supernode's ``/<chainID>``, which need not
        answer yet; ``sync_urls``: more engines its engine syncs from; ``engine``: one already started."""
        engine, eth, auth = engine or self.start_engine(name, sync_peer, files, sync_urls)
        rpc_port = free_port()
        info = NodeInfo(name, role, f"http://127.0.0.1:{rpc_port}", eth, auth,
                        follows=follow_url or (follows.name if follows else None), engine=engine, files=files)
        if follow_url is not None:
            follows = NodeInfo("", "source", follow_url, "", "")
        info.args = self.node_args(info, role, rpc_port, follows)
        self.nodes.append(info)
        self.start_node(info)
        return info

    def start_node(self, info: NodeInfo, timeout: float = 120) -> None:
        info.proc = Proc(info.name, info.args, self.logs).start()
        if info.role == "supernode":
            info.proc.wait_rpc(info.rpc, "supernode_syncStatus", timeout=timeout)
        else:
            info.proc.wait_rpc(info.rpc, "optimism_syncStatus", timeout=timeout)

    @property
    def l2_chain_id(self) -> int:
        return self.files.rollup_config.l2_chain_id

    def add_supernode(self, name: str = "supernode", extra_args: list[str] | None = None, *,
                      rpc_port: int | None = None, expiry_window: int = 0,
                      engines: dict[int, tuple[Proc, str, str]] | None = None) -> NodeInfo:
        """An ``opnode supernode`` deriving every chain of the stack (``chain_files``) in one dependency set, an
        engine per chain (``<name>-<id>``); its ``rpc`` is the root route, chain ``id``'s op-node API is at
        ``rpc/<id>``. ``expiry_window``: the set's ``overrideMessageExpiryWindow`` (0: the protocol's); ``engines``:
        already started engines by chain id (``start_engine``'s result)."""
        ids = sorted(self.chain_files)
        depset = self.dir / "dependency-set.json"
        body: dict = {"dependencies": {str(c): {} for c in ids}}
        if expiry_window:
            body["overrideMessageExpiryWindow"] = expiry_window
        depset.write_text(json.dumps(body))
        rpc_port = rpc_port or free_port()
        info = NodeInfo(name, "supernode", f"http://127.0.0.1:{rpc_port}", "", "", chains=ids)
        args = ["supernode", "--chains", ",".join(map(str, ids)), "--l1", self.l1_url_for(self.anvil.url, name),
                "--l1.beacon", self.beacon_url, "--data-dir", str(self.dir / "data" / name), "--dependency-set",
                str(depset), "--rpc.addr", "127.0.0.1", "--rpc.port", str(rpc_port), "--l1.http-poll-interval", "1s",
                "--log.format", "logfmt", "--vn.all.l1.epoch-poll-interval", "2s"]
        for cid in ids:
            f = self.chain_files[cid]
            engine, eth, auth = (engines or {}).get(cid) or self.start_engine(f"{name}-{cid}", None, f)
            info.engines[cid] = (engine, eth)
            args += [f"--vn.{cid}.l2", auth, f"--vn.{cid}.l2.jwt-secret", str(f.jwt), f"--vn.{cid}.rollup.config",
                     str(f.rollup), f"--vn.{cid}.rollup.l1-chain-config", str(f.l1_chain_config)]
        first = info.engines[ids[0]]
        info.engine, info.engine_rpc = first
        info.args = args + list(extra_args or [])
        self.nodes.append(info)
        self.start_node(info)
        return info

    def add_light_node(self, name: str, follow_url: str, peer: NodeInfo, sync_peer: NodeInfo,
                       sync_urls: list[str] | None = None, engine: tuple[Proc, str, str] | None = None) -> NodeInfo:
        """A light node of ``sync_peer``'s chain following ``follow_url`` (e.g. a supernode's ``/<chainID>``
        route), gossiping with ``peer``; its engine syncs from ``sync_peer``'s and ``sync_urls`` (or is
        ``engine``, already started)."""
        engine, eth, auth = engine or self.start_engine(name, sync_peer, sync_peer.files, sync_urls)
        rpc_port = free_port()
        info = NodeInfo(name, "light", f"http://127.0.0.1:{rpc_port}", eth, auth, follows=follow_url, engine=engine,
                        files=sync_peer.files)
        via = NodeInfo(peer.name, peer.role, follow_url, peer.engine_rpc, peer.engine_auth)
        info.args = self.node_args(info, "light", rpc_port, via)
        self.nodes.append(info)
        self.start_node(info)
        return info

    def start_batcher_proc(self, seq: NodeInfo, key: str = BATCHER_KEY) -> Proc:
        files = seq.files or self.files
        args = ["batcher", "--l1", self.anvil.url, "--l2-eth-rpc", seq.engine_rpc, "--rollup-rpc", seq.rpc,
                "--rollup.config", str(files.rollup), "--private-key", key, *self.batcher_args]
        name = "batcher" if seq.files is None else f"batcher-{files.rollup_config.l2_chain_id}"
        proc = Proc(name, args, self.logs).start()
        if seq.files is None:
            self.batcher = proc
        return proc

    # -------------------------------------------------------------------------------------------- queries

    def node(self, name: str) -> NodeInfo:
        return next(n for n in self.nodes if n.name == name)

    def rpc(self, url: str, method: str, *params):
        return self.jsonrpc.call(url, method, *params)

    def sync_status(self, node: NodeInfo) -> dict:
        return self.rpc(node.rpc, "optimism_syncStatus")

    def block_hash(self, node: NodeInfo, number: int) -> str | None:
        b = self.rpc(node.engine_rpc, "eth_getBlockByNumber", hex(number), False)
        return None if b is None else b["hash"]

    def ready_info(self) -> dict:
        return {"l1": {"rpc": self.anvil.url, "beacon": self.beacon_url},
                "nodes": [n.to_json() for n in self.nodes], "rollup_config": str(self.files.rollup)}

    def dump_ready(self) -> str:
        return "READY " + json.dumps(self.ready_info())
