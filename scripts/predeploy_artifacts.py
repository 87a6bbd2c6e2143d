"""Add predeploy bytecode from ``@eth-optimism/contracts-bedrock@0.17.3`` to engine/predeploy_data/contracts.json.

Usage (the tarball is the registry's, checked against its published integrity)::

    npm pack @eth-optimism/contracts-bedrock@0.17.3 && tar xzf eth-optimism-contracts-bedrock-0.17.3.tgz
    python scripts/predeploy_artifacts.py package

Copies each contract's creation and runtime code verbatim from ``forge-artifacts/<C>.sol/<C>.json``, and the
deterministic deployment proxy's runtime code from ``src/libraries/Preinstalls.sol``
(``DeterministicDeploymentProxyCode``), refusing it unless its keccak is the code hash published for
0x4e59b44847b379578588920cA78FbF26c0B4956C on every chain it exists on (0x2fa86add…4989).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from derivation.protocol.crypto import keccak256

PACKAGE = "npm:@eth-optimism/contracts-bedrock@0.17.3"
INTEGRITY = "sha512-cHPO7ntWeOBDLO7ZFFSZGI1D7CDqf4loRbRVJrFIsqLEz+hysWIqA0e3dv2GnrjVeuYePBfI2NTBEG4uwz9bQQ=="
CONTRACTS = ("L2CrossDomainMessenger", "L2StandardBridge", "L2ERC721Bridge", "OptimismMintableERC20Factory",
             "OptimismMintableERC721Factory", "ProxyAdmin")
DDP_CODE_HASH = "2fa86add0aed31f33a762c9d88e807c475bd51d0f52bd0955754b2608f7e4989"
OUT = Path(__file__).resolve().parent.parent / "engine" / "predeploy_data" / "contracts.json"


def main(package: Path) -> None:
    data = json.loads(OUT.read_text())
    for name in CONTRACTS:
        art = json.loads((package / "forge-artifacts" / f"{name}.sol" / f"{name}.json").read_text())
        ctor = [x for x in art["abi"] if x["type"] == "constructor"]
        entry = {"kind": "creation", "runtime_code": art["deployedBytecode"]["object"],
                 "creation_code": art["bytecode"]["object"],
                 "provenance": [{"repo": PACKAGE, "path": f"forge-artifacts/{name}.sol/{name}.json", "commit": "0.17.3",
                                 "integrity": INTEGRITY,
                                 "proves": f"{name} compiled by Optimism "
                                           f"(solc {art['metadata']['compiler']['version']})"}]}
        if ctor:
            entry["constructor"] = ctor[0]["inputs"]
        data["contracts"][name] = entry
    src = (package / "src" / "libraries" / "Preinstalls.sol").read_text()
    code = re.search(r'DeterministicDeploymentProxyCode\s*=\s*hex"([0-9a-f]+)"', src).group(1)
    if keccak256(bytes.fromhex(code)).hex() != DDP_CODE_HASH:
        raise SystemExit("DeterministicDeploymentProxyCode does not match the published code hash")
    data["contracts"]["DeterministicDeploymentProxy"] = {
        "kind": "runtime", "runtime_code": "0x" + code, "code_hash": "0x" + DDP_CODE_HASH,
        "provenance": [{"repo": PACKAGE, "path": "src/libraries/Preinstalls.sol", "commit": "0.17.3",
                        "integrity": INTEGRITY,
                        "proves": "OP genesis preinstall at 0x4e59b44847b379578588920cA78FbF26c0B4956C "
                                  "(Arachnid deterministic-deployment-proxy); code hash 0x2fa86add…4989 as on every "
                                  "chain that has it"}]}
    OUT.write_text(json.dumps(data, indent=1) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
