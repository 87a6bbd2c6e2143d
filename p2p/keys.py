"""The node's network identity: a secp256k1 key kept in ``--p2p.priv.path`` (rollup-node-p2p.md §Identification).

The file holds the 32-byte key as hex (op-node ``loadNetworkPrivKey``: written without ``0x``, read with or
without it, surrounding whitespace ignored); a missing file is created with a new random key, mode 0600, so the
peer id survives restarts. The network key is separate from the sequencer's block-signing key.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from coincurve import PrivateKey
from libp2p.crypto.keys import KeyPair
from libp2p.crypto.secp256k1 import create_new_key_pair
from libp2p.peer.id import ID


class NodeKeyError(ValueError):
    """The key file cannot be read or holds no valid secp256k1 key."""


def parse_node_key(text: str) -> bytes:
    t = text.strip().removeprefix("0x")
    try:
        key = bytes.fromhex(t)
    except ValueError:
        raise NodeKeyError("p2p priv key is not formatted in hex chars") from None
    if len(key) != 32:
        raise NodeKeyError(f"failed to parse priv key from {len(key)} bytes")
    try:
        PrivateKey(key)
    except ValueError:
        raise NodeKeyError("p2p priv key is not a valid secp256k1 scalar") from None
    return key


def load_or_create_node_key(path: str | os.PathLike) -> bytes:
    p = Path(path)
    try:
        return parse_node_key(p.read_text())
    except FileNotFoundError:
        pass
    except OSError as e:
        raise NodeKeyError(f"failed to read priv key file {p}: {e.strerror}") from None
    key = PrivateKey(secrets.token_bytes(32)).secret
    fd = os.open(p, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key.hex())
    return key


def key_pair(key: bytes) -> KeyPair:
    return create_new_key_pair(key)


def peer_id_of(key: bytes) -> ID:
    return ID.from_pubkey(key_pair(key).public_key)


def peer_id_of_public_key(compressed_pubkey: bytes) -> ID:
    """The libp2p peer id of a secp256k1 public key (33-byte compressed form, as ENRs carry it)."""
    from libp2p.crypto.secp256k1 import Secp256k1PublicKey

    return ID.from_pubkey(Secp256k1PublicKey.from_bytes(compressed_pubkey))
