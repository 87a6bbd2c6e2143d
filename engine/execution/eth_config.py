"""``eth_config`` (EIP-7910): the execution configuration in force at the head, the next scheduled one and the last.

The shape follows go-ethereum's ``BlockChainAPI.Config`` (``internal/ethapi/api.go``, snapshot 02b73d4e, 2026-08):
``{current, next, last}``, each ``{activationTime, blobSchedule, chainId, forkId, precompiles, systemContracts}``
with precompiles as name -> address (geth's contract names), ``activationTime`` 0 for a fork at genesis, and ``last``
null when nothing is scheduled. The OP-specific choices, where no OP client's output was available to compare:

- the forks are the OP execution forks (Regolith … Lagoon), since each one changes what the engine executes;
- ``blobSchedule`` is null: L2 has no blobs (``excessBlobGas`` stays 0);
- ``forkId`` is EIP-2124's CRC-32 over the genesis hash and each distinct fork time after genesis up to the config's
  own activation (``forkid.NewID``), with the OP fork times as the fork list;
- ``systemContracts`` lists the two the engine runs: the EIP-4788 beacon-roots contract from Ecotone and the
  EIP-2935 history contract from Isthmus (OP has no execution-request contracts).
"""

from __future__ import annotations

import zlib

from derivation.protocol.hexutil import quantity, to_hex
from derivation.protocol.predeploys import BEACON_ROOTS, HISTORY_STORAGE
from derivation.protocol.rollup_config import Fork
from engine.execution.chain_spec import EXEC_FORKS, ChainSpec
from engine.execution.evm.forks import rules_for

PRECOMPILE_NAMES = {1: "ECREC", 2: "SHA256", 3: "RIPEMD160", 4: "ID", 5: "MODEXP", 6: "BN254_ADD", 7: "BN254_MUL",
                    8: "BN254_PAIRING", 9: "BLAKE2F", 0x0A: "KZG_POINT_EVALUATION", 0x0B: "BLS12_G1ADD",
                    0x0C: "BLS12_G1MSM", 0x0D: "BLS12_G2ADD", 0x0E: "BLS12_G2MSM", 0x0F: "BLS12_PAIRING_CHECK",
                    0x10: "BLS12_MAP_FP_TO_G1", 0x11: "BLS12_MAP_FP2_TO_G2", 0x100: "P256VERIFY"}


def fork_id(genesis_hash: bytes, genesis_time: int, fork_times: list[int], upto: int) -> bytes:
    checksum = zlib.crc32(genesis_hash)
    for t in sorted({t for t in fork_times if genesis_time < t <= upto}):
        checksum = zlib.crc32(t.to_bytes(8, "big"), checksum)
    return checksum.to_bytes(4, "big")


def _config(spec: ChainSpec, fork: Fork, at: int, genesis_hash: bytes, genesis_time: int) -> dict:
    state = rules_for(fork).state_class
    precompiles = {PRECOMPILE_NAMES[int.from_bytes(a, "big")]: to_hex(a)
                   for a in state.computation_class.get_precompiles()}
    system = {}
    if spec.is_active(Fork.ECOTONE, at):
        system["BEACON_ROOTS_ADDRESS"] = to_hex(BEACON_ROOTS)
    if spec.is_active(Fork.ISTHMUS, at):
        system["HISTORY_STORAGE_ADDRESS"] = to_hex(HISTORY_STORAGE)
    times = [t for t in (spec.activation_time(f) for f in EXEC_FORKS) if t is not None]
    return {"activationTime": 0 if at <= genesis_time else at, "blobSchedule": None,
            "chainId": quantity(spec.chain_id), "forkId": to_hex(fork_id(genesis_hash, genesis_time, times, at)),
            "precompiles": dict(sorted(precompiles.items())), "systemContracts": system}


def eth_config(spec: ChainSpec, genesis_hash: bytes, genesis_time: int, head_time: int) -> dict:
    scheduled = [(t, f) for f in EXEC_FORKS if (t := spec.activation_time(f)) is not None]
    current = [(t, f) for t, f in scheduled if t <= head_time]
    upcoming = [(t, f) for t, f in scheduled if t > head_time]
    cur_t, cur_f = current[-1] if current else (genesis_time, Fork.BEDROCK)
    out = {"current": _config(spec, cur_f, max(cur_t, genesis_time), genesis_hash, genesis_time),
           "next": None, "last": None}
    if upcoming:
        out["next"] = _config(spec, upcoming[0][1], upcoming[0][0], genesis_hash, genesis_time)
        out["last"] = _config(spec, upcoming[-1][1], upcoming[-1][0], genesis_hash, genesis_time)
    return out
