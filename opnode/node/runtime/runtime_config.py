"""Runtime configuration read from L1 (op-node ``runcfg.RuntimeConfig``): the unsafe block signer that gossiped
blocks must be signed by, from the SystemConfig contract's storage slot
``keccak256("systemconfig.unsafeblocksigner")`` (system-config.md §Unsafe Block Signer; no −1 offset), read at
start and every ``--l1.runtime-config-reload-interval``.

op-node reads the slot with ``eth_getProof`` and checks the proof unless ``--l1.trustrpc``; opnode reads it with
``eth_getStorageAt`` at the L1 head: the value only authorises gossip (never derivation), and a wrong answer from a
lying L1 RPC can only make the node ignore gossip, which the follow source and derivation correct.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from derivation.protocol.crypto import keccak256
from derivation.protocol.hexutil import from_hex, to_hex

UNSAFE_BLOCK_SIGNER_SLOT = keccak256(b"systemconfig.unsafeblocksigner")


async def unsafe_block_signer(l1_rpc_call: Callable[..., Awaitable[Any]], system_config: bytes) -> bytes | None:
    """The signer address, or None when the slot is empty (then every gossiped block is ignored)."""
    word = from_hex(await l1_rpc_call("eth_getStorageAt", to_hex(system_config), to_hex(UNSAFE_BLOCK_SIGNER_SLOT),
                                      "latest"))
    addr = word[-20:]
    return None if addr == bytes(20) else addr
