"""The ``opnode`` command line. Bad input gives a one-line message and exit code 2, never a traceback."""

from __future__ import annotations

import os
import sys

import click

from opnode import __version__
from opnode.commands.config import config_group
from opnode.extras import missing_extra


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 120})
@click.version_option(__version__, prog_name="opnode")
def cli():
    """opnode: an OP Stack rollup node in Python. `opnode --l1 … --l2 …` (op-node's root flags, no command) runs
    `opnode node`."""


cli.add_command(config_group)


def _register_optional_commands() -> None:
    """Commands whose modules may pull heavier dependencies are imported here, still at start-up."""
    from opnode.commands.decode import decode_group

    cli.add_command(decode_group)

    from opnode.commands.engine import engine_command

    cli.add_command(engine_command)

    from opnode.commands.replay import replay_group

    cli.add_command(replay_group)

    from opnode.commands.batcher import batcher_command

    cli.add_command(batcher_command)

    from opnode.commands.node import node_cmd

    cli.add_command(node_cmd)

    from opnode.commands.supernode import supernode_command

    cli.add_command(supernode_command)

    from opnode.commands.devnet import devnet_command

    cli.add_command(devnet_command)

    from opnode.commands.doc import doc_group
    from opnode.commands.p2p import p2p_group

    cli.add_command(doc_group)
    cli.add_command(p2p_group)


def describe_crash(e: BaseException) -> list[str]:
    """One line per underlying error: exception groups (trio nurseries wrap a crash in one or more) are opened down
    to their leaves, and each line says where the error was raised (file:line in function)."""
    if isinstance(e, BaseExceptionGroup):
        return [line for sub in e.exceptions for line in describe_crash(sub)]
    where = ""
    tb = e.__traceback__
    if tb is not None:
        while tb.tb_next is not None:
            tb = tb.tb_next
        code = tb.tb_frame.f_code
        where = f" (at {_short_path(code.co_filename)}:{tb.tb_lineno} in {code.co_name})"
    return [f"{type(e).__name__}: {e}{where}"]


def _short_path(path: str) -> str:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return os.path.relpath(path, root) if path.startswith(root) else path


def route(argv: list[str]) -> list[str]:
    """op-node has no subcommand for the node: ``opnode --l1=… --l2=…`` (flags first) runs ``opnode node`` as
    ``op-node --l1=… --l2=…`` does, and so does a bare ``opnode`` configured only by ``OP_NODE_*`` variables (an
    env file in a container)."""
    if argv and argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version"):
        return ["node", *argv]
    if not argv and any(k.startswith("OP_NODE_") for k in os.environ):
        return ["node"]
    return argv


def main(argv: list[str] | None = None) -> None:
    _register_optional_commands()
    argv = route(sys.argv[1:] if argv is None else list(argv))
    try:
        rv = cli.main(args=argv, prog_name="opnode", standalone_mode=False)
    except click.UsageError as e:
        msg = e.format_message().replace("\n", " ")
        print(f"opnode: error: {msg}", file=sys.stderr)
        sys.exit(2)
    except click.ClickException as e:
        print(f"opnode: error: {e.format_message()}", file=sys.stderr)
        sys.exit(e.exit_code)
    except click.Abort:
        print("opnode: aborted", file=sys.stderr)
        sys.exit(130)
    except KeyboardInterrupt:
        sys.exit(130)
    except ModuleNotFoundError as e:
        msg = missing_extra(e)
        if msg is None or os.environ.get("OPNODE_DEBUG"):
            raise
        print(f"opnode: error: {msg}", file=sys.stderr)
        sys.exit(1)
    except Exception as e:  # a bug, not bad input: the real error(s) and where, the traceback on request
        if os.environ.get("OPNODE_DEBUG"):
            raise
        for line in describe_crash(e):
            print(f"opnode: internal error: {line}", file=sys.stderr)
        print("opnode: set OPNODE_DEBUG=1 for the whole traceback", file=sys.stderr)
        sys.exit(1)
    sys.exit(rv if isinstance(rv, int) else 0)
