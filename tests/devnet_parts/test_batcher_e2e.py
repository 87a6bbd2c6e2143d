"""The batcher end to end: anvil as L1, the real sequencer on an embedded engine, the batcher posting its blocks,
and the pipeline deriving them back from anvil; every derived block must be the sequencer's, transaction for
transaction (user transactions, deposits, SystemConfig effects)."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from derivation.protocol.crypto import address_from_private_key
from derivation.protocol.hexutil import from_hex
from derivation.protocol.rollup_config import Fork
from opnode.tools.anvil import Anvil
from opnode.tools.batcher.admin import BatcherControl
from opnode.tools.batcher.config import BatcherConfig
from opnode.tools.batcher.events import EventLog, read_events
from opnode.tools.batcher.faults import EXPECTED_DROPS, FaultKind, FaultPlan
from opnode.tools.batcher.service import Batcher
from tests.devnet_parts.chain import BATCHER_KEY, free_port, start_chain, wait_for

pytestmark = pytest.mark.slow


def _batcher(chain, **kw) -> Batcher:
    kw.setdefault("keys", (from_hex(BATCHER_KEY, 32),))
    cfg = BatcherConfig(l1_rpc=chain.anvil.url, l2_rpc=chain.engine_http, rollup_rpc=chain.rollup_rpc,
                        poll_interval=0.2, **kw)
    return Batcher(cfg, events=EventLog())


async def _converged(chain, blocks: int, timeout: float) -> None:
    """The verifier's safe head reaches ``blocks`` and is the sequencer's block at that height."""
    await wait_for(lambda: chain.verifier.safe.number >= blocks, timeout, f"derived safe head {blocks}")
    safe = chain.verifier.safe  # read once: the verifier goes on deriving while the engine answers
    got = await chain.verifier.engine.block(safe.number)
    assert from_hex(got["hash"], 32) == safe.hash


async def test_opnode_batcher_process_posts_calldata(nursery, tmp_path):
    """``opnode batcher`` as its own process (its admin RPC, its events file, SIGTERM) against the real chain."""
    events = tmp_path / "events.jsonl"
    port = free_port()
    with Anvil(block_time=1) as anvil:
        chain = await start_chain(nursery, anvil, {Fork.GRANITE: 0, Fork.HOLOCENE: 6})
        proc = subprocess.Popen([sys.executable, "-m", "opnode", "batcher", "--l1", anvil.url, "--l2-eth-rpc",
                                 chain.engine_http, "--rollup-rpc", chain.rollup_rpc, "--private-key", BATCHER_KEY,
                                 "--da", "calldata", "--poll-interval", "0.2", "--rpc.port", str(port),
                                 "--log.events", str(events)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            await _converged(chain, 12, 60)
            status = await BatcherControl(f"http://127.0.0.1:{port}").status()
            assert status["active"] and status["txs_included_by_da"]["calldata"] >= 2 and not status["rewinds"]
            assert status["signer"] == "0x" + address_from_private_key(from_hex(BATCHER_KEY, 32)).hex()
            drops = {d.reason.value for d in chain.verifier.drops()}
            assert drops <= {"holocene_activation"}
        finally:
            proc.send_signal(signal.SIGTERM)
            out = proc.communicate(timeout=20)[0].decode()
        assert proc.returncode == 0, out
        assert "batcher stopped" in out
        lines = read_events(events)
        assert lines[0]["event"] == "started" and lines[-1]["event"] == "shutdown"
        sent = [e for e in lines if e["event"] == "tx_sent"]
        included = {e["tx"] for e in lines if e["event"] == "tx_included"}
        assert len(sent) >= 3 and len(included) >= 2 and included <= {e["tx"] for e in sent}
        nursery.cancel_scope.cancel()


async def test_blobs_with_traffic_forks_and_a_key_rotation(nursery):
    """Blob DA through Holocene, Isthmus and Jovian, with L2 transfers and calls, deposits, SystemConfig updates
    and a batcher key rotation (pause, setBatcherHash, resume) while the batcher runs."""
    from derivation.protocol.tx_json import tx_from_json
    from engine.execution.op_genesis import dev_keys
    from opnode.tools.anvil import DEV_KEYS
    from opnode.tools.devnet.traffic import Traffic, TrafficConfig
    from tests.devnet_parts.chain import NEXT_BATCHER_KEY, OWNER_KEY

    with Anvil(block_time=1) as anvil:
        chain = await start_chain(nursery, anvil, {Fork.GRANITE: 0, Fork.HOLOCENE: 4, Fork.ISTHMUS: 8,
                                                   Fork.JOVIAN: 12})
        batcher = _batcher(chain, da="blobs", max_channel_duration=1,
                           keys=(from_hex(BATCHER_KEY, 32), from_hex(NEXT_BATCHER_KEY, 32)))
        await nursery.start(batcher.run)
        depositor = from_hex(DEV_KEYS[3], 32)
        traffic = Traffic(TrafficConfig(
            l1_rpc=anvil.url, l2_rpc=chain.engine_http, rollup=chain.cfg, owner_key=from_hex(OWNER_KEY, 32),
            depositor_key=depositor, l2_keys=tuple(dev_keys(6)[4:]),
            next_batcher_key=from_hex(NEXT_BATCHER_KEY, 32), tx_interval=0.5, deposit_interval=1.5,
            config_interval=2.0, rotation_after=9.0), control=batcher)
        await nursery.start(traffic.run)
        await wait_for(lambda: traffic.counters.rotations, 40, "the batcher key rotation")
        rotation_l1 = traffic.counters.rotations[0][0]
        # blocks derived from data the new key posted after the rotation
        await wait_for(lambda: any(src.number > rotation_l1 + 1 for src in chain.verifier.derived_from.values())
                       and chain.verifier.safe.number >= 20, 60, "blocks posted by the new batcher key")
        assert batcher.signer == address_from_private_key(from_hex(NEXT_BATCHER_KEY, 32))
        ev = batcher.events.snapshot()
        assert ev["txs_included_by_da"].get("blobs", 0) >= 3
        c = traffic.snapshot()
        assert c["l2_sent"]["transfer"] >= 3 and c["l2_sent"]["call"] >= 3 and c["l2_included"] >= 6
        assert sum(c["deposits"].values()) >= 3 and sum(c["config_updates"].values()) >= 3
        # the derived chain carries the deposits and the SystemConfig's gas limit changes
        safe = chain.verifier.safe.number
        blocks = [await chain.verifier.engine.block(n, full=True) for n in range(1, safe + 1)]
        user_deposits = [t for b in blocks for t in b["transactions"]
                         if t["type"] == "0x7e" and from_hex(t["from"], 20) == address_from_private_key(depositor)]
        assert len(user_deposits) >= 2
        assert any(int(b["gasLimit"], 16) != 60_000_000 for b in blocks) or c["config_updates"].get("setGasLimit", 0) < 2
        assert all(tx_from_json(t) for b in blocks for t in b["transactions"])
        assert chain.cfg.is_active(Fork.JOVIAN, int(blocks[-1]["timestamp"], 16))
        nursery.cancel_scope.cancel()


def _fault_events(batcher) -> list[dict]:
    return [e for e in batcher.events.recent if e["event"] == "fault"]


async def _run_faults(nursery, anvil, forks, kinds, da, **overrides):
    chain = await start_chain(nursery, anvil, forks, **overrides)
    batcher = _batcher(chain, da=da, max_channel_duration=1, faults=FaultPlan(kinds, every=2, seed=7))
    await nursery.start(batcher.run)
    await wait_for(lambda: {e["kind"] for e in _fault_events(batcher)} >= {k.value for k in kinds}, 90,
                   "every fault kind posted")
    last = max(e["l2_blocks"][1] for e in _fault_events(batcher))
    await _converged(chain, last + 2, 60)
    reasons = {d.reason.value for d in chain.verifier.drops()}
    for kind in kinds:
        assert reasons & EXPECTED_DROPS[kind], f"no drop for {kind.value}: saw {sorted(reasons)}"
    ev = batcher.events.snapshot()
    assert ev["faults"] == {k.value: sum(1 for e in _fault_events(batcher) if e["kind"] == k.value) for k in kinds}
    assert not ev["rewinds"]  # faults are planned: their blocks are reposted without any rewind
    return chain, batcher, reasons


async def test_faults_before_holocene_with_channel_timeouts(nursery):
    """Fjord rules (channel bank, a 4-block channel timeout): every fault kind, calldata; the chain converges."""
    with Anvil(block_time=1) as anvil:
        chain, batcher, reasons = await _run_faults(nursery, anvil, {Fork.FJORD: 0}, tuple(FaultKind), "calldata",
                                                    channel_timeout=4)
        assert "channel_timeout" in reasons and "invalid_batcher_tx_data" in reasons
        nursery.cancel_scope.cancel()


async def test_faults_after_holocene_with_blobs(nursery):
    """Holocene rules (ordered frames, fast channel invalidation), blob DA: the drops are Holocene's."""
    kinds = (FaultKind.GARBAGE, FaultKind.DUPLICATE, FaultKind.REORDER, FaultKind.INVALID)
    with Anvil(block_time=1) as anvil:
        chain, batcher, reasons = await _run_faults(nursery, anvil, {Fork.HOLOCENE: 0}, kinds, "blobs")
        assert {"frame_out_of_order", "frame_without_channel", "parent_hash_mismatch"} <= reasons
        nursery.cancel_scope.cancel()


