"""The optional parts of the package and the extra that brings each (pyproject.toml ``[project.optional-dependencies]``).

A base install (``pip install opnode-*.whl``) runs the source node and the light node. The embedded execution
engine, the devnet, the batcher and the offline fault-proof tools need ``opnode[devnet]``; block gossip needs
``opnode[p2p]``. Their modules are imported only where used; a missing one is reported by :func:`missing_extra` as
one line naming the extra, never as a traceback.
"""

from __future__ import annotations

# top-level module -> the extra that installs it
EXTRA_OF_MODULE = {
    "eth": "devnet",  # py-evm
    "trie": "devnet",
    "eth_account": "devnet",
    "eth_abi": "devnet",
    "eth_keys": "devnet",
    "eth_utils": "devnet",
    "rlp": "devnet",
    "rocksdict": "devnet",
    "zstandard": "devnet",
    "libp2p": "p2p",
    "multiaddr": "p2p",
    "cramjam": "p2p",
}


def missing_extra(e: BaseException) -> str | None:
    """The one-line message for an import that failed because an extra is not installed (None: another error)."""
    if not isinstance(e, ModuleNotFoundError) or not e.name:
        return None
    extra = EXTRA_OF_MODULE.get(e.name.split(".")[0])
    if extra is None:
        return None
    return (f"this needs the opnode[{extra}] extra (module {e.name!r} is not installed): "
            f"pip install 'opnode[{extra}]'")
