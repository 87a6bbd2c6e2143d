"""The built-in OP genesis builder (op-chain-ops ``L2Genesis``), writing :mod:`engine.execution.genesis` values.

:func:`build_op_genesis` makes the state an OP Stack chain has at genesis when its forks up to some fork are active
there: the predeploy Proxy at each proxied predeploy that the Karst L2ContractsManager upgrades (admin ProxyAdmin
``0x42…18``, as op-chain-ops ``L2Genesis.setPredeployProxies`` does for the whole namespace), real implementations
behind them (L2ToL1MessagePasser, the fee vaults, L2CrossDomainMessenger, L2StandardBridge, L2ERC721Bridge, both
OptimismMintable factories and ProxyAdmin from Optimism's published contracts-bedrock 0.17.3 artifacts, initialised
as ``L2Genesis`` does; L1Block and GasPriceOracle from the Ecotone upgrade deployment), then the network-upgrade
deposits of every fork active at genesis, executed in order (Ecotone, Fjord, Isthmus, Jovian), exactly as a chain
that went through those upgrades has them; the create2deployer from Canyon; and the deterministic deployment proxy
preinstall at ``0x4e59…956C`` (``L2Genesis.setPreinstalls``, nonce 1), which the Karst NUT bundle deploys through.

What the Karst bundle needs from the state (found by executing it): Proxy code at the ConditionalDeployer
``0x42…2C`` (its upgrade and the 26 CREATE2 deployments go through it) and at every predeploy the L2ContractsManager
upgrades (0x07, 0x10, 0x12, 0x14, 0x17, 0x20, 0x21, 0x2D besides the older ones), and implementations answering the
getters it reads before upgrading (``OTHER_MESSENGER``, ``OTHER_BRIDGE``, ``BRIDGE``, ``REMOTE_CHAIN_ID``, the fee
vaults' ``RECIPIENT``/``MIN_WITHDRAWAL_AMOUNT``, ``L1Block.isCustomGasToken``); without them the L2CM delegatecall
reverts (``L2ProxyAdmin__UpgradeFailed``). The L1 addresses those contracts point at are development placeholders
derived from the chain id: the devnet L1 has no messenger or bridges. The resulting alloc is plain data: it is
written to and read from ``genesis.json`` like op-geth's, and :func:`rollup_config_for` gives the matching op-node
``rollup.json``.
"""

from __future__ import annotations

from eth.db.atomic import AtomicDB

from derivation.protocol import upgrades
from derivation.protocol.crypto import keccak256
from derivation.protocol.predeploys import DETERMINISTIC_DEPLOYER, L2_PROXY_ADMIN
from derivation.protocol.rollup_config import ChainOpConfig, Fork, RollupConfig
from derivation.protocol.rollup_config import Genesis as RollupGenesis
from derivation.protocol.system_config import SystemConfig
from derivation.protocol.types import BlockID
from engine.execution.chain_spec import EXEC_FORKS, ChainSpec
from engine.execution.evm.base_fee import encode_extra_data
from engine.execution.evm.block import CREATE2_DEPLOYER
from engine.execution.evm.executor import BlockEnv, BlockExecutor
from engine.execution.genesis import Account, Genesis, artifact_code

IMPLEMENTATION_SLOT = int("360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc", 16)
ADMIN_SLOT = int("b53127684a568b3173ae13b9f8a6016e243e63b6e8ee1178d6a717850b5d6103", 16)
DEV_MNEMONIC = "test test test test test test test test test test test junk"
DEV_CHAIN_ID = 901
DEV_L1_CHAIN_ID = 900


# Predeploys behind a Proxy at genesis: address suffix -> whether an implementation is set at genesis (else proxy
# only, filled by an upgrade). The list is contracts-bedrock's Predeploys (getUpgradeablePredeploys plus the legacy
# LegacyMessagePasser, DeployerWhitelist and L1BlockNumber), okx/optimism main 7573e762 (2026-06-30).
_PROXIED = {0x00: False, 0x02: False, 0x07: True, 0x0F: True, 0x10: True, 0x11: True, 0x12: True, 0x13: False,
            0x14: True, 0x15: True, 0x16: True, 0x17: True, 0x18: True, 0x19: True, 0x1A: True, 0x1B: False,
            0x20: False, 0x21: False, 0x22: False, 0x23: False, 0x24: False, 0x25: False, 0x29: False, 0x2A: False,
            0x2C: False, 0x2D: False}


def _predeploy(n: int) -> bytes:
    return bytes.fromhex("42" + "00" * 17) + n.to_bytes(2, "big")


