"""The ``opnode`` command line. Bad input gives a one-line message and exit code 2, never a traceback."""

from __future__ import annotations

import os
import sys

import click

from . import __version__
from .commands.config import config_group


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 120})
@click.version_option(__version__, prog_name="opnode")
def cli():
    """opnode: an OP Stack rollup node in Python."""


cli.add_command(config_group)


def _register_optional_commands() -> None:
    """Commands whose modules may pull heavier dependencies are imported here, still at start-up."""
    from .commands.decode import decode_group

    cli.add_command(decode_group)

    from .commands.engine import engine_command

    cli.add_command(engine_command)

    from .commands.replay import replay_group

    cli.add_command(replay_group)

    from .commands.batcher import batcher_command

    cli.add_command(batcher_command)

    from .commands.node import node_cmd

    cli.add_command(node_cmd)

    from .commands.devnet import devnet_command

    cli.add_command(devnet_command)


def main(argv: list[str] | None = None) -> None:
    _register_optional_commands()
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
    except Exception as e:  # a bug, not bad input: one line unless the user asks for the traceback
        if os.environ.get("OPNODE_DEBUG"):
            raise
        print(f"opnode: internal error: {type(e).__name__}: {e} (set OPNODE_DEBUG=1 for a traceback)", file=sys.stderr)
        sys.exit(1)
    sys.exit(rv if isinstance(rv, int) else 0)
