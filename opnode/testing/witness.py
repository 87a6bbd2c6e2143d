"""The real Granite OP Sepolia fault-proof witness shipped in spec-vectors/witness/ (kona-host's store for block
16491249, with its parameters): for the witness tests and ``make bench``."""

from __future__ import annotations

import json
from pathlib import Path

from derivation.protocol.hexutil import from_hex
from derivation.protocol.l1_chain_config import l1_chain_config
from opnode.node.networks import load_rollup_config
from opnode.tools.witness.run import Inputs

WITNESS = Path(__file__).resolve().parents[2] / "spec-vectors" / "witness"
ARCHIVE = WITNESS / "granite-op-sepolia-16491249-witness.tar.zst"
PARAMS = json.loads((WITNESS / "granite-op-sepolia-16491249.json").read_text())


def inputs(claimed: str | None = None) -> Inputs:
    """The run's inputs as kona's CI states them (optionally with another claim)."""
    cfg = load_rollup_config(PARAMS["network"])
    return Inputs(from_hex(PARAMS["l1_head"]), from_hex(PARAMS["agreed_l2_output_root"]),
                  from_hex(claimed or PARAMS["claimed_l2_output_root"]), PARAMS["claimed_l2_block_number"], cfg,
                  l1_chain_config(cfg.l1_chain_id))
