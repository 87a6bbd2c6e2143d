"""``opnode batcher``: post the sequencer's blocks to L1 (devnet-grade, but a real batcher: its own keys, nonces and
fees, channels with span batches, calldata or blobs, reorg handling, and deliberate faults on request)."""

from __future__ import annotations

import json
import signal
from functools import partial

import click


@click.command("batcher")
@click.option("--l1-eth-rpc", "--l1", "l1_rpc", required=True, help="HTTP URL of the L1 execution client.")
@click.option("--l2-eth-rpc", "l2_rpc", required=True, help="HTTP URL of the sequencer's L2 execution client.")
@click.option("--rollup-rpc", "rollup_rpc", required=True, help="HTTP URL of the sequencer's rollup node.")
@click.option("--private-key", "private_keys", multiple=True, required=True,
              help="Batcher key: 32 bytes of hex, or a file holding them. Repeat to hold several keys: the batcher "
                   "signs with the one the SystemConfig names (key rotation).")
@click.option("--rollup-config", "--rollup.config", "rollup_config", type=click.Path(exists=True, dir_okay=False),
              help="rollup.json (default: ask the rollup node, optimism_rollupConfig).")
@click.option("--data-availability-type", "--da", "da", type=click.Choice(["calldata", "blobs", "auto"]),
              default="auto", show_default=True, help="auto: blobs once Ecotone is active and L1 takes them.")
@click.option("--max-channel-duration", type=click.IntRange(min=0), default=2, show_default=True,
              help="L1 blocks a channel stays open (0: post at every poll).")
@click.option("--max-frame-size", type=click.IntRange(min=100), default=119_999, show_default=True,
              help="Largest frame on L1, in bytes (blob frames are at most 130,043).")
@click.option("--max-channel-bytes", type=click.IntRange(min=1), default=500_000, show_default=True,
              help="Batch bytes that close a channel early.")
@click.option("--target-num-frames", "blobs_per_tx", type=click.IntRange(1, 9), default=6, show_default=True,
              help="Blobs per blob transaction.")
@click.option("--max-pending-tx", type=click.IntRange(min=1), default=4, show_default=True)
@click.option("--num-confirmations", type=click.IntRange(min=0), default=3, show_default=True,
              help="L1 blocks on top of a channel before it is forgotten (shallower reorgs are reposted).")
@click.option("--poll-interval", type=click.FloatRange(min=0.05), default=0.5, show_default=True)
@click.option("--resubmission-timeout", "resubmit_after", type=click.FloatRange(min=0.1), default=12.0,
              show_default=True, help="Seconds before an unmined transaction is resent with higher fees.")
@click.option("--l1.chain-config", "l1_chain_config", type=click.Path(exists=True, dir_okay=False),
              help="L1 genesis config (blobSchedule) for the blob fee; default: Prague's update fraction.")
@click.option("--faults", is_flag=True, help="Misbehave on purpose (see --faults.kinds), deterministically.")
@click.option("--faults.kinds", "fault_kinds", default="all", show_default=True,
              help="garbage_frame, duplicate_frame, reordered_frames, channel_timeout, invalid_batch (comma list).")
@click.option("--faults.every", "fault_every", type=click.IntRange(min=2), default=3, show_default=True,
              help="One faulty channel in every N.")
@click.option("--faults.seed", "fault_seed", type=int, default=0, show_default=True)
@click.option("--log.events", "events_path", type=click.Path(dir_okay=False),
              help="Append every channel, transaction, fault and rewind here as JSON lines.")
@click.option("--rpc.addr", "rpc_addr", default="127.0.0.1", show_default=True)
@click.option("--rpc.port", "rpc_port", type=click.IntRange(0, 65535), default=None,
              help="Serve admin_startBatcher/admin_stopBatcher/admin_flushBatcher/batcher_status here.")
