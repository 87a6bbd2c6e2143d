"""Block gossip (rollup-node-p2p.md): the payload value and its SSZ/snappy wire form (``payload``, ``ssz``,
``wire``), signatures and block hashes (``signing``, ``block_hash``), the validator (``validation``), and the
libp2p service the node runs (``service``, with py-libp2p adjusted in ``compat``, peers from ``config``, ``keys``,
``enr``; RPC functions in ``api``). Depends only on ``derivation``."""