async def _posting_then_snapshot(nursery, anvil, *, num_confirmations: int):
    """A Holocene chain whose batcher posts every block, converged to block 4, then an anvil snapshot: (chain,
    batcher, snapshot id, the L1 block number at the snapshot). The sequencer's L1 origins stay 30 blocks deep, so a
    revert to the snapshot takes batches away, never L1 origins (the tests check the depth: a slow machine may mine
    more blocks while the batches land)."""
    chain = await start_chain(nursery, anvil, {Fork.HOLOCENE: 0}, l1_confs=30)
    batcher = _batcher(chain, da="calldata", max_channel_duration=0, num_confirmations=num_confirmations)
    await nursery.start(batcher.run)
    await _converged(chain, 4, 40)
    return chain, batcher, anvil.rpc("evm_snapshot"), int(anvil.rpc("eth_blockNumber"), 16)


def _last_posted(batcher) -> int:
    return max(b for e in batcher.events.recent if e["event"] == "channel" for b in e["l2_blocks"])


async def _derived_from_canonical(chain, numbers) -> None:
    """Each of these L2 blocks was derived (last) from a block of the canonical L1 chain."""
    for n in numbers:
        src = chain.verifier.derived_from[n]
        assert (await chain.verifier.l1.client.block_ref_by_number(src.number)).hash == src.hash, n


