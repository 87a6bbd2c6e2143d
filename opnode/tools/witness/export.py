"""Writing a witness in kona's file-per-key layout (``data/<64-hex key>.bin``, the raw preimage), with what a run
needs besides the preimages: ``rollup.json`` (op-node's shape), ``l1-chain-config.json`` (a geth genesis
``config`` with the blob schedule) and ``inputs.json`` (the program's local inputs, under kona-host's flag names).
"""

from __future__ import annotations

import json
from pathlib import Path

from derivation.protocol.errors import ParseError
from derivation.protocol.hexutil import to_hex
from derivation.protocol.l1_chain_config import L1ChainConfig
from opnode.tools.witness.run import Inputs


class ExportError(ParseError):
    """The export directory cannot be written."""


def l1_chain_config_json(c: L1ChainConfig) -> dict:
    out: dict = {"chainId": c.chain_id, "blobSchedule": {}}
    for f in c.blob_schedule:
        out[f"{f.name}Time"] = f.time
        out["blobSchedule"][f.name] = {"baseFeeUpdateFraction": f.update_fraction}
    return out


def inputs_json(inputs: Inputs) -> dict:
    return {"l1-head": to_hex(inputs.l1_head), "agreed-l2-output-root": to_hex(inputs.agreed_output_root),
            "claimed-l2-output-root": to_hex(inputs.claimed_output_root),
            "claimed-l2-block-number": inputs.claimed_block_number, "l2-chain-id": inputs.cfg.l2_chain_id}


def write_witness(directory: str | Path, preimages: dict[bytes, bytes], inputs: Inputs) -> int:
    """Write ``preimages`` (typed 32-byte keys) and the configs; returns how many preimages were written."""
    d = Path(directory)
    data = d / "data"
    try:
        data.mkdir(parents=True, exist_ok=True)
        for key, value in preimages.items():
            (data / f"{key.hex()}.bin").write_bytes(value)
        (d / "rollup.json").write_text(json.dumps(inputs.cfg.to_json(), indent=2) + "\n")
        (d / "l1-chain-config.json").write_text(json.dumps(l1_chain_config_json(inputs.l1_chain), indent=2) + "\n")
        (d / "inputs.json").write_text(json.dumps(inputs_json(inputs), indent=2) + "\n")
    except OSError as e:
        raise ExportError(f"cannot write the witness to {d}: {e.strerror or e}") from None
    return len(preimages)
