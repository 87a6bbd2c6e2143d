"""``opnode decode``: debugging decoders for everything derivation reads, with stable JSON output."""

import click

from opnode.commands import decode_batcher, decode_l2


@click.group("decode")
def decode_group():
    """Decode batcher transactions, frames, channels, L1-info deposits, L2 transactions, deposit logs and
    upgrade transactions into JSON."""


for _cmd in (*decode_batcher.COMMANDS, *decode_l2.COMMANDS):
    decode_group.add_command(_cmd)