async def test_l1_reorg_of_blocks_with_batches_is_reposted(nursery):
    """Three or more L1 blocks holding batches disappear (anvil snapshot/revert): the batcher notices, posts the
    blocks again, and derivation from the new L1 chain reaches the sequencer's head again."""
    with Anvil(block_time=1) as anvil:
        chain, batcher, snapshot, base = await _posting_then_snapshot(nursery, anvil, num_confirmations=12)

        def included_after_base():
            return {e["l1_block"] for e in batcher.events.recent if e["event"] == "tx_included"
                    and e["l1_block"] > base}

        await wait_for(lambda: len(included_after_base()) >= 3, 30, "batches in three new L1 blocks")
        lost = {n: src for n, src in chain.verifier.derived_from.items() if src.number > base}
        posted_before = _last_posted(batcher)
        depth = int(anvil.rpc("eth_blockNumber"), 16) - base
        assert depth < 30, f"the reorg would be {depth} blocks deep, past the sequencer's confirmation depth"
        anvil.rpc("evm_revert", snapshot)
        await wait_for(lambda: batcher.events.rewinds.get("l1_reorg"), 30, "the batcher to see the reorg")
        await _converged(chain, posted_before + 2, 60)

        assert chain.verifier.resets >= 1
        assert not batcher.events.counters.get("safe_reorg")  # the rewind alone brought the data back
        # what was derived from the lost blocks is now derived from data posted again in the new chain
        assert all(chain.verifier.derived_from[n].number > base for n in lost)
        await _derived_from_canonical(chain, lost)
        nursery.cancel_scope.cancel()


