"""Block gossip latency on loopback: from ``publish`` on the sequencer's host to delivery (validated, ready for
``engine_newPayload``) on a second host, p50/p99, for small and large blocks. In the same run and over the same
connection, a raw libp2p stream round trip with the same number of bytes, and the CPU the gossip path adds
(sign + SSZ + snappy on one side, snappy + recover + SSZ + block hash on the other), so the figures say what is
network, what is py-libp2p and what is validation.

Then the node path end to end, in process: a sequencer (driver + sequencer + controller on its own embedded engine)
seals blocks of user transfers and its gossip service publishes them; a second gossip service delivers them to a
light node's driver, which inserts them into its own embedded engine (newPayload, then forkchoiceUpdated). Latency
from the sequencer's seal (its ``on_sealed`` hook, after its own engine took the block) to the light node's engine
accepting the forkchoice, p50/p99, split at delivery, next to a raw libp2p stream round trip of the same size
between the same two hosts in the same run. Both engines, both hosts and both drivers share this one thread, as
they would not in two processes: the split shows where the time goes.
"""

from __future__ import annotations

import os
import random
import tempfile
import time
from pathlib import Path

import httpx
import trio

from bench.timing import header
from derivation.protocol.crypto import keccak256
from derivation.protocol.payload import ExecutionPayload, ExecutionPayloadEnvelope
from derivation.protocol.rollup_config import Fork, RollupConfig
from p2p.block_hash import compute_block_hash
from p2p.config import P2PConfig
from p2p.service import GossipService
from p2p.signing import LocalSigner
from p2p.topics import BlockVersion, version_for_timestamp
from p2p.validation import BlockValidator
from p2p.wire import encode_block_message

ECHO = "/opnode/bench/echo/1.0.0"
SEAL_FORKS = {Fork.HOLOCENE: 0, Fork.ISTHMUS: 0, Fork.JOVIAN: 0}
SEAL_TXS = 10
SEAL_WARMUP = 3  # first blocks: py-evm and the connection warm up
ROUNDS = 200
SIZES = {"small block (10 txs)": 10, "large block (400 txs)": 400}


def _chain() -> RollupConfig:
    from derivation.protocol.rollup_config import ChainOpConfig, Genesis
    from derivation.protocol.system_config import SystemConfig
    from derivation.protocol.types import BlockID

    genesis = Genesis(BlockID(b"\x01" * 32, 0), BlockID(b"\x02" * 32, 0), 1,
                      SystemConfig(b"\x03" * 20, bytes(32), b"\x01" * 32, 30_000_000))
    return RollupConfig(genesis=genesis, block_time=2, max_sequencer_drift=600, seq_window_size=3600,
                        channel_timeout=300, l1_chain_id=900, l2_chain_id=901, batch_inbox_address=b"\x04" * 20,
                        deposit_contract_address=b"\x05" * 20, l1_system_config_address=b"\x06" * 20,
                        fork_times={f: 0 for f in Fork if Fork.REGOLITH <= f <= Fork.JOVIAN},
                        chain_op_config=ChainOpConfig())


def _block(cfg: RollupConfig, number: int, txs: int, rng: random.Random) -> ExecutionPayloadEnvelope:
    t = int(time.time())
    version = version_for_timestamp(cfg, t)
    p = ExecutionPayload(
        parent_hash=rng.randbytes(32), fee_recipient=bytes(19) + b"\x11", state_root=rng.randbytes(32),
        receipts_root=rng.randbytes(32), logs_bloom=rng.randbytes(256), prev_randao=rng.randbytes(32),
        block_number=number, gas_limit=30_000_000, gas_used=21_000 * txs, timestamp=t,
        extra_data=bytes.fromhex("0100000032000000060000000000000000"), base_fee_per_gas=1_000_000,
        block_hash=bytes(32), transactions=tuple(b"\x02" + rng.randbytes(rng.randrange(110, 400)) for _ in range(txs)),
        withdrawals=(), blob_gas_used=0, excess_blob_gas=0, withdrawals_root=rng.randbytes(32))
    env = ExecutionPayloadEnvelope(p, rng.randbytes(32))
    return ExecutionPayloadEnvelope(ExecutionPayload(**{**{f: getattr(p, f) for f in p.__slots__},
                                               "block_hash": compute_block_hash(env, version)}),
                           env.parent_beacon_block_root)


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def _line(label: str, xs: list[float]) -> None:
    print(f"  {label:<52} p50 {_pct(xs, 0.5) * 1e3:7.2f} ms   p99 {_pct(xs, 0.99) * 1e3:7.2f} ms")


