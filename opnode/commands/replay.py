"""``opnode replay``: record an L1 range with everything derivation needs, replay it offline, explain it.

Exit codes: ``run`` gives 0 when every derived block matches the recorded one, 1 at the first mismatch (or when
derivation fails); every command gives 2 on bad input, including a recording that fails its integrity checks.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from opnode.node.l1.config import RPC_KINDS
from opnode.node.networks import NETWORKS


class _InputError(click.ClickException):
    exit_code = 2


def _load(path: str):
    from opnode.tools.replay import format as fmt

    try:
        return fmt.read(path)
    except fmt.CorruptRecording as e:
        raise _InputError(f"{path} is corrupt, not replayed: {e}") from None
    except fmt.RecordingError as e:
        raise _InputError(str(e)) from None


def _console(stderr: bool = False):
    from rich.console import Console

    console = Console(highlight=False, soft_wrap=True, stderr=stderr)
    if not console.is_terminal:  # pipes and files: tables at a width that fits hashes, not 80 columns
        console.width = 160
    return console


def _write_json(doc: dict, out: str) -> None:
    text = json.dumps(doc, indent=2)
    if out == "-":
        click.echo(text)
        return
    try:
        Path(out).write_text(text + "\n")
    except OSError as e:
        raise _InputError(f"cannot write {out}: {e.strerror}") from None


@click.group("replay")
def replay_group():
    """Record an L1 range, replay it offline and explain it (frames, channels, batches, drops, attributes)."""


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

    from derivation.protocol.errors import DerivationError
    from derivation.protocol.l1_chain_config import L1ChainConfig
    from derivation.protocol.l1_chain_config import l1_chain_config as builtin_l1_chain
    from opnode.node.networks import ConfigError, load_rollup_config

    if from_l1 > to_l1:
        raise click.UsageError(f"--from-l1 {from_l1} is after --to-l1 {to_l1}")
    if start_l2 is not None and lookback is not None:
        raise click.UsageError("give at most one of --start-l2 and --lookback")
    try:
        cfg = load_rollup_config(network, rollup_config)
        if l1_chain_config:
            l1_chain = L1ChainConfig.from_genesis_config(json.loads(Path(l1_chain_config).read_text()))
        else:
            l1_chain = builtin_l1_chain(cfg.l1_chain_id)
    except (ConfigError, DerivationError) as e:
        raise click.UsageError(str(e)) from None
    except (OSError, ValueError) as e:
        raise click.UsageError(f"cannot read {l1_chain_config}: {e}") from None
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
        raise _InputError(f"cannot write {output}: {e.strerror}") from None
    store = session.store
    err = _console(stderr=True)
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
                            console=_console(stderr=True), disable=not a["progress"], transient=True)
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

    result = replay(_load(file))
    if json_out != "-":
        render.print_run(_console(), result)
    if json_out:
        _write_json(render.run_json(result), json_out)
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

    result = replay(_load(file))
    mapping = build(result)
    if json_out != "-":
        render.print_inspect(_console(), result, mapping)
    if json_out:
        _write_json(render.inspect_json(result, mapping), json_out)


# ------------------------------------------------------------------------------------------------ witness / fixture


class _PreimageFailure(click.ClickException):
    """A preimage the run needed is missing or does not match its key."""

    exit_code = 3


def _hash_option(value: str, flag: str) -> bytes:
    from derivation.protocol.errors import ParseError
    from derivation.protocol.hexutil import from_hex

    try:
        return from_hex(value, 32)
    except ParseError as e:
        raise click.UsageError(f"{flag}: {e}") from None


def _witness_configs(chain_id, network, rollup_config, l1_chain_config):
    """The rollup config (a bundled network by name or chain id, or a file) and the L1's chain config."""
    from derivation.protocol.errors import DerivationError
    from derivation.protocol.l1_chain_config import L1ChainConfig
    from derivation.protocol.l1_chain_config import l1_chain_config as builtin_l1_chain
    from opnode.node.networks import ConfigError, load_rollup_config, network_json

    try:
        if network is None and rollup_config is None:
            if chain_id is None:
                raise click.UsageError("give --l2-chain-id, --network or --rollup.config")
            network = next((n for n in NETWORKS if network_json(n)["l2_chain_id"] == chain_id), None)
            if network is None:
                raise click.UsageError(f"no bundled rollup config for L2 chain id {chain_id}; give --rollup.config")
        cfg = load_rollup_config(network, rollup_config)
        if l1_chain_config:
            l1_chain = L1ChainConfig.from_genesis_config(json.loads(Path(l1_chain_config).read_text()))
        else:
            l1_chain = builtin_l1_chain(cfg.l1_chain_id)
    except (ConfigError, DerivationError) as e:
        raise click.UsageError(str(e)) from None
    except (OSError, ValueError) as e:
        raise click.UsageError(f"cannot read {l1_chain_config}: {e}") from None
    if chain_id is not None and chain_id != cfg.l2_chain_id:
        raise click.UsageError(f"--l2-chain-id {chain_id} but the rollup config is for chain {cfg.l2_chain_id}")
    if l1_chain.chain_id != cfg.l1_chain_id:
        raise click.UsageError(f"the L1 chain config is for chain {l1_chain.chain_id}, the rollup's L1 is "
                               f"{cfg.l1_chain_id}")
    return cfg, l1_chain


