"""Offline fault-proof runs over preimage stores (``opnode replay witness`` and ``opnode replay fixture``).

- :mod:`.keys`: preimage key types and the two blob field-element key layouts.
- :mod:`.stores`: the stores hosts leave on disk (kona files and RocksDB, op-program file/directory, archives).
- :mod:`.oracle`: reads checked against their keys; what was read is kept (the witness an export writes).
- :mod:`.mpt`: ordered tries (transactions, receipts) read node by node.
- :mod:`.l1`, :mod:`.l2`: the derivation pipeline's providers over the oracle.
- :mod:`.run`: the fault-proof run (derive, execute with :mod:`engine.execution.stateless`, compare the output root).
- :mod:`.render`: the explanation and verdict, text and JSON.
- :mod:`.fixture`: kona's executor test fixtures.
- :mod:`.export`: writing a witness in kona's file-per-key layout.
"""
