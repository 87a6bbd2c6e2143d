"""``opnode replay witness`` and ``opnode replay fixture``: the fault-proof program's single-block check run from a
preimage store (or exported from a recording and an engine), and kona's execution fixtures. Exit codes: 0 when the
claim (or fixture) matches, 1 when it does not, 2 on bad input, 3 when a preimage the run needed is missing or
does not match its key."""

from __future__ import annotations

from pathlib import Path

import click

from opnode.commands.replay_io import InputError, chain_configs, console, load_recording, write_json
from opnode.node.networks import NETWORKS


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
    from opnode.node.networks import network_json

    if network is None and rollup_config is None:
        if chain_id is None:
            raise click.UsageError("give --l2-chain-id, --network or --rollup.config")
        network = next((n for n in NETWORKS if network_json(n)["l2_chain_id"] == chain_id), None)
        if network is None:
            raise click.UsageError(f"no bundled rollup config for L2 chain id {chain_id}; give --rollup.config")
    cfg, l1_chain = chain_configs(network, rollup_config, l1_chain_config)
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
        raise InputError(str(e)) from None


@click.command("witness")
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
                raise InputError(str(e)) from None
        if json_out != "-":
            render.print_result(console(), result, store.description)
        if json_out:
            write_json(render.result_json(result, store.description), json_out)
    ctx.exit(0 if result.claim_holds else 1)


@click.command("fixture")
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
        raise InputError(f"{file}: no such file")
    try:
        r = run_fixture_file(file)
    except (FixtureError, StoreError) as e:
        raise InputError(str(e)) from None
    except PreimageError as e:
        raise _PreimageFailure(str(e)) from None
    if json_out != "-":
        colour = "green" if r.matches else "red"
        console().print(f"[{colour} bold]{'match' if r.matches else 'mismatch'}[/{colour} bold]: {r.message} "
                         f"({r.preimages_read} preimages read)")
    if json_out:
        h = r.header
        write_json({"matches": r.matches, "expected_block_hash": to_hex(r.fixture.expected_hash),
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
    rec = load_recording(recording)
    head = _hash_option(l1_head, "--l1-head") if l1_head else None
    try:
        db = EngineDB(l2_datadir)
        try:
            result = export_from_recording(rec, db, export_dir, claimed_number=claimed_number, l1_head=head,
                                           agreed_number=claimed_number - 1 if agreed_number is None else agreed_number)
        finally:
            db.close()
    except ExportError as e:
        raise InputError(str(e)) from None
    if json_out != "-":
        render.print_result(console(), result, f"recording {recording} and engine {l2_datadir}")
    if json_out:
        write_json(render.result_json(result, f"recording {recording} and engine {l2_datadir}"), json_out)
    ctx.exit(0)