def _open_witness_store(path: str, raw_keccak: bool = False):
    from opnode.tools.witness.stores import StoreError, open_store

    try:
        return open_store(path, raw_keccak)
    except StoreError as e:
        raise _InputError(str(e)) from None


@replay_group.command("witness")
@click.option("--data-dir", "--datadir", "data_dir", type=click.Path(), help="The preimage store: a kona or "
              "op-program data directory, a RocksDB directory, or a .tar.zst/.tar.gz archive of one.")
@click.option("--l1-head", "--l1.head", "l1_head", help="Hash of the L1 head block.")
@click.option("--agreed-l2-output-root", "--l2.outputroot", "agreed", help="The agreed L2 output root to start from.")
@click.option("--claimed-l2-output-root", "--l2.claim", "claimed", help="The claimed L2 output root to check.")
@click.option("--claimed-l2-block-number", "--l2.blocknumber", "claimed_number", type=click.IntRange(0),
              required=True, help="The L2 block number of the claim.")
@click.option("--l2-chain-id", "chain_id", type=click.IntRange(1), help="Use the bundled rollup config of this chain.")
@click.option("--network", help="A bundled network by name.")
@click.option("--rollup.config", "--rollup-config-path", "rollup_config", type=click.Path(dir_okay=False),
              help="A rollup.json file.")
@click.option("--rollup.l1-chain-config", "--l1-config-path", "l1_chain_config", type=click.Path(dir_okay=False),
              help="The L1's geth genesis config (blob schedule); built in for public L1s.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, allow_dash=True),
              help="Also write the explanation and verdict as JSON to this file ('-': JSON on stdout instead).")
@click.option("--export", "export_dir", type=click.Path(file_okay=False),
              help="Write the preimages the run read to this directory in kona's file-per-key layout, with the "
                   "rollup config and inputs beside them.")
@click.option("--recording", type=click.Path(dir_okay=False),
              help="Export mode: make the witness from a replay recording (opnode replay record) and an engine's "
                   "data directory instead of reading a store.")
@click.option("--l2.datadir", "l2_datadir", type=click.Path(file_okay=False),
              help="Export mode: the embedded engine's --datadir (its state by hash).")
@click.option("--agreed-l2-block-number", "agreed_number", type=click.IntRange(0),
              help="Export mode: the L2 block to agree on (default: the block before the claimed one).")
