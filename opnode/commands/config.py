"""``opnode config``: inspect rollup configurations."""

import json

import click

from opnode.node.networks import NETWORKS, ConfigError, load_rollup_config


@click.group("config")
def config_group():
    """Show rollup configurations (named networks or rollup.json files)."""


@config_group.command("show")
@click.option("--network", type=click.Choice(NETWORKS), help="A bundled network.")
@click.option("--rollup.config", "rollup_config", type=click.Path(dir_okay=False), help="A rollup.json file.")
def show(network, rollup_config):
    """Print the rollup.json (op-node's format) of a network or file, after validation. What rollup.json cannot
    say about a bundled network (its interop dependency set, where the config stops describing the chain) goes to
    stderr."""
    try:
        cfg = load_rollup_config(network, rollup_config)
    except ConfigError as e:
        raise click.UsageError(str(e)) from None
    click.echo(json.dumps(cfg.to_json(), indent=2))
    if cfg.dependency_set is not None:
        click.echo(f"note: interop dependency set {', '.join(map(str, cfg.dependency_set.chain_ids))}", err=True)
    if cfg.derivation_limit is not None:
        click.echo(f"note: not followable from {cfg.derivation_limit.time}: {cfg.derivation_limit.reason}", err=True)


@config_group.command("networks")
def networks():
    """List the bundled networks."""
    for n in NETWORKS:
        click.echo(n)
