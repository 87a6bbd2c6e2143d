"""The files that make a devnet chain consistent: the engine genesis (op-geth format), the matching rollup.json,
the L1 chain config (anvil's blob schedule) and the Engine API JWT secret."""

from __future__ import annotations

import dataclasses
import json
import secrets
from dataclasses import dataclass
from pathlib import Path

from derivation.protocol.rollup_config import Fork, RollupConfig
from derivation.protocol.types import BlockID
from engine.execution.chain import Chain
from engine.execution.op_genesis import build_op_genesis, rollup_config_for

# anvil runs the latest L1 hardfork: Cancun and Prague blob parameters from genesis (EIP-7691's fraction).
ANVIL_L1_CONFIG = {"cancunTime": 0, "pragueTime": 0,
                   "blobSchedule": {"cancun": {"target": 3, "max": 6, "baseFeeUpdateFraction": 3338477},
                                    "prague": {"target": 6, "max": 9, "baseFeeUpdateFraction": 5007716}}}


@dataclass(frozen=True)
class ChainFiles:
    genesis: Path
    rollup: Path
    l1_chain_config: Path
    jwt: Path
    rollup_config: RollupConfig


def write_chain_files(out: Path, *, l1_chain_id: int, l1_genesis: BlockID, genesis_time: int,
                      fork_offsets: dict[Fork, int], batcher: bytes, deposit_contract: bytes,
                      system_config: bytes, funded: dict[bytes, int], l2_chain_id: int = 901,
                      block_time: int = 2, seq_window_size: int = 3600, channel_timeout: int = 300,
                      gas_limit: int = 60_000_000, interop_predeploys: bool = False) -> ChainFiles:
    """Build the L2 genesis (forks at ``genesis_time + offset``; ``interop_predeploys``: CrossL2Inbox and
    L2ToL2CrossDomainMessenger in it) and write every file into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    times = {f: genesis_time + o for f, o in fork_offsets.items()}
    g = build_op_genesis(l2_chain_id, genesis_time, times, funded=funded, gas_limit=gas_limit,
                         interop_predeploys=interop_predeploys)
    genesis_hash = Chain(g).head.hash
    cfg = rollup_config_for(g, genesis_hash, l1_genesis=l1_genesis, l1_chain_id=l1_chain_id, batcher=batcher,
                            deposit_contract=deposit_contract, system_config_address=system_config,
                            block_time=block_time)
    cfg = dataclasses.replace(cfg, seq_window_size=seq_window_size, channel_timeout=channel_timeout)
    files = ChainFiles(out / "genesis.json", out / "rollup.json", out / "l1-chain-config.json", out / "jwt.txt", cfg)
    files.genesis.write_text(json.dumps(g.to_json(), indent=1))
    files.rollup.write_text(json.dumps(cfg.to_json(), indent=2))
    files.l1_chain_config.write_text(json.dumps({"chainId": l1_chain_id, **ANVIL_L1_CONFIG}, indent=2))
    if not files.jwt.exists():
        files.jwt.write_text("0x" + secrets.token_hex(32))
    return files
