"""opnode: an OP Stack rollup node (source node, light node, replay, devnet)."""

__version__ = "0.1.0"
