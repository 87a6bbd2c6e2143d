"""In-memory L1 and L2 chains for derivation tests: a test says what the sequencer built, what the batcher posted
(and how it misbehaved), what changed on L1, and checks what a verifier derives from L1 alone."""

from opnode.testing.harness.world import World, test_config  # noqa: F401
