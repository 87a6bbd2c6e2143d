"""Network Upgrade Transaction (NUT) bundles: the JSON files that list a fork's upgrade deposits from Karst on.

op-node embeds them from ``op-core/nuts/bundles/`` and pins each by sha256 in ``op-core/nuts/fork_lock.toml``;
kona generates Rust from the same files. The bundle files are consensus data, so each one vendored here
(``derivation/nut_bundles/``, with PROVENANCE.json) is checked once, when first loaded, against its pinned sha256
and its published fingerprints (transaction count, total gas, last transaction); a changed byte is refused with
:class:`NutBundleError`.

Deposit rule (op-node ``op-node/rollup/derive/upgrade_transaction.go`` @1ccfcac9 ``toDepositTransactions``; kona
``rust/kona/crates/protocol/hardforks/build_helpers.rs`` and op-alloy ``rust/op-alloy/crates/consensus/src/nuts/
mod.rs``, both read at karlfloersch/optimism@b5c39b26, 2026-06-03): transaction ``i`` (0-based) of the bundle is a
type-0x7E deposit with source hash domain 2 over the intent ``"{Label} {i}: {intent}"``, ``from``/``to``/``data``
and ``gas = gasLimit`` from the JSON (``to: null`` creates), ``mint = value = 0``, ``isSystemTx = false``. The
spec text (specs/protocol/karst/derivation.md @48d8d021) says to prepend ``"Karst: "``; both clients use the
indexed form, which is what OP Sepolia and OP Mainnet executed, so this module does too. The label is the fork
name capitalised, except Lagoon, whose bundle keeps the label ``"Interop"`` from before the rename (op-node
``nutBundleForFork``: "the label fed into the qualified intent stays interop for compat").

Gas (op-node ``nutBundle.totalGas``, ``op-core/nuts/metadata.go``): the sum of the transactions' gas limits plus
``metadata.extraGas`` (schema 1.1.0; version 1.0.0 must not declare it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from derivation.protocol.crypto import sha256
from derivation.protocol.deposits import upgrade_source_hash
from derivation.protocol.errors import CriticalError
from derivation.protocol.hexutil import from_hex, to_hex
from derivation.protocol.predeploys import L2_PROXY_ADMIN
from derivation.protocol.rollup_config import Fork
from derivation.protocol.transactions import Transaction, deposit

BUNDLE_VERSION_NO_EXTRA_GAS = "1.0.0"
BUNDLE_VERSION = "1.1.0"
_PACKAGE = "derivation.protocol.nut_bundles"


class NutBundleError(CriticalError):
    """A NUT bundle file that is missing, altered or malformed: deriving with it would fork from the chain."""


@dataclass(frozen=True, slots=True)
class Pin:
    """What a vendored bundle file must be: its sha256 (op-node fork_lock.toml) and published fingerprints."""

    file: str
    sha256: str
    tx_count: int
    total_gas: int
    last_to: str
    last_data: str


@dataclass(frozen=True, slots=True)
class BundleTx:
    intent: str
    from_: bytes
    to: bytes | None
    data: bytes
    gas_limit: int


@dataclass(frozen=True, slots=True)
class NutBundle:
    fork: Fork
    label: str  # the intent prefix: "Karst", "Interop"
    path: str
    sha256: str
    version: str
    extra_gas: int
    transactions: tuple[BundleTx, ...]

    @property
    def total_gas(self) -> int:
        return self.extra_gas + sum(t.gas_limit for t in self.transactions)

    def qualified_intent(self, i: int) -> str:
        return f"{self.label} {i}: {self.transactions[i].intent}"

    def deposits(self) -> tuple[Transaction, ...]:
        """The bundle as deposit transactions, in order (shared, cached: do not mutate them)."""
        return _deposits(self)


@cache
def _deposits(b: NutBundle) -> tuple[Transaction, ...]:
    return tuple(deposit(upgrade_source_hash(b.qualified_intent(i)), t.from_, t.to, 0, 0, t.gas_limit, False, t.data)
                 for i, t in enumerate(b.transactions))


_L2_PROXY_ADMIN = to_hex(L2_PROXY_ADMIN)

KARST_PIN = Pin("karst_nut_bundle.json", "08f5df36f7ff29a9421ab84beebe96684a7455df9a5d234a2468613a4008ad91", 31,
                55_370_657, _L2_PROXY_ADMIN, "0x7c36f37e" + "00" * 12 + "5398a70eb0929dd7bfc73c59e7137d8c7cdf6669")
# op-node op-core/nuts/fork_lock.toml [lagoon] at ethereum-optimism/optimism@4fc25a93 (commit c9b441ba); 29 txs
# (TestUpgradeTransactionsInterop); the last one is upgradePredeploys(0x14086ee6…0630) with gas 4,000,000. Total gas
# is not published; 64,827,394 is the pinned file's own (its 27 implementation deployments also land at the CREATE2
# addresses the L2ContractsManager's constructor lists, checked when the file was copied).
LAGOON_PIN = Pin("lagoon_nut_bundle.json", "a4a9dac53431d07e4f24a803f23f0216e10396269a17d1df7ecd64393dc76b5e", 29,
                 64_827_394, _L2_PROXY_ADMIN, "0x7c36f37e" + "00" * 12 + "14086ee61374f7207ece3fa2978bc5612eca0630")

LABELS = {Fork.KARST: "Karst", Fork.LAGOON: "Interop"}


def bundle_path(file: str) -> Path:
    """Where a vendored bundle file lives (the file a user provides to complete a missing bundle)."""
    return Path(str(resources.files(_PACKAGE).joinpath(file)))


def _addr(v: object, what: str) -> bytes:
    if not isinstance(v, str) or not v.startswith(("0x", "0X")):
        raise NutBundleError(f"{what} must be a 0x-prefixed address")
    return from_hex(v, 20)


def parse_bundle(fork: Fork, raw: bytes, pin: Pin) -> NutBundle:
    """Check ``raw`` against ``pin`` and parse it (op-node ``readNUTBundle`` + ``Metadata.Validate``)."""
    digest = sha256(raw).hex()
    where = bundle_path(pin.file)
    if digest != pin.sha256:
        raise NutBundleError(f"NUT bundle {where} has sha256 {digest}, expected {pin.sha256} (op-node fork_lock.toml):"
                             " the file was altered or is another version")
    try:
        d = json.loads(raw)
        meta = d["metadata"]
        version = meta["version"]
        extra = meta.get("extraGas", 0)
        if version == BUNDLE_VERSION_NO_EXTRA_GAS and extra:
            raise NutBundleError(f"NUT bundle version {version} must not declare extraGas, got {extra}")
        if version not in (BUNDLE_VERSION, BUNDLE_VERSION_NO_EXTRA_GAS) or not isinstance(extra, int) or extra < 0:
            raise NutBundleError(f"unsupported NUT bundle metadata {meta!r}")
        txs = []
        for i, t in enumerate(d["transactions"]):
            if not t.get("intent"):
                raise NutBundleError(f"tx {i}: missing intent")  # op-node toDepositTransactions
            gas = t["gasLimit"]
            if not isinstance(gas, int) or isinstance(gas, bool) or not 0 <= gas < 1 << 64:
                raise NutBundleError(f"tx {i}: gasLimit must be a uint64 JSON number")
            to = None if t.get("to") is None else _addr(t["to"], f"tx {i} to")
            txs.append(BundleTx(t["intent"], _addr(t["from"], f"tx {i} from"), to, from_hex(t["data"]), gas))
    except NutBundleError:
        raise
    except (KeyError, TypeError, ValueError) as e:  # JSONDecodeError and ParseError are ValueErrors
        raise NutBundleError(f"NUT bundle {where} is malformed: {e}") from None
    b = NutBundle(fork, LABELS[fork], str(where), digest, version, extra, tuple(txs))
    _check_fingerprints(b, pin)
    return b


def _check_fingerprints(b: NutBundle, pin: Pin) -> None:
    problems = []
    if len(b.transactions) != pin.tx_count:
        problems.append(f"{len(b.transactions)} transactions, expected {pin.tx_count}")
    if pin.total_gas and b.total_gas != pin.total_gas:
        problems.append(f"total gas {b.total_gas}, expected {pin.total_gas}")
    last = b.transactions[-1] if b.transactions else None
    if last is None or last.to is None or to_hex(last.to) != pin.last_to:
        problems.append(f"last transaction is not a call to L2ProxyAdmin {pin.last_to}")
    elif pin.last_data and to_hex(last.data) != pin.last_data:
        problems.append(f"last transaction data {to_hex(last.data)}, expected {pin.last_data}")
    if problems:
        raise NutBundleError(f"NUT bundle {b.path} does not match its published fingerprints: {'; '.join(problems)}")


def _read(pin: Pin) -> bytes | None:
    p = resources.files(_PACKAGE).joinpath(pin.file)
    return p.read_bytes() if p.is_file() else None


@cache
def nut_bundle(fork: Fork) -> NutBundle:
    """The final NUT bundle of ``fork`` (Karst, Lagoon), checked. Raises :class:`NutBundleError` when it is
    missing or altered, naming the file to provide."""
    fork = Fork(fork)
    pin = {Fork.KARST: KARST_PIN, Fork.LAGOON: LAGOON_PIN}.get(fork)
    if pin is None:
        raise NutBundleError(f"{fork.label} has no NUT bundle")
    raw = _read(pin)
    if raw is None:
        raise NutBundleError(f"the final {fork.label.capitalize()} NUT bundle is not present: provide "
                             f"{bundle_path(pin.file)} (sha256 {pin.sha256}, op-node op-core/nuts/bundles/"
                             f"{pin.file})")
    return parse_bundle(fork, raw, pin)