@click.option("--log.level", "log_level", default="info", show_default=True)
@click.option("--log.format", "log_format", default="text", show_default=True)
def batcher_command(l1_rpc, l2_rpc, rollup_rpc, private_keys, rollup_config, da, max_channel_duration, max_frame_size,
                    max_channel_bytes, blobs_per_tx, max_pending_tx, num_confirmations, poll_interval, resubmit_after,
                    l1_chain_config, faults, fault_kinds, fault_every, fault_seed, events_path, rpc_addr, rpc_port,
                    log_level, log_format):
    """Post the sequencer's unsafe blocks to L1 as channels of span batches."""
    from derivation.protocol.errors import ParseError
    from derivation.protocol.l1_chain_config import L1ChainConfig
    from derivation.protocol.rollup_config import RollupConfig
    from opnode.node.logs import LogConfig, LogLevelError, setup_logging
    from opnode.tools.batcher.config import BatcherConfig, BatcherConfigError, parse_private_key
    from opnode.tools.batcher.faults import FaultPlan, parse_kinds

    try:
        setup_logging(LogConfig(level=log_level, format=log_format))
        plan = FaultPlan(parse_kinds(fault_kinds), fault_every, fault_seed) if faults else None
        l1c = None
        if l1_chain_config:
            with open(l1_chain_config) as f:
                l1c = L1ChainConfig.from_genesis_config(json.load(f))
        rollup = None
        if rollup_config:
            with open(rollup_config) as f:
                rollup = RollupConfig.from_json(json.load(f))
        cfg = BatcherConfig(l1_rpc=l1_rpc, l2_rpc=l2_rpc, rollup_rpc=rollup_rpc,
                            keys=tuple(parse_private_key(k) for k in private_keys), da=da,
                            max_channel_duration=max_channel_duration, max_frame_size=max_frame_size,
                            max_channel_bytes=max_channel_bytes, blobs_per_tx=blobs_per_tx,
                            max_pending_tx=max_pending_tx, num_confirmations=num_confirmations,
                            poll_interval=poll_interval, resubmit_after=resubmit_after, faults=plan,
                            events_path=events_path, rollup_config_path=rollup_config, l1_chain=l1c)
    except (BatcherConfigError, LogLevelError, ValueError, ParseError, OSError) as e:
        raise click.UsageError(str(e)) from None
    import trio

    trio.run(_run, cfg, rollup, rpc_addr, rpc_port)


async def _run(cfg, rollup, rpc_addr, rpc_port) -> None:
    from derivation.protocol.errors import ParseError
    from opnode.jsonrpc.errors import RpcError, TransportError

    try:
        await _serve(cfg, rollup, rpc_addr, rpc_port)
    except BaseExceptionGroup as group:
        inner = group
        while isinstance(inner, BaseExceptionGroup) and len(inner.exceptions) == 1:
            inner = inner.exceptions[0]
        if isinstance(inner, (RpcError, TransportError, ParseError)):
            raise click.ClickException(f"cannot run the batcher: {inner}") from None
        raise


async def _serve(cfg, rollup, rpc_addr, rpc_port) -> None:
    import logging

    import trio

    from opnode.jsonrpc.http import serve_url
    from opnode.tools.batcher.admin import make_app
    from opnode.tools.batcher.service import Batcher

    log = logging.getLogger("opnode.tools.batcher")
    batcher = Batcher(cfg, rollup=rollup)
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:
            await nursery.start(batcher.run)
            if rpc_port is not None:
                url = await nursery.start(partial(serve_url, make_app(batcher), host=rpc_addr, port=rpc_port))
                log.info("batcher RPC listening on %s", url)
            log.info("batcher started: keys %s, DA %s", ", ".join("0x" + a.hex() for a in batcher.managers), cfg.da)
            async for signum in signals:
                log.info("received %s: stopping the batcher", signal.Signals(signum).name)
                nursery.cancel_scope.cancel()
                break
    log.info("batcher stopped: %s", json.dumps({k: v for k, v in batcher.status().items()
                                                if k in ("events", "faults", "rewinds", "txs_included_by_da")}))
