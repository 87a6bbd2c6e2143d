"""``opnode devnet``: a whole OP Stack chain on this machine (anvil L1, embedded engines, sequencer, batcher, by
default two source nodes and two light nodes following them, traffic), the READY JSON once it is up (a file, and a
``READY {json}`` line for scripts), a live table on a terminal, and on exit an optional ``--json`` summary whose checks
decide the exit code (0: all passed, 1: not)."""

from __future__ import annotations

import sys

import click

_SECONDS = click.IntRange(min=0)


@click.command("devnet")
@click.option("--sources", type=click.IntRange(1, 8), default=2, show_default=True,
              help="Source nodes deriving the chain from L1 (what the checks are about).")
@click.option("--light-nodes", type=click.IntRange(0, 8), default=2, show_default=True,
              help="Light nodes following the sources in turn (--l2.follow.source).")
@click.option("--da", type=click.Choice(["calldata", "blobs", "auto"]), default="auto", show_default=True,
              help="How the batcher posts (auto: blobs, as L1 and Ecotone allow).")
@click.option("--faults", is_flag=True, help="The batcher misbehaves on purpose (garbage, duplicate and reordered "
                                             "frames, invalid batches); sources must still converge. With --interop: "
                                             "invalid cross-chain messages instead (the batchers post honestly).")
@click.option("--duration", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Stop after this many seconds (default: run until Ctrl-C or SIGTERM). With --interop --faults, "
                   "the fault rounds finish first (at most 180 s more).")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, writable=True),
              help="Write the summary here on exit (heads over time, checks, errors).")
@click.option("--block-time", type=click.IntRange(min=1), default=2, show_default=True, help="L2 block time (s).")
@click.option("--l1-block-time", type=click.IntRange(min=1), default=1, show_default=True, help="L1 block time (s).")
@click.option("--workdir", type=click.Path(file_okay=False), default=None,
              help="Chain files, databases and logs (default: a temporary directory removed at exit).")
@click.option("--fork.holocene", "holocene", type=_SECONDS, default=None,
              help="Holocene activation, seconds after L2 genesis (default 40).")
@click.option("--fork.isthmus", "isthmus", type=_SECONDS, default=None,
              help="Isthmus activation, seconds after L2 genesis (default 80).")
@click.option("--fork.jovian", "jovian", type=_SECONDS, default=None,
              help="Jovian activation, seconds after L2 genesis (default 120).")
@click.option("--fork.karst", "karst", type=_SECONDS, default=None,
              help="Karst activation, seconds after L2 genesis (default 160).")
@click.option("--no-traffic", is_flag=True, help="Start no traffic generator.")
@click.option("--ready-file", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Also write the READY JSON (every node's endpoints) here; it is always in <workdir>/ready.json "
                   "and, when stdout is not a terminal, printed as a 'READY {json}' line.")
@click.option("--interop", is_flag=True,
              help="Two chains (901, 902) in one interop dependency set: a light sequencer, engine and batcher per "
                   "chain, a supernode as the only source, light nodes following its /<chainID> routes, cross-chain "
                   "messages as traffic (with --faults: invalid ones, whose blocks the supernode replaces).")
def devnet_command(sources, light_nodes, da, faults, duration, json_out, block_time, l1_block_time, workdir,
                   holocene, isthmus, jovian, karst, no_traffic, ready_file, interop):
    """Run a whole OP Stack devnet in the foreground (Ctrl-C stops it cleanly)."""
    from pathlib import Path

    from derivation.protocol.rollup_config import Fork
    from opnode.tools.devnet.run import DevnetOptions, run_devnet
    from opnode.tools.devnet.stack import DEFAULT_FORKS

    for flag, path in (("--json", json_out), ("--ready-file", ready_file)):
        if path and not Path(path).resolve().parent.is_dir():
            raise click.UsageError(f"{flag}: directory {Path(path).resolve().parent} does not exist")
    forks = dict(DEFAULT_FORKS)
    given = {Fork.HOLOCENE: holocene, Fork.ISTHMUS: isthmus, Fork.JOVIAN: jovian, Fork.KARST: karst}
    forks.update({fork: value for fork, value in given.items() if value is not None})
    order = [forks[f] for f in given]
    if order != sorted(order):
        raise click.UsageError("fork offsets must not decrease: "
                               "--fork.holocene <= --fork.isthmus <= --fork.jovian <= --fork.karst")
    if workdir is not None:
        Path(workdir).mkdir(parents=True, exist_ok=True)
    opts = DevnetOptions(sources=sources, light_nodes=light_nodes, da=da, faults=faults, duration=duration,
                         json_out=Path(json_out) if json_out else None, block_time=block_time,
                         l1_block_time=l1_block_time, workdir=Path(workdir) if workdir else None, forks=forks,
                         interactive=sys.stderr.isatty(), traffic=not no_traffic,
                         ready_file=Path(ready_file) if ready_file else None, interop=interop)
    return run_devnet(opts)
