"""OP Stack protocol primitives and codecs, pure and shared by every package: RLP, hex/JSON helpers, hashing and
signatures, block refs, the rollup config and fork schedule, transactions (deposits and Lagoon's post-exec type),
L1-info and user deposits, system config updates, frames, channels, compression, singular and span batches, blobs
and KZG, tries and output roots, predeploys, network-upgrade transactions and NUT bundles, payload attributes.

Models: kona ``crates/protocol/protocol`` (primitives apart from the pipeline) and op-node ``rollup/derive`` types.
"""
