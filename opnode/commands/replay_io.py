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
