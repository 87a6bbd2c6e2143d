"""Block gossip latency on loopback: from ``publish`` on the sequencer's host to delivery (validated, ready for
``engine_newPayload``) on a second host, p50/p99, for small and large blocks. In the same run and over the same
connection, a raw libp2p stream round trip with the same number of bytes, and the CPU the gossip path adds
(sign + SSZ + snappy on one side, snappy + recover + SSZ + block hash on the other), so the figures say what is
network, what is py-libp2p and what is validation.

The node's own insertion (newPayload on its engine) comes after delivery and is measured by the engine benchmark.
"""

from __future__ import annotations

import os
import random
import tempfile
import time
from pathlib import Path

import trio

from derivation.crypto import keccak256
from derivation.rollup_config import Fork, RollupConfig
from p2p.block_hash import compute_block_hash
from p2p.config import P2PConfig
from p2p.payload import ExecutionPayload, PayloadEnvelope
from p2p.service import GossipService
from p2p.signing import LocalSigner
from p2p.topics import BlockVersion, version_for_timestamp
from p2p.validation import BlockValidator
from p2p.wire import encode_block_message

from .timing import header

ECHO = "/opnode/bench/echo/1.0.0"
ROUNDS = 200
SIZES = {"small block (10 txs)": 10, "large block (400 txs)": 400}


def _chain() -> RollupConfig:
    from derivation.rollup_config import ChainOpConfig, Genesis
    from derivation.system_config import SystemConfig
    from derivation.types import BlockID

    genesis = Genesis(BlockID(b"\x01" * 32, 0), BlockID(b"\x02" * 32, 0), 1,
                      SystemConfig(b"\x03" * 20, bytes(32), b"\x01" * 32, 30_000_000))
    return RollupConfig(genesis=genesis, block_time=2, max_sequencer_drift=600, seq_window_size=3600,
                        channel_timeout=300, l1_chain_id=900, l2_chain_id=901, batch_inbox_address=b"\x04" * 20,
                        deposit_contract_address=b"\x05" * 20, l1_system_config_address=b"\x06" * 20,
                        fork_times={f: 0 for f in Fork if Fork.REGOLITH <= f <= Fork.JOVIAN},
                        chain_op_config=ChainOpConfig())


def _block(cfg: RollupConfig, number: int, txs: int, rng: random.Random) -> PayloadEnvelope:
    t = int(time.time())
    version = version_for_timestamp(cfg, t)
    p = ExecutionPayload(
        parent_hash=rng.randbytes(32), fee_recipient=bytes(19) + b"\x11", state_root=rng.randbytes(32),
        receipts_root=rng.randbytes(32), logs_bloom=rng.randbytes(256), prev_randao=rng.randbytes(32),
        block_number=number, gas_limit=30_000_000, gas_used=21_000 * txs, timestamp=t,
        extra_data=bytes.fromhex("0100000032000000060000000000000000"), base_fee_per_gas=1_000_000,
        block_hash=bytes(32), transactions=tuple(b"\x02" + rng.randbytes(rng.randrange(110, 400)) for _ in range(txs)),
        withdrawals=(), blob_gas_used=0, excess_blob_gas=0, withdrawals_root=rng.randbytes(32))
    env = PayloadEnvelope(p, rng.randbytes(32))
    return PayloadEnvelope(ExecutionPayload(**{**{f: getattr(p, f) for f in p.__slots__},
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
                                           sequencer_key=seq_key), unsafe_block_signer=seq_key.address)
        await nursery.start(seq.run)
        addr = str(seq.host.get_addrs()[0])
        node = GossipService(cfg, P2PConfig(listen_ip="127.0.0.1", listen_tcp=0, priv_path=str(tmp / "node"),
                                            static_peers=(addr,)), unsafe_block_signer=seq_key.address,
                             deliver=on_block)
        await nursery.start(node.run)
        version = version_for_timestamp(cfg, int(time.time()))
        while not seq.topic_peers(version):
            await trio.sleep(0.01)

        async def echo(stream) -> None:
            data = b""
            n = int.from_bytes(await stream.read(4), "big")
            while len(data) < n:
                data += await stream.read(n - len(data))
            await stream.write(data)
            await stream.close()

        node.host.set_stream_handler(ECHO, echo)
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
            raw = []
            payload = os.urandom(size)
            for _ in range(ROUNDS):
                t0 = time.perf_counter()
                stream = await seq.host.new_stream(node.peer_id, [ECHO])
                await stream.write(len(payload).to_bytes(4, "big") + payload)
                got = b""
                while len(got) < len(payload):
                    chunk = await stream.read(len(payload) - len(got))
                    if not chunk:
                        break
                    got += chunk
                await stream.close()
                raw.append(time.perf_counter() - t0)
            sign, check = _cpu(cfg, seq_key, blocks[:50], version)
            print(f"\n  {label}: {size} bytes on the wire, {ROUNDS} blocks")
            _line("gossip: publish on host A -> delivered on host B", gossip)
            _line("raw libp2p stream round trip A -> B -> A (new stream)", raw)
            print(f"  {'CPU: sign + SSZ + snappy (publisher)':<52} {sign * 1e3:7.2f} ms")
            print(f"  {'CPU: snappy + recover + SSZ + block hash (receiver)':<52} {check * 1e3:7.2f} ms")
        nursery.cancel_scope.cancel()


def _cpu(cfg: RollupConfig, signer: LocalSigner, blocks: list[PayloadEnvelope], version: BlockVersion):
    t = time.perf_counter()
    msgs = [encode_block_message(b, version, signer, cfg.l2_chain_id) for b in blocks]
    sign = (time.perf_counter() - t) / len(blocks)
    validator = BlockValidator(cfg, lambda: signer.address)
    t = time.perf_counter()
    for m in msgs:
        assert validator.validate(version, m).accepted
    return sign, (time.perf_counter() - t) / len(blocks)


def run() -> None:
    header("gossip: block latency between two py-libp2p hosts on loopback")
    with tempfile.TemporaryDirectory() as tmp:
        trio.run(_measure, Path(tmp))