def _impl_address(n: int) -> bytes:
    return bytes.fromhex("c0d3c0d3c0d3c0d3c0d3c0d3c0d3c0d3c0d3") + n.to_bytes(2, "big")


class _RecordingState:
    """Remembers every account and storage slot a py-evm state writes, so the result can be exported as alloc."""

    def __init__(self, state):
        self.accounts: set[bytes] = set()
        self.slots: set[tuple[bytes, int]] = set()
        for name in ("set_balance", "set_nonce", "set_code", "increment_nonce", "delete_account"):
            orig = getattr(state, name)
            setattr(state, name, self._wrap_account(orig))
        orig_storage = state.set_storage

        def set_storage(address, slot, value):
            self.accounts.add(bytes(address))
            self.slots.add((bytes(address), slot))
            return orig_storage(address, slot, value)

        state.set_storage = set_storage

    def _wrap_account(self, orig):
        def wrapped(address, *args):
            self.accounts.add(bytes(address))
            return orig(address, *args)

        return wrapped


def dev_keys(n: int = 10) -> list[bytes]:
    """The well-known development mnemonic's first ``n`` keys (m/44'/60'/0'/0/i): for local chains only."""
    from eth_account import Account as EthAccount

    EthAccount.enable_unaudited_hdwallet_features()
    return [bytes(EthAccount.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}").key) for i in range(n)]


def build_op_genesis(chain_id: int, timestamp: int, fork_times: dict[Fork, int], *, gas_limit: int = 60_000_000,
                     funded: dict[bytes, int] | None = None, fee_vault_recipient: bytes | None = None,
                     min_base_fee: int = 0, eip1559: ChainOpConfig = ChainOpConfig(),
                     base_fee: int | None = None, l1_chain_id: int = DEV_L1_CHAIN_ID,
                     proxy_admin_owner: bytes | None = None, interop_predeploys: bool = False) -> Genesis:
    """An OP Stack genesis with every fork whose time is ``<= timestamp`` active at genesis (see module doc);
    ``interop_predeploys``: CrossL2Inbox and L2ToL2CrossDomainMessenger behind their proxies
    (:mod:`engine.execution.interop_predeploys`)."""
    spec = ChainSpec(chain_id, dict(fork_times), eip1559.eip1559_elasticity, eip1559.eip1559_denominator,
                     eip1559.eip1559_denominator_canyon)
    chain = chain_id.to_bytes(32, "big")
    owner = proxy_admin_owner or keccak256(b"opnode dev proxy admin owner" + chain)[12:]
    alloc = _proxied_alloc(owner)
    db = AtomicDB()
    root = Genesis(spec, timestamp, gas_limit, alloc).write_state(db)
    env = BlockEnv(number=0, timestamp=timestamp, coinbase=bytes(20), gas_limit=2**63, base_fee=0,
                   prev_randao=bytes(32), chain_id=chain_id)
    ex = BlockExecutor(spec, db, root, env)
    rec = _RecordingState(ex.state)
    state = ex.state
    _deploy_implementations(_SystemMessages(ex), fee_vault_recipient or bytes(20), l1_chain_id, owner, chain)
    if interop_predeploys:
        _install_interop_predeploys(_SystemMessages(ex))
    for fork in upgrades.UPGRADE_FORKS:
        if fork == Fork.LAGOON or not spec.is_active(fork, timestamp):
            continue
        for u in upgrades.upgrade_transactions(fork):
            res = ex.apply(u.tx)
            if res.receipt.status != 1:
                raise RuntimeError(f"genesis upgrade transaction {u.intent!r} failed: {res.error}")
    if spec.is_active(Fork.CANYON, timestamp):
        state.set_code(CREATE2_DEPLOYER, artifact_code("Create2Deployer"))
        rec.accounts.add(CREATE2_DEPLOYER)
    state.lock_changes()
    _read_back(state, rec, alloc)
    keys: list[bytes] = []
    if funded is None:
        from derivation.protocol.crypto import address_from_private_key

        keys = dev_keys()
        funded = {address_from_private_key(k): 10**24 for k in keys}
    for addr, bal in funded.items():
        alloc.setdefault(addr, Account()).balance += bal
    extra = b""
    if spec.is_active(Fork.HOLOCENE, timestamp):
        extra = encode_extra_data(spec.eip1559_denominator_canyon, spec.eip1559_elasticity,
                                  min_base_fee if spec.is_active(Fork.JOVIAN, timestamp) else None)
    return Genesis(spec, timestamp, gas_limit, alloc, extra_data=extra, base_fee=base_fee, dev_keys=keys)


def _proxied_alloc(owner: bytes) -> dict[bytes, Account]:
    """The accounts before any code runs: the precompile range with 1 wei (as op-chain-ops, so it is never empty),
    the Proxy at each proxied predeploy, the message passer, the deterministic deployer, ProxyAdmin's owner."""
    alloc: dict[bytes, Account] = {}
    for n in range(0, 0x100):
        alloc[n.to_bytes(20, "big")] = Account(balance=1)
    proxy = artifact_code("Proxy")
    for n, has_impl in _PROXIED.items():
        storage = {ADMIN_SLOT: int.from_bytes(L2_PROXY_ADMIN, "big")}
        if has_impl:
            storage[IMPLEMENTATION_SLOT] = int.from_bytes(_impl_address(n), "big")
        alloc[_predeploy(n)] = Account(code=proxy, storage=storage)
    alloc[_impl_address(0x16)] = Account(code=artifact_code("L2ToL1MessagePasser"))
    alloc[DETERMINISTIC_DEPLOYER] = Account(nonce=1, code=artifact_code("DeterministicDeploymentProxy"))
    alloc[L2_PROXY_ADMIN].storage[0] = int.from_bytes(owner, "big")  # Ownable._owner (L2Genesis.setL2ProxyAdmin)
    return alloc


class _SystemMessages:
    """System messages from the zero address on the genesis state: deployments and calls."""

    def __init__(self, ex: BlockExecutor):
        self.ex = ex
        self.state = ex.state

    def run(self, to: bytes, data: bytes, code: bytes, create_address: bytes | None = None) -> None:
        from eth.vm.message import Message

        state = self.state
        msg = Message(gas=30_000_000, to=to, sender=bytes(20), value=0, data=data, code=code,
                      create_address=create_address)
        ctx = state.get_transaction_context_class()(gas_price=0, origin=bytes(20))
        if self.ex.rules.cancun:
            ctx._blob_versioned_hashes = []
        apply = state.computation_class.apply_create_message if create_address else state.computation_class.apply_message
        comp = apply(state, msg, ctx)
        if comp.is_error:
            raise RuntimeError(f"genesis message to 0x{(create_address or to).hex()} failed: {comp._error}")
        state.lock_changes()

    def deploy(self, init_code: bytes, address: bytes) -> None:
        self.run(b"", b"", init_code, address)

    def call(self, to: bytes, data: bytes) -> None:
        self.run(to, data, self.state.get_code(to))


def _word(v: bytes | int) -> bytes:
    return v.rjust(32, b"\0") if isinstance(v, bytes) else v.to_bytes(32, "big")


def _deploy_implementations(m: _SystemMessages, recipient: bytes, l1_chain_id: int, owner: bytes,
                            chain: bytes) -> None:
    """The implementations behind the proxies, initialized as op-chain-ops' L2Genesis does (dev L1 addresses)."""
    vault_args = recipient.rjust(32, b"\0") + (10**19).to_bytes(32, "big") + (1).to_bytes(32, "big")
    for n, name in ((0x11, "SequencerFeeVault"), (0x19, "BaseFeeVault"), (0x1A, "L1FeeVault")):
        m.deploy(artifact_code(name, "creation_code") + vault_args, _impl_address(n))
    for n, name in ((0x07, "L2CrossDomainMessenger"), (0x10, "L2StandardBridge"), (0x12, "OptimismMintableERC20Factory"),
                    (0x14, "L2ERC721Bridge")):
        m.deploy(artifact_code(name, "creation_code"), _impl_address(n))
    m.deploy(artifact_code("OptimismMintableERC721Factory", "creation_code") + _word(_predeploy(0x14))
             + _word(l1_chain_id), _impl_address(0x17))
    m.deploy(artifact_code("ProxyAdmin", "creation_code") + _word(owner), _impl_address(0x18))
    initialize = upgrades.selector("initialize(address)")
    for n, label in ((0x07, b"l1 cross domain messenger"), (0x10, b"l1 standard bridge"), (0x14, b"l1 erc721 bridge")):
        m.call(_predeploy(n), initialize + _word(keccak256(b"opnode dev " + label + chain)[12:]))
    m.call(_predeploy(0x12), initialize + _word(_predeploy(0x10)))
    ecotone = {d.intent: d for d in upgrades.deployments(Fork.ECOTONE)}
    m.deploy(ecotone["Ecotone: L1 Block Deployment"].init_code, _impl_address(0x15))
    m.deploy(ecotone["Ecotone: Gas Price Oracle Deployment"].init_code, _impl_address(0x0F))


def _install_interop_predeploys(m: _SystemMessages) -> None:
    """Lagoon's CrossL2Inbox and L2ToL2CrossDomainMessenger implementations, CREATE2-deployed through the
    deterministic deployer as the bundle's ConditionalDeployer does, and the proxies pointed at them as its
    L2ContractsManager does on an interop chain."""
    from engine.execution.interop_predeploys import interop_implementations

    for impl in interop_implementations():
        m.call(DETERMINISTIC_DEPLOYER, impl.salt + impl.init_code)
        if not m.state.get_code(impl.address):
            raise RuntimeError(f"genesis: {impl.intent} left no code at 0x{impl.address.hex()}")
        m.state.set_storage(impl.proxy, IMPLEMENTATION_SLOT, int.from_bytes(impl.address, "big"))
    m.state.lock_changes()


def _read_back(state, rec: _RecordingState, alloc: dict[bytes, Account]) -> None:
    """Copy every account and slot the genesis messages touched from the state into ``alloc``."""
    for addr in rec.accounts:
        if not state.account_exists(addr):
            alloc.pop(addr, None)
            continue
        acct = alloc.setdefault(addr, Account())
        acct.balance = state.get_balance(addr)
        acct.nonce = state.get_nonce(addr)
        acct.code = state.get_code(addr)
    for addr, slot in rec.slots:
        if addr in alloc:
            alloc[addr].storage[slot] = state.get_storage(addr, slot)


def dev_genesis(timestamp: int) -> Genesis:
    """``opnode engine --dev``: chain 901, every fork through Karst active at genesis (Lagoon needs a dependency
    set and its final NUT bundle, so it stays off), funded dev accounts."""
    times = {f: 0 for f in EXEC_FORKS if f <= Fork.KARST}
    keys = dev_keys()
    from derivation.protocol.crypto import address_from_private_key

    g = build_op_genesis(DEV_CHAIN_ID, timestamp, times, funded={address_from_private_key(k): 10**24 for k in keys},
                         fee_vault_recipient=address_from_private_key(keys[0]))
    g.dev_keys = keys
    return g


def rollup_config_for(genesis: Genesis, genesis_hash: bytes, *, l1_genesis: BlockID | None = None,
                      l1_chain_id: int = DEV_L1_CHAIN_ID, batcher: bytes | None = None,
                      deposit_contract: bytes | None = None, system_config_address: bytes | None = None,
                      block_time: int = 2) -> RollupConfig:
    """op-node's rollup.json matching ``genesis``: same chain id, fork times, genesis hash/time, gas limit and
    EIP-1559 parameters. L1 addresses default to fixed development values."""
    s = genesis.spec
    chain = s.chain_id.to_bytes(32, "big")
    l1 = l1_genesis or BlockID(keccak256(b"opnode dev L1 genesis" + chain), 0)
    dev0 = batcher or keccak256(b"opnode dev batcher" + chain)[12:]
    eip1559 = bytes(8)
    if s.is_active(Fork.HOLOCENE, genesis.timestamp):
        eip1559 = s.eip1559_denominator_canyon.to_bytes(4, "big") + s.eip1559_elasticity.to_bytes(4, "big")
    sysconfig = SystemConfig(batcher_addr=dev0, overhead=bytes(32),
                             scalar=bytes.fromhex("01" + "00" * 23) + (0).to_bytes(4, "big") + (1368).to_bytes(4, "big"),
                             gas_limit=genesis.gas_limit, eip1559_params=eip1559)
    return RollupConfig(
        genesis=RollupGenesis(l1=l1, l2=BlockID(genesis_hash, 0), l2_time=genesis.timestamp, system_config=sysconfig),
        block_time=block_time, max_sequencer_drift=600, seq_window_size=3600, channel_timeout=300,
        l1_chain_id=l1_chain_id, l2_chain_id=s.chain_id,
        batch_inbox_address=b"\xff" + bytes(11) + s.chain_id.to_bytes(8, "big"),
        deposit_contract_address=deposit_contract or keccak256(b"opnode dev deposit contract" + chain)[12:],
        l1_system_config_address=system_config_address or keccak256(b"opnode dev system config" + chain)[12:],
        fork_times={f: t for f, t in s.fork_times.items()},
        chain_op_config=ChainOpConfig(s.eip1559_elasticity, s.eip1559_denominator, s.eip1559_denominator_canyon),
    )
