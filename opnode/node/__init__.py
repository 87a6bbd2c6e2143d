"""The rollup node itself: configuration and flags (``config``, ``flags``, ``networks``), the L1 and beacon clients
(``l1``), the runtime (``runtime``: driver, follow source, sequencer, the node's nursery), its RPC server (``rpc``),
metrics, logs, the safe-head DB and sync status. Never imports :mod:`opnode.tools` or :mod:`engine.execution`.
"""
