"""Network-upgrade deposit transactions: the deposits the rollup node itself adds to a fork's activation block.

All are deposits with source hash domain 2 over an intent string, appended after the user deposits of the
activation block in the order Ecotone, Fjord, Isthmus, Jovian, Karst, Lagoon (specs: ecotone/, fjord/, isthmus/,
jovian/derivation.md §Network upgrade automation transactions; karst/derivation.md; derivation.md §Deriving the
Transaction List; op-node ``PreparePayloadAttributes``, karlfloersch/optimism@b5c39b26 2026-06-03). A fork active at
genesis has no activation block and no upgrade txs.

Ecotone…Jovian: hand-written sets, ``mint = value = 0``, ``isSystemTx = false``. Jovian intents follow op-node and
kona ("Jovian: L1 Block Deployment", ...), which is what OP Mainnet and the other live chains executed; the April
2026 spec text spells them "L1Block"/"GasPriceOracle", which gives different source hashes.

Karst and Lagoon come from NUT bundles (:mod:`derivation.protocol.nut_bundle`): Karst's 31 deposits "Karst {i}: …". Lagoon
(op-node ``LagoonActivationUpgradeTransactions`` and ``interop_wrapper_transactions.go``, index @e104a8b4 and the
newest test file, file index id 71212622460; kona ``hardforks/src/interop.rs``): the bundle "Interop {i}: …"
always; when the chain's interop dependency set holds more than one chain, wrapped between a pre-bundle
``L1Block.setFeature("INTEROP")`` deposit and a post-bundle ``ETHLiquidity.fund()`` deposit minting and sending
2^128−1, both from the L1-info depositor.

Upgrade gas (op-node ``UpgradeGas``/``upgradeGasToStrip`` in upgrade_transaction.go @1ccfcac9 and payload_util.go,
file index id 60882797401): from Karst on, the activation block's gas limit is the system config's plus the
bundle's gas; Lagoon adds the wrappers' 150,000 whatever the dependency set, because the config read back from the
activation header must subtract the same amount without knowing the set. kona at b5c39b26 still added the wrapper
gas only for multi-chain sets; the newer op-node rule is followed (it is the one the release schedules Lagoon with).

Deployment bytecode of Ecotone…Jovian comes from :mod:`derivation.protocol.upgrade_bytecode` (copies of the specs'
``static/bytecode`` files); :func:`deployments` exposes each deployment's deployer, init code and created address
for the embedded engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

from derivation.protocol.crypto import keccak256
from derivation.protocol.deposits import upgrade_source_hash
from derivation.protocol.errors import CriticalError
from derivation.protocol.nut_bundle import NutBundle, nut_bundle
from derivation.protocol.predeploys import (
    ETH_LIQUIDITY,
    GAS_PRICE_ORACLE,
    L1_BLOCK,
    L1_INFO_DEPOSITOR,
    OPERATOR_FEE_VAULT,
    create_address,
)
from derivation.protocol.rollup_config import Fork, RollupConfig
from derivation.protocol.transactions import Transaction, deposit

UPGRADE_FORKS = (Fork.ECOTONE, Fork.FJORD, Fork.ISTHMUS, Fork.JOVIAN, Fork.KARST, Fork.LAGOON)  # in-block order
LAGOON_SET_FEATURE_GAS = 100_000
LAGOON_ETH_LIQUIDITY_FUND_GAS = 50_000
LAGOON_WRAPPER_GAS = LAGOON_SET_FEATURE_GAS + LAGOON_ETH_LIQUIDITY_FUND_GAS
ETH_LIQUIDITY_FUND_AMOUNT = (1 << 128) - 1  # the most a deposit's mint can carry
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
    text = resources.files("derivation.protocol.upgrade_bytecode").joinpath(f"{name}.txt").read_text()
    text = "".join(text.split())
    return bytes.fromhex(text[2:] if text.startswith("0x") else text)


def _upgrade_deployer(n: int) -> bytes:
    """The ``0x4210…000n`` deployer accounts of Ecotone…Jovian."""
    return bytes.fromhex("4210") + n.to_bytes(18, "big")


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


def _karst() -> tuple[UpgradeTx, ...]:
    b = nut_bundle(Fork.KARST)
    return tuple(UpgradeTx(b.qualified_intent(i), tx) for i, tx in enumerate(b.deposits()))


_BUILDERS = {Fork.ECOTONE: _ecotone, Fork.FJORD: _fjord, Fork.ISTHMUS: _isthmus, Fork.JOVIAN: _jovian,
             Fork.KARST: _karst}


@cache
def upgrade_transactions(fork: Fork) -> tuple[UpgradeTx, ...]:
    """The upgrade deposits of ``fork``'s activation block, in order; empty for forks that have none. Lagoon's
    depend on the dependency set and the bundle: :func:`lagoon_transactions`."""
    fork = Fork(fork)
    if fork == Fork.LAGOON:
        raise ValueError("Lagoon's upgrade transactions depend on the dependency set: use lagoon_transactions()")
    build = _BUILDERS.get(fork)
    return build() if build else ()


@cache
def lagoon_wrappers() -> tuple[UpgradeTx, UpgradeTx]:
    """The multi-chain wrappers around Lagoon's bundle: ``setFeature(bytes32("INTEROP"))`` on L1Block before it,
    ``ETHLiquidity.fund()`` with mint = value = 2^128−1 after it."""
    pre = _tx("Interop pre: setFeature(INTEROP)", L1_INFO_DEPOSITOR, L1_BLOCK, LAGOON_SET_FEATURE_GAS,
              selector("setFeature(bytes32)") + b"INTEROP".ljust(32, b"\0"))
    intent = "Interop post: ETHLiquidity Funding"
    post = UpgradeTx(intent, deposit(upgrade_source_hash(intent), L1_INFO_DEPOSITOR, ETH_LIQUIDITY,
                                     ETH_LIQUIDITY_FUND_AMOUNT, ETH_LIQUIDITY_FUND_AMOUNT,
                                     LAGOON_ETH_LIQUIDITY_FUND_GAS, False, selector("fund()")))
    return pre, post


def lagoon_transactions(bundle: NutBundle, multi_chain: bool) -> tuple[UpgradeTx, ...]:
    """Lagoon's activation deposits: the bundle, wrapped when the dependency set holds more than one chain."""
    core = tuple(UpgradeTx(bundle.qualified_intent(i), tx) for i, tx in enumerate(bundle.deposits()))
    if not multi_chain:
        return core
    pre, post = lagoon_wrappers()
    return (pre, *core, post)