@click.pass_context
def witness_command(ctx, data_dir, l1_head, agreed, claimed, claimed_number, chain_id, network, rollup_config,
                    l1_chain_config, json_out, export_dir, recording, l2_datadir, agreed_number):
    """Run the fault proof offline over a preimage store: derive the L2 blocks after the agreed output root from
    the L1 data in the store, execute them on the state in the store and compare the output root with the claim.
    Exit code 0 when the claim holds, 1 when it does not, 2 on bad input, 3 when a preimage the run needs is
    missing or does not match its key."""
    from opnode.tools.witness import render
    from opnode.tools.witness.oracle import Oracle, PreimageError
    from opnode.tools.witness.run import Inputs, WitnessRun

    if recording is not None:
        _export_from_recording(ctx, recording, l2_datadir, export_dir, agreed_number, claimed_number, l1_head,
                               json_out)
        return
    missing = [f for f, v in (("--data-dir", data_dir), ("--l1-head", l1_head), ("--agreed-l2-output-root", agreed),
                              ("--claimed-l2-output-root", claimed)) if v is None]
    if missing:
        raise click.UsageError(f"missing {', '.join(missing)}")
    inputs = Inputs(_hash_option(l1_head, "--l1-head"), _hash_option(agreed, "--agreed-l2-output-root"),
                    _hash_option(claimed, "--claimed-l2-output-root"), claimed_number,
                    *_witness_configs(chain_id, network, rollup_config, l1_chain_config))
    with _open_witness_store(data_dir) as store:
        oracle = Oracle(store)
        try:
            result = WitnessRun(inputs, oracle).run()
        except PreimageError as e:
            raise _PreimageFailure(str(e)) from None
        if export_dir:
            from opnode.tools.witness.export import ExportError, write_witness

            try:
                write_witness(export_dir, oracle.touched, inputs)
            except ExportError as e:
                raise _InputError(str(e)) from None
        if json_out != "-":
            render.print_result(_console(), result, store.description)
        if json_out:
            _write_json(render.result_json(result, store.description), json_out)
    ctx.exit(0 if result.claim_holds else 1)


@replay_group.command("fixture")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--json", "json_out", type=click.Path(dir_okay=False, allow_dash=True),
              help="Also write the result as JSON to this file ('-': JSON on stdout instead).")
@click.pass_context
def fixture_command(ctx, file, json_out):
    """Run one of kona's executor test fixtures (a tarball of fixture.json and a kv/ RocksDB of preimages):
    execute the payload attributes on the parent with that state and compare the block hash with the expected
    one. Exit code 0 on a match, 1 on a different block, 2 on bad input, 3 when the store lacks (or holds a wrong)
    node the block needs."""
    from derivation.protocol.hexutil import to_hex
    from opnode.tools.witness.fixture import FixtureError, run_fixture_file
    from opnode.tools.witness.oracle import PreimageError
    from opnode.tools.witness.stores import StoreError

    if not Path(file).is_file():
        raise _InputError(f"{file}: no such file")
    try:
        r = run_fixture_file(file)
    except (FixtureError, StoreError) as e:
        raise _InputError(str(e)) from None
    except PreimageError as e:
        raise _PreimageFailure(str(e)) from None
    if json_out != "-":
        colour = "green" if r.matches else "red"
        _console().print(f"[{colour} bold]{'match' if r.matches else 'mismatch'}[/{colour} bold]: {r.message} "
                         f"({r.preimages_read} preimages read)")
    if json_out:
        h = r.header
        _write_json({"matches": r.matches, "expected_block_hash": to_hex(r.fixture.expected_hash),
                     "block_hash": None if h is None else to_hex(h.hash),
                     "state_root": None if h is None else to_hex(h.state_root),
                     "gas_used": None if h is None else h.gas_used, "message": r.message,
                     "preimages_read": r.preimages_read}, json_out)
    ctx.exit(0 if r.matches else 1)


def _export_from_recording(ctx, recording, l2_datadir, export_dir, agreed_number, claimed_number, l1_head, json_out):
    from opnode.tools.witness import render
    from opnode.tools.witness.export import ExportError
    from opnode.tools.witness.host import EngineDB, export_from_recording

    if export_dir is None or l2_datadir is None:
        raise click.UsageError("--recording needs --export DIR and --l2.datadir")
    rec = _load(recording)
    head = _hash_option(l1_head, "--l1-head") if l1_head else None
    try:
        db = EngineDB(l2_datadir)
        try:
            result = export_from_recording(rec, db, export_dir, claimed_number=claimed_number, l1_head=head,
                                           agreed_number=claimed_number - 1 if agreed_number is None else agreed_number)
        finally:
            db.close()
    except ExportError as e:
        raise _InputError(str(e)) from None
    if json_out != "-":
        render.print_result(_console(), result, f"recording {recording} and engine {l2_datadir}")
    if json_out:
        _write_json(render.result_json(result, f"recording {recording} and engine {l2_datadir}"), json_out)
    ctx.exit(0)
