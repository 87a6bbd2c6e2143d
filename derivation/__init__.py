"""Sans-IO OP Stack derivation: types, codecs, stages and the pipeline.

Nothing in this package opens a socket, reads a clock or imports from ``opnode``, ``engine`` or ``p2p``.
"""
