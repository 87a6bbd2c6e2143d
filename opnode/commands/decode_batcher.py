"""Decoders for the L1 batcher side: batcher transactions, frames and channels."""

COMMANDS = []
