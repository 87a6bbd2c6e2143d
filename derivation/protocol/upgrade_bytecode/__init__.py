"""Deployment bytecode of the network-upgrade transactions, as hex text (package data read by
:mod:`derivation.protocol.upgrades`).

The ``<fork>-<contract>-deployment.txt`` files are byte-for-byte copies of ``specs/static/bytecode/`` in
ethereum-optimism/specs at fd72cf797df6778fca67177c5335563bc602757c. The two EIP system-contract init codes
(``ecotone-eip4788-…``, ``isthmus-eip2935-…``) are copied from the ``data`` lines of
``specs/protocol/ecotone/derivation.md`` and ``specs/protocol/isthmus/derivation.md`` at the same commit.
"""
