"""What the ``opnode replay`` commands share: reading a recording, the console they print to and the JSON they
write. Bad input is an :class:`InputError` (one line, exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

import click


class InputError(click.ClickException):
    """Bad input: one line, exit code 2."""

    exit_code = 2


def load_recording(path: str):
    """The recording at ``path``; a corrupt or unreadable one is an :class:`InputError`."""
    from opnode.tools.replay import format as fmt

    try:
        return fmt.read(path)
    except fmt.CorruptRecording as e:
        raise InputError(f"{path} is corrupt, not replayed: {e}") from None
    except fmt.RecordingError as e:
        raise InputError(str(e)) from None


def chain_configs(network: str | None, rollup_config: str | None, l1_chain_config: str | None):
    """The rollup config (a bundled network, or a rollup.json file) and the L1's chain config (a file, or the one
    built in for the rollup's L1); a bad one is a usage error (one line, exit 2)."""
    from derivation.protocol.errors import DerivationError
    from derivation.protocol.l1_chain_config import L1ChainConfig
    from derivation.protocol.l1_chain_config import l1_chain_config as builtin_l1_chain
    from opnode.node.networks import ConfigError, load_rollup_config

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
    return cfg, l1_chain


def console(stderr: bool = False):
    """A rich console for the replay's tables."""
    from rich.console import Console

    out = Console(highlight=False, soft_wrap=True, stderr=stderr)
    if not out.is_terminal:  # pipes and files: tables at a width that fits hashes, not 80 columns
        out.width = 160
    return out


def write_json(doc: dict, out: str) -> None:
    text = json.dumps(doc, indent=2)
    if out == "-":
        click.echo(text)
        return
    try:
        Path(out).write_text(text + "\n")
    except OSError as e:
        raise InputError(f"cannot write {out}: {e.strerror}") from None
