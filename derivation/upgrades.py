"""Network-upgrade deposit transactions: the deposits the rollup node itself adds to a fork's activation block.

All are deposits with ``mint = value = 0`` and ``isSystemTx = false``, source hash domain 2 over the intent string,
appended after the user deposits of the activation block in the order Ecotone, Fjord, Isthmus, Jovian, Interop
(specs: ecotone/, fjord/, isthmus/, jovian/derivation.md §Network upgrade automation transactions;
derivation.md §Deriving the Transaction List). A fork active at genesis has no activation block and no upgrade txs.

Jovian intents follow op-node and kona ("Jovian: L1 Block Deployment", ...), which is what OP Mainnet and the other
live chains executed; the April 2026 spec text spells them "L1Block"/"GasPriceOracle", which gives different source
hashes and would fork from every live chain.

Interop (not final, marked so throughout): the set in specs/interop/derivation.md and op-node's
``InteropNetworkUpgradeTransactions`` at the spec's commit: the L2ToL2CrossDomainMessenger deployment and its proxy
update. The CrossL2Inbox pair is deployed only in the first block where the chain's dependency set has at least two
active chains, which depends on data outside the rollup config; it is exposed separately
(:func:`cross_l2_inbox_transactions`) and never returned by :func:`upgrade_txs_for_block`. op-node has changed this
set several times (4, 2 and 7 transactions in different revisions); expect it to change again.

Karst: the spec defines no upgrade transactions for it (only an EL change), so none are generated.

Deployment bytecode comes from :mod:`derivation.upgrade_bytecode` (copies of the specs' ``static/bytecode`` files);
:func:`deployments` exposes each deployment's deployer, init code and created address for the embedded engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

from .crypto import keccak256
from .deposits import upgrade_source_hash
from .predeploys import (
    CROSS_L2_INBOX,
    GAS_PRICE_ORACLE,
    L1_BLOCK,
    L1_INFO_DEPOSITOR,
    L2_TO_L2_CROSS_DOMAIN_MESSENGER,
    OPERATOR_FEE_VAULT,
    create_address,
)
from .rollup_config import Fork, RollupConfig
from .transactions import Transaction, deposit

UPGRADE_FORKS = (Fork.ECOTONE, Fork.FJORD, Fork.ISTHMUS, Fork.JOVIAN, Fork.LAGOON)  # also the in-block order
PROXY_ADMIN_CALLER = bytes(20)  # proxies accept upgradeTo from the zero address (the deposit "from")
PROXY_UPDATE_GAS = 50_000
EIP4788_DEPLOYER = bytes.fromhex("0B799C86a49DEeb90402691F1041aa3AF2d3C875")
EIP2935_DEPLOYER = bytes.fromhex("3462413Af4609098e1E27A490f554f260213D685")


@dataclass(frozen=True, slots=True)
class Deployment:
    """A contract created by an upgrade deposit: ``CREATE`` from ``deployer`` at nonce 0."""

    intent: str
    deployer: bytes
    init_code: bytes
    address: bytes
    gas: int


@dataclass(frozen=True, slots=True)
class UpgradeTx:
    """One upgrade deposit with its intent. ``tx`` is shared by every caller (cached): do not mutate it."""

    intent: str
    tx: Transaction
    deployment: Deployment | None = None


def _bytecode(name: str) -> bytes:
    text = resources.files("derivation.upgrade_bytecode").joinpath(f"{name}.txt").read_text()
    text = "".join(text.split())
    return bytes.fromhex(text[2:] if text.startswith("0x") else text)


def _upgrade_deployer(n: int) -> bytes:
    """The ``0x4210…000n`` deployer accounts of Ecotone…Jovian."""
    return bytes.fromhex("4210") + n.to_bytes(18, "big")


def _interop_deployer(n: int) -> bytes:
    return bytes.fromhex("4220") + n.to_bytes(18, "big")


def _deployment(intent: str, deployer: bytes, gas: int, bytecode: str) -> Deployment:
    return Deployment(intent, deployer, _bytecode(bytecode), create_address(deployer, 0), gas)


def _create(d: Deployment) -> UpgradeTx:
    tx = deposit(upgrade_source_hash(d.intent), d.deployer, None, 0, 0, d.gas, False, d.init_code)
    return UpgradeTx(d.intent, tx, d)


def _tx(intent: str, from_: bytes, to: bytes, gas: int, data: bytes) -> UpgradeTx:
    return UpgradeTx(intent, deposit(upgrade_source_hash(intent), from_, to, 0, 0, gas, False, data))


def selector(signature: str) -> bytes:
    return keccak256(signature.encode())[:4]


def upgrade_to_calldata(implementation: bytes) -> bytes:
    """``upgradeTo(address)`` on an ERC-1967 proxy."""
    return selector("upgradeTo(address)") + bytes(12) + implementation


def _proxy_update(intent: str, proxy: bytes, implementation: Deployment) -> UpgradeTx:
    return _tx(intent, PROXY_ADMIN_CALLER, proxy, PROXY_UPDATE_GAS, upgrade_to_calldata(implementation.address))


def _ecotone() -> tuple[UpgradeTx, ...]:
    l1_block = _deployment("Ecotone: L1 Block Deployment", _upgrade_deployer(0), 375_000,
                           "ecotone-l1-block-deployment")
    gpo = _deployment("Ecotone: Gas Price Oracle Deployment", _upgrade_deployer(1), 1_000_000,
                      "ecotone-gas-price-oracle-deployment")
    beacon_roots = _deployment("Ecotone: beacon block roots contract deployment", EIP4788_DEPLOYER, 250_000,
                               "ecotone-eip4788-beacon-roots-deployment")
    return (
        _create(l1_block),
        _create(gpo),
        _proxy_update("Ecotone: L1 Block Proxy Update", L1_BLOCK, l1_block),
        _proxy_update("Ecotone: Gas Price Oracle Proxy Update", GAS_PRICE_ORACLE, gpo),
        _tx("Ecotone: Gas Price Oracle Set Ecotone", L1_INFO_DEPOSITOR, GAS_PRICE_ORACLE, 80_000,
            selector("setEcotone()")),
        _create(beacon_roots),
    )


def _fjord() -> tuple[UpgradeTx, ...]:
    gpo = _deployment("Fjord: Gas Price Oracle Deployment", _upgrade_deployer(2), 1_450_000,
                      "fjord-gas-price-oracle-deployment")
    return (
        _create(gpo),
        _proxy_update("Fjord: Gas Price Oracle Proxy Update", GAS_PRICE_ORACLE, gpo),
        _tx("Fjord: Gas Price Oracle Set Fjord", L1_INFO_DEPOSITOR, GAS_PRICE_ORACLE, 90_000,
            selector("setFjord()")),
    )


def _isthmus() -> tuple[UpgradeTx, ...]:
    l1_block = _deployment("Isthmus: L1 Block Deployment", _upgrade_deployer(3), 425_000,
                           "isthmus-l1-block-deployment")
    gpo = _deployment("Isthmus: Gas Price Oracle Deployment", _upgrade_deployer(4), 1_625_000,
                      "isthmus-gas-price-oracle-deployment")
    fee_vault = _deployment("Isthmus: Operator Fee Vault Deployment", _upgrade_deployer(5), 500_000,
                            "isthmus-operator-fee-deployment")
    history = _deployment("Isthmus: EIP-2935 Contract Deployment", EIP2935_DEPLOYER, 250_000,
                          "isthmus-eip2935-history-storage-deployment")
    return (
        _create(l1_block),
        _create(gpo),
        _create(fee_vault),
        _proxy_update("Isthmus: L1 Block Proxy Update", L1_BLOCK, l1_block),
        _proxy_update("Isthmus: Gas Price Oracle Proxy Update", GAS_PRICE_ORACLE, gpo),
        _proxy_update("Isthmus: Operator Fee Vault Proxy Update", OPERATOR_FEE_VAULT, fee_vault),
        _tx("Isthmus: Gas Price Oracle Set Isthmus", L1_INFO_DEPOSITOR, GAS_PRICE_ORACLE, 90_000,
            selector("setIsthmus()")),
        _create(history),
    )


def _jovian() -> tuple[UpgradeTx, ...]:
    l1_block = _deployment("Jovian: L1 Block Deployment", _upgrade_deployer(6), 447_315, "jovian-l1-block-deployment")
    gpo = _deployment("Jovian: Gas Price Oracle Deployment", _upgrade_deployer(7), 1_750_714,
                      "jovian-gas-price-oracle-deployment")
    return (
        _create(l1_block),
        _proxy_update("Jovian: L1 Block Proxy Update", L1_BLOCK, l1_block),
        _create(gpo),
        _proxy_update("Jovian: Gas Price Oracle Proxy Update", GAS_PRICE_ORACLE, gpo),
        _tx("Jovian: Gas Price Oracle Set Jovian", L1_INFO_DEPOSITOR, GAS_PRICE_ORACLE, 90_000,
            selector("setJovian()")),
    )


def _interop() -> tuple[UpgradeTx, ...]:
    """NOT FINAL: specs/interop/derivation.md (Apr 2026), "will be updated once a contracts release is made"."""
    messenger = _deployment("Interop: L2ToL2CrossDomainMessenger Deployment", _interop_deployer(1), 1_100_000,
                            "interop-l2-to-l2-cross-domain-messenger-deployment")
    return (
        _create(messenger),
        _proxy_update("Interop: L2ToL2CrossDomainMessenger Proxy Update", L2_TO_L2_CROSS_DOMAIN_MESSENGER, messenger),
    )


_BUILDERS = {Fork.ECOTONE: _ecotone, Fork.FJORD: _fjord, Fork.ISTHMUS: _isthmus, Fork.JOVIAN: _jovian,
             Fork.LAGOON: _interop}


@cache
def upgrade_transactions(fork: Fork) -> tuple[UpgradeTx, ...]:
    """The upgrade deposits of ``fork``'s activation block, in order; empty for forks that have none."""
    build = _BUILDERS.get(Fork(fork))
    return build() if build else ()