async def _measure(tmp: Path) -> None:
    cfg = _chain()
    seq_key = LocalSigner(keccak256(b"bench gossip sequencer"))
    delivered: dict[bytes, float] = {}
    arrived = trio.Event()

    def on_block(item) -> None:
        delivered[item.block_hash] = time.perf_counter()
        arrived.set()

    async with trio.open_nursery() as nursery:
        seq = GossipService(cfg, P2PConfig(listen_ip="127.0.0.1", listen_tcp=0, priv_path=str(tmp / "seq"),
                                           peerstore_path="memory",
                                           sequencer_key=seq_key), unsafe_block_signer=seq_key.address)
        await nursery.start(seq.run)
        addr = str(seq.host.get_addrs()[0])
        node = GossipService(cfg, P2PConfig(listen_ip="127.0.0.1", listen_tcp=0, priv_path=str(tmp / "node"),
                                            static_peers=(addr,), peerstore_path="memory"), unsafe_block_signer=seq_key.address,
                             deliver=on_block)
        await nursery.start(node.run)
        version = version_for_timestamp(cfg, int(time.time()))
        while not seq.mesh_peers(version):
            await trio.sleep(0.01)
        rng = random.Random(1)
        number = 1
        for label, txs in SIZES.items():
            blocks = [_block(cfg, number + i, txs, rng) for i in range(ROUNDS)]
            number += ROUNDS
            size = len(encode_block_message(blocks[0], version, seq_key, cfg.l2_chain_id))
            gossip = []
            for env in blocks:
                arrived = trio.Event()
                t0 = time.perf_counter()
                await seq.publish(env)
                with trio.fail_after(10):
                    while env.block_hash not in delivered:
                        await arrived.wait()
                        arrived = trio.Event()
                gossip.append(delivered[env.block_hash] - t0)
            raw = await _raw_round_trips(seq, node, size, ROUNDS)
            sign, check = _cpu(cfg, seq_key, blocks[:50], version)
            print(f"\n  {label}: {size} bytes on the wire, {ROUNDS} blocks")
            _line("gossip: publish on host A -> delivered on host B", gossip)
            _line("raw libp2p stream round trip A -> B -> A (new stream)", raw)
            print(f"  {'CPU: sign + SSZ + snappy (publisher)':<52} {sign * 1e3:7.2f} ms")
            print(f"  {'CPU: snappy + recover + SSZ + block hash (receiver)':<52} {check * 1e3:7.2f} ms")
        nursery.cancel_scope.cancel()


def _cpu(cfg: RollupConfig, signer: LocalSigner, blocks: list[ExecutionPayloadEnvelope], version: BlockVersion):
    t = time.perf_counter()
    msgs = [encode_block_message(b, version, signer, cfg.l2_chain_id) for b in blocks]
    sign = (time.perf_counter() - t) / len(blocks)
    validator = BlockValidator(cfg, lambda: signer.address)
    t = time.perf_counter()
    for m in msgs:
        assert validator.validate(version, m).accepted
    return sign, (time.perf_counter() - t) / len(blocks)


class _Clock:
    """The chain's time for the sequencer and both validators: blocks are sealed as fast as the engines allow and
    still fall inside the gossip timestamp window."""

    def __init__(self, t: float):
        self.t = t

    def __call__(self) -> float:
        return self.t


async def _raw_round_trips(a: GossipService, b: GossipService, size: int, rounds: int) -> list[float]:
    """Seconds for ``size`` bytes from host A to host B and back on a new stream each time."""

    async def echo(stream) -> None:
        data = b""
        n = int.from_bytes(await stream.read(4), "big")
        while len(data) < n:
            data += await stream.read(n - len(data))
        await stream.write(data)
        await stream.close()

    b.host.set_stream_handler(ECHO, echo)
    payload = os.urandom(size)
    out = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        stream = await a.host.new_stream(b.peer_id, [ECHO])
        await stream.write(len(payload).to_bytes(4, "big") + payload)
        got = b""
        while len(got) < len(payload):
            chunk = await stream.read(len(payload) - len(got))
            if not chunk:
                break
            got += chunk
        await stream.close()
        out.append(time.perf_counter() - t0)
    return out


