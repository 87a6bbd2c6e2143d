"""``opnode supernode``: derive every chain of an interop dependency set in one process over one L1 view, verify
their cross-chain messages and serve each chain's op-node API at ``/<chainID>`` (op-supernode's flags and
``OP_SUPERNODE_*`` environment; per-chain op-node flags as ``--vn.<chainID>.<flag>`` / ``--vn.all.<flag>``)."""

import os
import sys

import click

from opnode.node.flags import BOOL, DURATION, LIST, LOG_FORMATS, LOG_LEVELS, UINT, Choice

E = "OP_SUPERNODE_"


@click.command("supernode", context_settings={"ignore_unknown_options": True, "allow_extra_args": True,
                                              "max_content_width": 120})
@click.option("--chains", type=LIST, multiple=True, envvar=E + "CHAINS",
              help="Chain IDs to run (comma-separated or repeated); required")
@click.option("--l1", envvar=E + "L1_ETH_RPC", help="L1 JSON-RPC endpoint shared by every chain; required")
@click.option("--l1.beacon", "l1_beacon", envvar=E + "L1_BEACON", help="L1 beacon endpoint shared by every chain")
@click.option("--l1.beacon-fallbacks", "--l1.beacon-archiver", "l1_beacon_fallbacks", type=LIST, multiple=True,
              envvar=[E + "L1_BEACON_FALLBACKS", E + "L1_BEACON_ARCHIVER"], help="Beacon-API fallback endpoints")
@click.option("--l1.http-poll-interval", "l1_http_poll_interval", type=DURATION, envvar=E + "L1_HTTP_POLL_INTERVAL",
              help="Poll interval of the one shared L1 head poll  [default: 12s]")
@click.option("--disable-p2p", "disable_p2p", type=BOOL, is_flag=False, flag_value="true", envvar=E + "DISABLE_P2P",
              help="Disable P2P for all chains (per-chain gossip is not run by this version in any case)")
@click.option("--data-dir", "data_dir", envvar=E + "DATA_DIR", help="Data directory  [default: ./datadir]")
@click.option("--dependency-set", "dependency_set", envvar=E + "DEPENDENCY_SET",
              help="Dependency-set JSON shared by every chain (op-node's format)")
@click.option("--interop.activation-timestamp", "interop_activation_timestamp", type=UINT,
              envvar=E + "INTEROP_ACTIVATION_TIMESTAMP",
              help="First L2 timestamp verified; default: the chains' common lagoon_time")
@click.option("--interop.log-backfill-depth", "interop_log_backfill_depth", type=DURATION,
              help="Accepted for compatibility; no effect")
@click.option("--rpc.addr", "rpc_addr", envvar=E + "RPC_ADDR", help="RPC listening address  [default: 0.0.0.0]")
@click.option("--rpc.port", "rpc_port", type=int, envvar=E + "RPC_PORT", help="RPC listening port  [default: 8545]")
@click.option("--rpc.enable-admin", "rpc_enable_admin", type=BOOL, is_flag=False, flag_value="true",
              envvar=E + "RPC_ENABLE_ADMIN", help="Serve each chain's admin API")
@click.option("--metrics.enabled", "metrics_enabled", type=BOOL, is_flag=False, flag_value="true",
              envvar=E + "METRICS_ENABLED", help="Serve Prometheus metrics (the shared L1 client's and the process')")
@click.option("--metrics.addr", "metrics_addr", envvar=E + "METRICS_ADDR", help="Metrics address  [default: 0.0.0.0]")
@click.option("--metrics.port", "metrics_port", type=int, envvar=E + "METRICS_PORT",
              help="Metrics port  [default: 7300]")
@click.option("--log.level", "log_level", type=Choice(LOG_LEVELS, fold=True), envvar=E + "LOG_LEVEL",
              help="Lowest log level  [default: info]")
@click.option("--log.format", "log_format", type=Choice(LOG_FORMATS), envvar=E + "LOG_FORMAT",
              help="Log format  [default: text]")
@click.pass_context
def supernode_command(ctx, **own):
    """Run the supernode. Per-chain settings: any `opnode node` flag as --vn.<chainID>.<flag> or --vn.all.<flag>
    (env OP_SUPERNODE_VN_<chainID|ALL>_<op-node env name without OP_NODE_>); each chain needs at least --vn.<id>.l2,
    a JWT secret and its rollup config."""
    from opnode.node.logs import get_logger, setup_logging
    from opnode.supernode.config import supernode_config_from

    own["chains"] = tuple(x for part in own["chains"] for x in part)
    own["l1_beacon_fallbacks"] = tuple(x for part in own["l1_beacon_fallbacks"] for x in part)
    config = supernode_config_from(own, ctx.args, os.environ)
    setup_logging(config.log)
    log = get_logger("opnode.supernode")
    for notice in config.notices:
        log.info(notice)
    for warning in config.warnings:
        log.warn(warning)
    from opnode.supernode.service import run_supernode

    sys.exit(run_supernode(config))
