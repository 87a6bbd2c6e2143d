"""Programs around the node, which the node never imports: replay and fault-proof witnesses (``replay``,
``witness``), the devnet batcher (``batcher``), the devnet (``devnet``), the L1 contracts it deploys
(``l1contracts``), anvil, the beacon shim and L1 traffic for devnets and tests.
"""
