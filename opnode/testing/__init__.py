"""What tests, benchmarks and tools share to build chains without a network: the in-memory chain harness
(``harness``), transaction generators (``txgen``), a dev engine chain (``engine``), runtime helpers (``runtime``) and
a counting L1 proxy (``l1_proxy``). Production code never imports it.
"""