async def seal_to_insert(tmp: Path, rounds: int, txs: int = SEAL_TXS) -> dict[str, list[float]]:
    """Latencies (seconds) per block: ``seal->delivered``, ``delivered->inserted``, ``seal->inserted``, and the
    raw stream round trip ``raw`` with the blocks' median message size. Long on purpose: one scenario read top to
    bottom (two engines, two gossip hosts, the sequencer, the rounds) whose steps share the nursery and the
    timestamp maps; split, the pieces would pass eight locals around."""
    from derivation.stages.attributes_builder import AttributesBuilder
    from engine.execution.service import EngineService
    from opnode.node.runtime.sequencer import Sequencer
    from opnode.testing.engine import key, transfer
    from opnode.testing.harness.world import L1_CHAIN
    from opnode.testing.runtime import SECRET, Node, make_world

    w, genesis = make_world(SEAL_FORKS)
    w.l1.mine()
    cfg = w.cfg
    clock = _Clock(cfg.genesis.l2_time)
    seq_key = LocalSigner(keccak256(b"bench gossip sequencer"))
    sealed, delivered, inserted, envs = {}, {}, {}, {}
    async with trio.open_nursery() as nursery:
        engines = [await nursery.start(EngineService(genesis, SECRET, http_port=0, auth_port=0).run)
                   for _ in range(2)]
        seq_node, light = (Node(w, f"http://127.0.0.1:{p.auth}", derive=False) for p in engines)
        seq_p2p = GossipService(cfg, P2PConfig(listen_ip="127.0.0.1", listen_tcp=0, priv_path=str(tmp / "s-seq"),
                                               sequencer_key=seq_key, peerstore_path="memory"), unsafe_block_signer=seq_key.address,
                                clock=clock)
        await nursery.start(seq_p2p.run)

        def deliver(item) -> None:
            delivered[item.block_hash] = time.perf_counter()
            light.driver.submit_unsafe(item)

        light_p2p = GossipService(cfg, P2PConfig(listen_ip="127.0.0.1", listen_tcp=0,
                                                 priv_path=str(tmp / "s-light"),
                                                 static_peers=(str(seq_p2p.host.get_addrs()[0]),),
                                                 peerstore_path="memory"),
                                  unsafe_block_signer=seq_key.address, deliver=deliver, clock=clock)
        await nursery.start(light_p2p.run)

        def on_sealed(env) -> None:
            sealed[env.block_hash] = time.perf_counter()
            envs[env.block_hash] = env
            seq_p2p.submit(env)

        seq = Sequencer(cfg, seq_node.ctrl, AttributesBuilder(cfg, L1_CHAIN, w.l1, seq_node.l2), seq_node.driver,
                        l1_confs=0, clock=clock, l1_head=lambda: w.l1.head.number, on_sealed=on_sealed)
        seq_node.driver.hooks.append(seq.step)
        seq_node.driver.deadlines.append(seq.seconds_until_next)
        forkchoice = light.ctrl.sync_forkchoice

        async def timed_forkchoice() -> bool:
            ok = await forkchoice()
            if ok:
                inserted.setdefault(light.ctrl.unsafe.hash, time.perf_counter())
            return ok

        light.ctrl.sync_forkchoice = timed_forkchoice
        await nursery.start(seq_node.driver.run)
        await nursery.start(light.driver.run)
        version = version_for_timestamp(cfg, int(clock.t))
        with trio.fail_after(30):
            while not seq_p2p.mesh_peers(version):
                await trio.sleep(0.01)

        async with httpx.AsyncClient() as http:
            url = f"http://127.0.0.1:{engines[0].http}"
            nonce = 0
            for _ in range(rounds + SEAL_WARMUP):
                batch = [{"jsonrpc": "2.0", "id": i, "method": "eth_sendRawTransaction",
                          "params": ["0x" + transfer(key(0), nonce + i, b"\x77" * 20, 1).raw.hex()]}
                         for i in range(txs)]
                nonce += txs
                answers = (await http.post(url, json=batch)).json()
                assert all("result" in a for a in answers), answers
                number = seq_node.ctrl.unsafe.number + 1
                clock.t += cfg.block_time
                seq_node.driver.wake()
                with trio.fail_after(30):  # inserted: the head moved and its forkchoice update returned
                    while light.ctrl.unsafe.number < number or light.ctrl.unsafe.hash not in inserted:
                        await trio.sleep(0.0005)
                env = await seq_node.client.block(number, full=False)
                assert light.ctrl.unsafe.hash.hex() == env["hash"][2:], "the light node has another block"
        blocks = [h for h in inserted if h in sealed][SEAL_WARMUP:]
        sizes = sorted(len(encode_block_message(envs[h], version, seq_key,
                                                cfg.l2_chain_id)) for h in blocks)
        msg_size = sizes[len(sizes) // 2]
        raw = await _raw_round_trips(seq_p2p, light_p2p, msg_size, len(blocks))
        nursery.cancel_scope.cancel()
    return {"seal->delivered": [delivered[h] - sealed[h] for h in blocks],
            "delivered->inserted": [inserted[h] - delivered[h] for h in blocks],
            "seal->inserted": [inserted[h] - sealed[h] for h in blocks], "raw": raw, "size": [msg_size]}


def run() -> None:
    header("gossip: block latency between two py-libp2p hosts on loopback")
    with tempfile.TemporaryDirectory() as tmp:
        trio.run(_measure, Path(tmp))
        res = trio.run(seal_to_insert, Path(tmp), max(5, ROUNDS // 4))
    n = len(res["seal->inserted"])
    print(f"\n  node path: sequencer seal -> light node engine (newPayload + forkchoiceUpdated), {n} blocks of "
          f"{SEAL_TXS} transfers + L1 info, {res['size'][0]} bytes on the wire")
    print("  (one process: both engines, both hosts and both drivers share this thread)")
    for label in ("seal->delivered", "delivered->inserted", "seal->inserted"):
        _line(f"{label}", res[label])
    _line("baseline: raw stream round trip, same hosts and size", res["raw"])
    ratio = _pct(res["seal->inserted"], 0.5) / _pct(res["raw"], 0.5)
    print(f"  {'seal->inserted p50 / raw round trip p50':<52} x{ratio:.1f}")

