"""The interop predeploys of an interop devnet's genesis: CrossL2Inbox (``0x42…22``) and L2ToL2CrossDomainMessenger
(``0x42…23``), with the implementations live interop chains run.

Source of the code: Lagoon's NUT bundle (``op-core/nuts/bundles/lagoon_nut_bundle.json``, vendored in
``derivation/protocol/nut_bundles`` and checked on load against the sha256 op-node pins in
``op-core/nuts/fork_lock.toml`` [lagoon], ethereum-optimism/optimism@4fc25a93). Its transactions "Deploy CrossL2Inbox
Implementation" and "Deploy L2ToL2CrossDomainMessenger Implementation" call the ConditionalDeployer
``deploy(bytes32 salt, bytes initCode)``, which CREATE2-deploys through the deterministic deployment proxy
``0x4e59…956C``; the bundle's L2ContractsManager (its last deployment; contracts-bedrock ``L2ContractsManager.sol``
1.3.0 ``_apply``) then points the proxies at those addresses with ``upgradeTo`` when the chain's INTEROP feature is
on. A genesis with the interop predeploys gets the same state: the two implementations at their CREATE2 addresses
(deployed at genesis through the same deterministic deployer) and the proxies' EIP-1967 implementation slots set
to them. Each address is checked against the implementation list in the L2ContractsManager's constructor arguments
(a published fingerprint inside the pinned bundle): a mismatch is refused.

The whole Lagoon bundle is not run at genesis: with the INTEROP feature set, its L2ContractsManager reverts
(``L2ContractsManager_FeatureFlagMismatch``) unless the L2DevFeatureFlags predeploy already enables the
OPTIMISM_PORTAL_INTEROP dev feature, which a fresh devnet genesis has no sourced way to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from derivation.protocol.crypto import keccak256
from derivation.protocol.errors import CriticalError
from derivation.protocol.nut_bundle import nut_bundle
from derivation.protocol.predeploys import CROSS_L2_INBOX, DETERMINISTIC_DEPLOYER, L2_TO_L2_CROSS_DOMAIN_MESSENGER
from derivation.protocol.rollup_config import Fork

DEPLOY_SELECTOR = keccak256(b"deploy(bytes32,bytes)")[:4]
INTENTS = {CROSS_L2_INBOX: "Deploy CrossL2Inbox Implementation",
           L2_TO_L2_CROSS_DOMAIN_MESSENGER: "Deploy L2ToL2CrossDomainMessenger Implementation"}
L2CM_INTENT = "Deploy L2ContractsManager Implementation"


class InteropPredeployError(CriticalError):
    """The Lagoon bundle does not give the interop implementations the L2ContractsManager expects."""


@dataclass(frozen=True, slots=True)
class InteropImplementation:
    proxy: bytes
    intent: str
    salt: bytes
    init_code: bytes

    @property
    def address(self) -> bytes:
        """The CREATE2 address through the deterministic deployer (EIP-1014)."""
        return keccak256(b"\xff" + DETERMINISTIC_DEPLOYER + self.salt + keccak256(self.init_code))[12:]


def decode_deploy(data: bytes) -> tuple[bytes, bytes]:
    """``(salt, initCode)`` of a ConditionalDeployer ``deploy(bytes32,bytes)`` call."""
    if data[:4] != DEPLOY_SELECTOR or len(data) < 4 + 96:
        raise InteropPredeployError("a bundle deployment is not a deploy(bytes32,bytes) call")
    salt, offset = data[4:36], int.from_bytes(data[36:68], "big")
    start = 4 + offset
    n = int.from_bytes(data[start:start + 32], "big")
    code = data[start + 32:start + 32 + n]
    if len(code) != n:
        raise InteropPredeployError("a bundle deployment's init code is truncated")
    return salt, code


@cache
def interop_implementations() -> tuple[InteropImplementation, ...]:
    """The two implementations from the pinned Lagoon bundle, each checked against the L2ContractsManager's
    constructor arguments (its implementation list: the last words of its init code)."""
    txs = {t.intent: t for t in nut_bundle(Fork.LAGOON).transactions}
    _, l2cm_code = decode_deploy(txs[L2CM_INTENT].data)
    out = []
    for proxy, intent in INTENTS.items():
        salt, code = decode_deploy(txs[intent].data)
        impl = InteropImplementation(proxy, intent, salt, code)
        if bytes(12) + impl.address not in {l2cm_code[i:i + 32] for i in range(len(l2cm_code) - 32 * 40,
                                                                               len(l2cm_code), 32)}:
            raise InteropPredeployError(f"{intent}: CREATE2 address 0x{impl.address.hex()} is not among the "
                                        "L2ContractsManager's implementations")
        out.append(impl)
    return tuple(out)