@cache
def cross_l2_inbox_transactions() -> tuple[UpgradeTx, ...]:
    """NOT FINAL (Interop): CrossL2Inbox deployment + proxy update, for the first block whose dependency set has
    at least two active chains (specs: interop/derivation.md §CrossL2InboxProxy Initialization)."""
    inbox = _deployment("Interop: CrossL2Inbox Deployment", _interop_deployer(0), 420_000,
                        "interop-cross-l2-inbox-deployment")
    return (_create(inbox), _proxy_update("Interop: CrossL2Inbox Proxy Update", CROSS_L2_INBOX, inbox))


def deployments(fork: Fork) -> tuple[Deployment, ...]:
    """The contracts ``fork``'s upgrade deposits create, in transaction order."""
    return tuple(u.deployment for u in upgrade_transactions(fork) if u.deployment is not None)


def upgrade_txs_for_block(cfg: RollupConfig, l2_timestamp: int) -> list[Transaction]:
    """Upgrade deposits for the L2 block at ``l2_timestamp`` (clock: L2 block time): those of every fork whose
    activation block it is, ordered Ecotone, Fjord, Isthmus, Jovian, Interop."""
    out: list[Transaction] = []
    for fork in UPGRADE_FORKS:
        if cfg.is_activation_block(fork, l2_timestamp):
            out.extend(u.tx for u in upgrade_transactions(fork))
    return out
