"""The node's side of the Engine API: the client (``client``), the engine controller that owns the L2 heads
(``controller``, with ``consolidation`` and ``finality``), and the JWT both ends share (``jwt``).

The embedded execution client lives in :mod:`engine.execution`; the node reaches it only over the Engine API and eth
JSON-RPC, never by import (tests/test_architecture.py checks it).
"""