async def test_l1_reorg_deeper_than_the_confirmations_reposts_channels_already_done(nursery):
    """Issue 18 (make chaos, reorg deeper than three blocks): the L1 blocks that held channels already done (all
    their blocks safe, their transactions ``num_confirmations`` deep) are reorged out. The batcher finds that
    itself and posts from the first block lost, without waiting for the node's safe head to fall back (a node
    whose safe head's L1 origin stays canonical keeps it, and then nothing was posted again: derivation from the
    new L1 chain stopped at the lost block)."""
    with Anvil(block_time=1) as anvil:
        chain, batcher, snapshot, base = await _posting_then_snapshot(nursery, anvil, num_confirmations=2)

        def done_after_base() -> list:
            return [c for c in batcher._done if c.inclusion_range()[0] > base]

        await wait_for(lambda: len(done_after_base()) >= 2, 40, "two channels posted after the snapshot done")
        first_lost = min(c.first for c in done_after_base())
        posted_before = _last_posted(batcher)
        depth = int(anvil.rpc("eth_blockNumber"), 16) - base
        assert 2 < depth < 30, depth
        anvil.rpc("evm_revert", snapshot)
        await wait_for(lambda: batcher.events.rewinds.get("l1_reorg"), 30, "the batcher to see the reorg")
        rewind = next(e for e in batcher.events.recent if e["event"] == "rewind")
        assert rewind["l2_blocks"][0] <= first_lost, rewind
        await _converged(chain, posted_before + 2, 60)
        assert not batcher.events.counters.get("safe_reorg")  # found by the batcher, not by the node's safe head
        await _derived_from_canonical(chain, range(first_lost, posted_before + 1))
        nursery.cancel_scope.cancel()


async def test_rotation_without_handshake_reposts_what_the_old_key_sent_too_late(nursery):
    """The batcher key changes in the same L1 block as a transaction of the old key: derivation ignores that
    transaction (derivation.md §L1 Traversal), so the batcher must post its channel again with the new key."""
    from opnode.tools.batcher.txmgr import TxCandidate, TxManager
    from opnode.tools.l1contracts import system_config as S
    from tests.devnet_parts.chain import NEXT_BATCHER_KEY, OWNER_KEY

    with Anvil(block_time=1) as anvil:
        chain = await start_chain(nursery, anvil, {Fork.HOLOCENE: 0})
        batcher = _batcher(chain, da="calldata", max_channel_duration=0,
                           keys=(from_hex(BATCHER_KEY, 32), from_hex(NEXT_BATCHER_KEY, 32)))
        await nursery.start(batcher.run)
        await _converged(chain, 3, 40)
        anvil.rpc("evm_setIntervalMining", 0)

        def unmined() -> list:
            """The batcher's transactions still in anvil's pool (in_flight also lists mined ones it has not seen
            included yet: one mined just before mining stopped would not share the rotation block)."""
            return [s for s in batcher.in_flight()
                    if (anvil.rpc("eth_getTransactionByHash", "0x" + s.pending.hash.hex()) or {}).get("blockNumber")
                    is None]

        await wait_for(unmined, 20, "a batcher transaction in the pool")
        old = unmined()[0]
        new_key = from_hex(NEXT_BATCHER_KEY, 32)
        owner = TxManager(chain.l1_rpc, from_hex(OWNER_KEY, 32))
        new_addr = address_from_private_key(new_key)
        p = await owner.send(TxCandidate(chain.deployment.system_config,
                                         S.SET_BATCHER_HASH.encode(bytes(12) + new_addr)))
        anvil.rpc("evm_mine")
        anvil.rpc("evm_setIntervalMining", 1)
        r = await owner.receipt(p)
        assert r is not None and r.status == 1
        await wait_for(lambda: batcher.events.rewinds.get("not_batcher"), 30, "the batcher to see its tx ignored")
        assert old.sender != new_addr and batcher.signer == new_addr
        await _converged(chain, chain.verifier.safe.number + 6, 60)
        # nothing was derived from the old key's transaction in the rotation block
        assert all(src.number != r.block_number for src in chain.verifier.derived_from.values())
        nursery.cancel_scope.cancel()