def upgrade_gas(fork: Fork, bundle: NutBundle | None = None) -> int:
    """Gas a NUT fork adds to its activation block's gas limit (0 for other forks): the bundle's, plus Lagoon's
    wrappers whether or not they are emitted."""
    if fork == Fork.KARST:
        return (bundle or nut_bundle(Fork.KARST)).total_gas
    if fork == Fork.LAGOON:
        return (bundle or nut_bundle(Fork.LAGOON)).total_gas + LAGOON_WRAPPER_GAS
    return 0


def _bundle_for(cfg: RollupConfig, fork: Fork, l2_timestamp: int) -> NutBundle:
    try:
        return nut_bundle(fork)
    except CriticalError as e:
        raise type(e)(f"{fork.label} activation block at {l2_timestamp}: {e}") from None


def upgrade_gas_for_block(cfg: RollupConfig, l2_timestamp: int) -> int:
    """The gas added to the gas limit of the L2 block at ``l2_timestamp`` (clock: L2 block time)."""
    return sum(upgrade_gas(f, _bundle_for(cfg, f, l2_timestamp)) for f in (Fork.KARST, Fork.LAGOON)
               if cfg.is_activation_block(f, l2_timestamp))


def upgrade_gas_to_strip(cfg: RollupConfig, l2_timestamp: int) -> int:
    """The gas to subtract from the gas limit of the L2 block at ``l2_timestamp`` when its SystemConfig is read
    back (op-node ``upgradeGasToStrip``): every NUT fork's upgrade gas at its activation block, except Karst's
    when ``keep_karst_upgrade_gas`` is set (chains whose history kept it: OP, Unichain; registry d84b53b7)."""
    return sum(upgrade_gas(f, _bundle_for(cfg, f, l2_timestamp)) for f in (Fork.KARST, Fork.LAGOON)
               if cfg.is_activation_block(f, l2_timestamp)
               and not (f == Fork.KARST and cfg.keep_karst_upgrade_gas))


def deployments(fork: Fork) -> tuple[Deployment, ...]:
    """The contracts ``fork``'s hand-written upgrade deposits create, in transaction order."""
    return tuple(u.deployment for u in upgrade_transactions(fork) if u.deployment is not None)


def upgrade_txs_for_block(cfg: RollupConfig, l2_timestamp: int) -> list[Transaction]:
    """Upgrade deposits for the L2 block at ``l2_timestamp`` (clock: L2 block time): those of every fork whose
    activation block it is, ordered Ecotone, Fjord, Isthmus, Jovian, Karst, Lagoon. Lagoon needs the chain's
    dependency set (op-node refuses to start without one when Lagoon is scheduled)."""
    out: list[Transaction] = []
    for fork in UPGRADE_FORKS:
        if not cfg.is_activation_block(fork, l2_timestamp):
            continue
        if fork == Fork.LAGOON:
            if cfg.dependency_set is None:
                raise CriticalError(f"Lagoon activation block at {l2_timestamp}: no interop dependency set is "
                                    "configured (--interop.dependency-set)")
            bundle = _bundle_for(cfg, fork, l2_timestamp)
            out.extend(u.tx for u in lagoon_transactions(bundle, cfg.dependency_set.multi_chain))
        else:
            out.extend(u.tx for u in upgrade_transactions(fork))
    return out
