"""``opnode node``: run a source node (derives the safe chain from L1), a light node (``--l2.follow.source``) or a
sequencer (``--sequencer.enabled``), with op-node's flags and ``OP_NODE_*`` environment variables."""

import os
import sys

import click

from opnode.node.config import node_config_from
from opnode.node.flags import ENV_PREFIX, NodeCommand, node_options, unknown_env_vars
from opnode.node.logs import get_logger, setup_logging


@click.command("node", cls=NodeCommand, context_settings={"max_content_width": 120})
@node_options
def node_cmd(**kwargs):
    """Run the rollup node (op-node compatible flags; `opnode node --help` lists them by group)."""
    config = node_config_from(kwargs)
    setup_logging(config.log)
    log = get_logger("opnode")
    for env_var in unknown_env_vars(os.environ):
        log.warn("Unknown env var", prefix=ENV_PREFIX.rstrip("_"), env_var=env_var)
    for notice in config.notices:  # accepted-without-effect flags, generated JWT secret, ...: one WARN each
        log.warn(notice)
    from opnode.node.runtime.node import run_node

    sys.exit(run_node(config))
