"""The P2P service's own error (served as a JSON-RPC error by :mod:`p2p.api`)."""


class P2PError(Exception):
    """A p2p request that cannot be served (not running, no sequencer key, bad peer id or address)."""
