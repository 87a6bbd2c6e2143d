"""Sans-IO OP Stack derivation: the pipeline (``pipeline``), one module per stage (``stages``), the providers it pulls
L1 and L2 data through (``providers``), the events it reports (``events``) and sync start (``sync_start``), over the
protocol layer (``derivation.protocol``: primitives and codecs every other package shares).

Nothing in this package opens a socket, reads a clock or imports from ``opnode``, ``engine`` or ``p2p``.
"""
