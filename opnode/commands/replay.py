"""``opnode replay``: record an L1 range with everything derivation needs, replay it offline, explain it.

Exit codes: ``run`` gives 0 when every derived block matches the recorded one, 1 at the first mismatch (or when
derivation fails); every command gives 2 on bad input, including a recording that fails its integrity checks.
"""

from __future__ import annotations

import click

from opnode.commands.replay_io import InputError, chain_configs, console, load_recording, write_json
from opnode.commands.replay_witness import fixture_command, witness_command
from opnode.node.l1.config import RPC_KINDS
from opnode.node.networks import NETWORKS


@click.group("replay")
def replay_group():
    """Record an L1 range, replay it offline and explain it (frames, channels, batches, drops, attributes)."""


replay_group.add_command(witness_command)
replay_group.add_command(fixture_command)


# ------------------------------------------------------------------------------------------------ record


@replay_group.command("record")
@click.option("--l1", "l1_url", required=True, envvar="OP_NODE_L1_ETH_RPC", help="L1 execution-layer RPC URL.")
@click.option("--l1.beacon", "beacon_url", envvar="OP_NODE_L1_BEACON", help="L1 beacon API URL (for blobs).")
@click.option("--l1.trustrpc", "trust_rpc", is_flag=True, help="Do not recompute L1 block hashes and roots.")
@click.option("--l1.rpckind", "rpc_kind", default="standard", show_default=True, type=click.Choice(RPC_KINDS),
              help="How to fetch L1 receipts (op-node's kinds).")
@click.option("--l2", "l2_url", required=True, help="L2 execution-layer RPC URL (eth_getBlockBy* with full txs).")
@click.option("--network", type=click.Choice(NETWORKS), help="A bundled network.")
@click.option("--rollup.config", "rollup_config", type=click.Path(dir_okay=False), help="A rollup.json file.")
@click.option("--rollup.l1-chain-config", "l1_chain_config", type=click.Path(dir_okay=False),
              help="The L1's geth genesis config (blob schedule); built in for public L1s.")
@click.option("--from-l1", "from_l1", type=click.IntRange(0), required=True, help="First L1 block of the range.")
@click.option("--to-l1", "to_l1", type=click.IntRange(0), required=True, help="Last L1 block of the range.")
@click.option("--start-l2", "start_l2", type=click.IntRange(0),
              help="Start derivation on this L2 block (default: see --lookback).")
@click.option("--lookback", type=click.IntRange(0),
              help="Start on the last L2 block whose L1 origin is at most from-l1 - 1 - LOOKBACK "
                   "(default: the sequencing window, which guarantees it was safe before the range).")
