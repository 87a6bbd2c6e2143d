"""``opnode p2p genkey|priv2id|pub2id``: op-node's p2p key helpers (op-node/cmd/p2p/cmd.go). Keys are hex on
stdin (``0x`` optional, surrounding whitespace ignored); a key that does not parse is a one-line error, exit 2."""

from __future__ import annotations

import secrets
import sys

import click


def _read_hex() -> bytes:
    text = sys.stdin.read().strip().removeprefix("0x")
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise click.UsageError("p2p key is not formatted in hex chars") from None


@click.group("p2p")
def p2p_group():
    """P2P key helpers, as op-node's `p2p` subcommands."""


@p2p_group.command("genkey")
def genkey():
    """Generates a private key."""
    from coincurve import PrivateKey

    click.echo(PrivateKey(secrets.token_bytes(32)).secret.hex())


@p2p_group.command("priv2id")
def priv2id():
    """Reads a private key from STDIN, and returns a peer ID."""
    from p2p.keys import NodeKeyError, parse_node_key, peer_id_of

    try:
        key = parse_node_key(_read_hex().hex())
    except NodeKeyError as e:
        raise click.UsageError(str(e)) from None
    click.echo(peer_id_of(key).pretty())


@p2p_group.command("pub2id")
def pub2id():
    """Reads a public key from STDIN (33-byte compressed or 65-byte uncompressed secp256k1), and returns a peer ID."""
    from coincurve import PublicKey

    from p2p.keys import peer_id_of_public_key

    raw = _read_hex()
    try:
        compressed = PublicKey(raw).format(compressed=True)
    except ValueError:
        raise click.UsageError(f"failed to parse pub key from {len(raw)} bytes") from None
    click.echo(peer_id_of_public_key(compressed).pretty())
