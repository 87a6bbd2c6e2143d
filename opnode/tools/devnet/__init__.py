"""``opnode devnet``: a whole OP Stack chain on one machine (anvil L1, embedded engines, sequencer, batcher,
source and light nodes)."""