@click.option("--description", default="", help="Stored in the recording.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="The recording file.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
def record_command(l1_url, beacon_url, trust_rpc, rpc_kind, l2_url, network, rollup_config, l1_chain_config,
                   from_l1, to_l1, start_l2, lookback, description, output, no_progress):
    """Record L1 blocks FROM-L1..TO-L1 and the L2 blocks derived from them into one compressed file."""
    import trio

    if from_l1 > to_l1:
        raise click.UsageError(f"--from-l1 {from_l1} is after --to-l1 {to_l1}")
    if start_l2 is not None and lookback is not None:
        raise click.UsageError("give at most one of --start-l2 and --lookback")
    cfg, l1_chain = chain_configs(network, rollup_config, l1_chain_config)
    if l1_chain.chain_id != cfg.l1_chain_id:
        raise click.UsageError(f"the L1 chain config is for chain {l1_chain.chain_id}, the rollup's L1 is "
                               f"{cfg.l1_chain_id}")
    args = dict(cfg=cfg, l1_chain=l1_chain, l1_url=l1_url, beacon_url=beacon_url, l2_url=l2_url,
                trust_rpc=trust_rpc, rpc_kind=rpc_kind, from_l1=from_l1, to_l1=to_l1, start_l2=start_l2,
                lookback=lookback, description=description, progress=not no_progress)
    session = _run_recording(trio, args)
    from opnode.tools.replay import format as fmt
    from opnode.tools.replay.compare import Outcome
    from opnode.tools.replay.session import Stop

    try:
        size = fmt.write(output, session.store)
    except OSError as e:
        raise InputError(f"cannot write {output}: {e.strerror}") from None
    store = session.store
    err = console(stderr=True)
    mismatches = [d.number for d in session.derived if d.comparison.outcome is Outcome.MISMATCH]
    err.print(f"recorded L1 {from_l1}–{to_l1} from L2 safe head {store.meta.start.number}: "
              f"{len(session.derived)} L2 blocks derived, {len(store.l1_headers)} L1 headers, "
              f"{sum(len(b) for b in store.blobs.values())} blobs → {output} ({size} bytes)")
    if mismatches:
        err.print(f"[yellow]note[/yellow]: {len(mismatches)} derived blocks differ from the real ones (first: L2 "
                  f"#{mismatches[0]}); `opnode replay run {output}` shows the difference")
    if session.finished.how is Stop.FAILED:
        err.print(f"[yellow]note[/yellow]: derivation stopped: {session.finished.message}; the recording "
                  "reproduces it")


def _run_recording(trio, a: dict):
    from derivation.protocol.errors import DerivationError
    from opnode.jsonrpc.errors import RpcError
    from opnode.node.l1.beacon import BeaconHTTPError
    from opnode.tools.replay.recorder import RecordError

    try:
        return trio.run(_record, a)
    except (RecordError, DerivationError, RpcError, BeaconHTTPError) as e:
        raise click.ClickException(" ".join(str(e).split())) from None


async def _record(a: dict):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from opnode import __version__
    from opnode.tools.replay.live import LiveSource
    from opnode.tools.replay.recorder import find_start, record
    from opnode.tools.replay.store import l2_ref

    cfg = a["cfg"]
    async with LiveSource.open(a["l1_url"], a["l2_url"], a["beacon_url"], trust_rpc=a["trust_rpc"],
                               rpc_kind=a["rpc_kind"]) as src:
        await src.check_chains(cfg)
        if a["start_l2"] is not None:
            start = await src.l2_block_by_number(a["start_l2"])
        else:
            start = await find_start(cfg, src, a["from_l1"], a["lookback"])
        origin = l2_ref(cfg, start).l1_origin.number
        first = max(cfg.genesis.l1.number, origin - cfg.channel_timeout)
        progress = Progress(TextColumn("recording"), BarColumn(), MofNCompleteColumn(), TextColumn("L1 blocks"),
                            TextColumn("{task.fields[derived]} L2 blocks derived"), TimeElapsedColumn(),
                            console=console(stderr=True), disable=not a["progress"], transient=True)
        with progress:
            task = progress.add_task("record", total=a["to_l1"] - first + 1, derived=0)

            def report(p):
                if p.origin is not None:
                    progress.update(task, completed=max(0, p.origin - first + 1), derived=p.derived)

            return await record(cfg, a["l1_chain"], src, from_l1=a["from_l1"], to_l1=a["to_l1"], start=start,
                                description=a["description"], created_by=f"opnode {__version__}",
                                sources={"l1": src.versions["l1"], "l2": src.versions["l2"],
                                         "beacon": bool(a["beacon_url"])},
                                progress=report)


# ------------------------------------------------------------------------------------------------ run / inspect


@replay_group.command("run")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--json", "json_out", type=click.Path(dir_okay=False, allow_dash=True),
              help="Also write the explanation and verdict as JSON to this file ('-': JSON on stdout instead).")
@click.pass_context
def run_command(ctx, file, json_out):
    """Replay FILE offline: explain each L1 block and compare each derived block with the recorded one.
    Exit code 0 on a full match, 1 at the first mismatch."""
    from opnode.tools.replay import render
    from opnode.tools.replay.replayer import replay

    result = replay(load_recording(file))
    if json_out != "-":
        render.print_run(console(), result)
    if json_out:
        write_json(render.run_json(result), json_out)
    ctx.exit(0 if result.ok else 1)


@replay_group.command("inspect")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--json", "json_out", type=click.Path(dir_okay=False, allow_dash=True),
              help="Also write the mapping as JSON to this file ('-': JSON on stdout instead).")
def inspect_command(file, json_out):
    """Channels ↔ the L1 blocks that carried them ↔ the L2 blocks derived from them, with sizes and compression
    ratios."""
    from opnode.tools.replay import render
    from opnode.tools.replay.inspect import build
    from opnode.tools.replay.replayer import replay

    result = replay(load_recording(file))
    mapping = build(result)
    if json_out != "-":
        render.print_inspect(console(), result, mapping)
    if json_out:
        write_json(render.inspect_json(result, mapping), json_out)
