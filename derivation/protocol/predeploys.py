"""Fixed L2 addresses the derivation rules and the execution engine name (specs: protocol/predeploys.md, deposits.md, isthmus/predeploys.md,
interop/predeploys.md) and the CREATE address rule used to predict upgrade deployments."""

from derivation.protocol import rlp
from derivation.protocol.crypto import keccak256


def _a(hex_address: str) -> bytes:
    return bytes.fromhex(hex_address[2:])


L1_INFO_DEPOSITOR = _a("0xDeaDDEaDDeAdDeAdDEAdDEaddeAddEAdDEAd0001")
L1_BLOCK = _a("0x4200000000000000000000000000000000000015")
GAS_PRICE_ORACLE = _a("0x420000000000000000000000000000000000000F")
SEQUENCER_FEE_VAULT = _a("0x4200000000000000000000000000000000000011")
BASE_FEE_VAULT = _a("0x4200000000000000000000000000000000000019")
L1_FEE_VAULT = _a("0x420000000000000000000000000000000000001A")
L2_TO_L1_MESSAGE_PASSER = _a("0x4200000000000000000000000000000000000016")
OPERATOR_FEE_VAULT = _a("0x420000000000000000000000000000000000001B")
CROSS_L2_INBOX = _a("0x4200000000000000000000000000000000000022")
L2_TO_L2_CROSS_DOMAIN_MESSENGER = _a("0x4200000000000000000000000000000000000023")
ETH_LIQUIDITY = _a("0x4200000000000000000000000000000000000025")
L2_PROXY_ADMIN = _a("0x4200000000000000000000000000000000000018")
BEACON_ROOTS = _a("0x000F3df6D732807Ef1319fB7B8bB8522d0Beac02")  # EIP-4788
HISTORY_STORAGE = _a("0x0000F90827F1C53a10cb7A02335B175320002935")  # EIP-2935
# preinstall: Arachnid's deterministic deployment proxy (CREATE2 at a fixed address on every chain)
DETERMINISTIC_DEPLOYER = _a("0x4e59b44847b379578588920cA78FbF26c0B4956C")


def create_address(sender: bytes, nonce: int) -> bytes:
    """The address a CREATE from ``sender`` at ``nonce`` deploys to: ``keccak256(rlp([sender, nonce]))[12:]``."""
    return keccak256(rlp.encode([bytes(sender), nonce]))[12:]
