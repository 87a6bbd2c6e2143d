"""``opnode engine``: the embedded py-evm OP execution engine behind a real Engine API (JWT) and an eth RPC."""

from __future__ import annotations

import json
import os
import sys
import time

import click


def _load_genesis(genesis_path, dev, datadir, genesis_time):
    from derivation.protocol.errors import ParseError
    from engine.execution.genesis import load_genesis
    from engine.execution.op_genesis import dev_genesis, dev_keys

    if bool(genesis_path) == bool(dev):
        raise click.UsageError("give exactly one of --genesis FILE or --dev")
    try:
        if genesis_path:
            return load_genesis(genesis_path)
        saved = os.path.join(datadir, "dev-genesis.json") if datadir else None
        if saved and os.path.exists(saved):
            g = load_genesis(saved)
            g.dev_keys = dev_keys()
            return g
        g = dev_genesis(genesis_time if genesis_time is not None else int(time.time()))
        if saved:
            os.makedirs(datadir, exist_ok=True)
            with open(saved, "w") as f:
                json.dump(g.to_json(), f)
        return g
    except ParseError as e:
        raise click.ClickException(str(e)) from None


@click.command("engine")
@click.option("--genesis", "genesis_path", type=click.Path(exists=True, dir_okay=False),
              help="op-geth genesis.json of the L2 chain.")
@click.option("--dev", is_flag=True, help="Built-in devnet: chain 901, every fork through Karst at genesis.")
@click.option("--jwt-secret", type=click.Path(dir_okay=False),
              help="File with the 32-byte hex Engine API secret (created if missing).")
@click.option("--http.port", "http_port", type=click.IntRange(0, 65535), default=8545, show_default=True)
@click.option("--authrpc.port", "auth_port", type=click.IntRange(0, 65535), default=8551, show_default=True)
@click.option("--datadir", type=click.Path(file_okay=False), help="Persist the chain here (sqlite); memory if unset.")
@click.option("--sync.peers", "sync_peers", default="", help="Comma-separated HTTP RPC URLs of engines to sync from.")
@click.option("--dev.genesis-time", "genesis_time", type=int, default=None,
              help="Genesis timestamp of the --dev chain (default: now; kept in --datadir).")
@click.option("--print-rollup-config", is_flag=True, help="Print the matching op-node rollup.json and exit.")
@click.option("--print-genesis", is_flag=True, help="Print the op-geth genesis.json and exit.")
def engine_command(genesis_path, dev, jwt_secret, http_port, auth_port, datadir, sync_peers, genesis_time,
                   print_rollup_config, print_genesis):
    """Run the embedded OP execution engine: Engine API on --authrpc.port (JWT), eth RPC on --http.port."""
    g = _load_genesis(genesis_path, dev, datadir, genesis_time)
    if print_rollup_config or print_genesis:
        from engine.execution.op_genesis import rollup_config_for

        if print_genesis:
            click.echo(json.dumps(g.to_json(), indent=2))
        if print_rollup_config:
            cfg = rollup_config_for(g, g.header().hash)
            click.echo(json.dumps(cfg.to_json(), indent=2))
        return
    if not jwt_secret:
        raise click.UsageError("--jwt-secret FILE is required to serve the Engine API")
    from opnode.jsonrpc.jwt import read_secret, write_secret

    try:
        secret = read_secret(jwt_secret) if os.path.exists(jwt_secret) else write_secret(jwt_secret)
    except (ValueError, OSError) as e:
        raise click.ClickException(str(e)) from None
    peers = [p.strip() for p in sync_peers.split(",") if p.strip()]
    _serve(g, secret, datadir, http_port, auth_port, peers)


def _serve(g, secret, datadir, http_port, auth_port, peers):
    import logging

    import trio

    from derivation.protocol.crypto import address_from_private_key
    from engine.execution.service import EngineService

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    try:
        svc = EngineService(g, secret, datadir=datadir, http_port=http_port, auth_port=auth_port, sync_peers=peers)
    except ValueError as e:
        raise click.ClickException(str(e)) from None

    async def main():
        async with trio.open_nursery() as n:
            ports = await n.start(svc.run)
            head = svc.chain.head
            click.echo(f"engine: chain {g.spec.chain_id} genesis 0x{svc.chain.genesis_hash.hex()} head {head.number} "
                       f"http 127.0.0.1:{ports.http} authrpc 127.0.0.1:{ports.auth}", err=True)
            for i, k in enumerate(g.dev_keys):
                click.echo(f"dev account {i}: 0x{address_from_private_key(k).hex()} key 0x{k.hex()}", err=True)
            sys.stderr.flush()

    try:
        trio.run(main)
    except OSError as e:
        raise click.ClickException(f"cannot serve: {e}") from None
    except KeyboardInterrupt:
        pass
