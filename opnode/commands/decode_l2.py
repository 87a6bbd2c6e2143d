"""Decoders for the L2 side: L1-info deposits, L2 transactions, deposit logs and upgrade transactions."""

COMMANDS = []
