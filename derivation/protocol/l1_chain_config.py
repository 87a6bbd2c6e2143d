"""The L1 chain's blob schedule: which EIP-4844 base-fee update fraction applies at an L1 block time.

The L1-info deposit carries the L1 origin's blob base fee, ``fake_exponential(1, excess_blob_gas, fraction)``
(EIP-4844), where the fraction is the one of the L1 fork active at the L1 block's timestamp (specs:
ecotone/l1-attributes.md). Forks and fractions follow go-ethereum's ``params/config.go`` and
``consensus/misc/eip4844.latestBlobConfig``: the latest of Cancun, Prague, BPO1…BPO5 whose time has passed and
that has a blob-schedule entry; Osaka (and later named forks) inherit the previous entry.

Built-in schedules (Ethereum mainnet, Sepolia, Holesky, Hoodi) are copied from go-ethereum
``params/config.go`` at 02b73d4ea7181464175e0a6cbecc0a3a2655a562 (``MainnetChainConfig``, ``SepoliaChainConfig``,
``HoleskyChainConfig``, ``HoodiChainConfig`` and ``Default{Cancun,Prague,BPO1,BPO2}BlobConfig``).
A custom L1 (a devnet) is described by its geth genesis ``config`` object (:meth:`L1ChainConfig.from_genesis_config`).
"""

from __future__ import annotations

from dataclasses import dataclass

from derivation.protocol.errors import ParseError
from derivation.protocol.hexutil import parse_quantity
from derivation.protocol.jsonutil import JSONValue

CANCUN_UPDATE_FRACTION = 3_338_477
PRAGUE_UPDATE_FRACTION = 5_007_716
BPO1_UPDATE_FRACTION = 8_346_193  # mainnet/testnet defaults; a genesis file may set its own
BPO2_UPDATE_FRACTION = 11_684_671

# Schedule keys in the order go-ethereum resolves them (later wins once active). "osaka" is not a key in current
# geth (Osaka inherits Prague's entry) but older geth versions and devnet genesis files carry one.
_SCHEDULE_FORKS = ("cancun", "prague", "osaka", "bpo1", "bpo2", "bpo3", "bpo4", "bpo5")


class L1ChainConfigError(ParseError):
    """An L1 chain config (genesis ``config`` JSON) that cannot be used."""


class BlobBaseFeeError(ParseError):
    """An L1 header whose excess blob gas gives a fee that no uint256 holds."""


@dataclass(frozen=True, slots=True)
class BlobFork:
    name: str
    time: int
    update_fraction: int


@dataclass(frozen=True, slots=True)
class L1ChainConfig:
    chain_id: int
    blob_schedule: tuple[BlobFork, ...]  # sorted by activation time

    def blob_fork_at(self, l1_time: int) -> BlobFork | None:
        """The blob schedule entry in force at ``l1_time`` (None before Cancun)."""
        current = None
        for f in self.blob_schedule:
            if f.time <= l1_time:
                current = f
        return current

    def update_fraction_at(self, l1_time: int) -> int:
        """The base-fee update fraction at ``l1_time``; Cancun's before any entry (a header only has an
        ``excess_blob_gas`` once Cancun is active, and kona defaults to Cancun the same way)."""
        f = self.blob_fork_at(l1_time)
        return CANCUN_UPDATE_FRACTION if f is None else f.update_fraction

    @classmethod
    def from_genesis_config(cls, config: JSONValue) -> L1ChainConfig:
        """Read ``chainId``, ``<fork>Time`` and ``blobSchedule.<fork>.baseFeeUpdateFraction`` of a geth genesis
        ``config`` object (the whole genesis JSON is accepted too). A fork with a time but no schedule entry
        inherits the previous entry, as geth does; Cancun and Prague fall back to their EIP defaults."""
        if isinstance(config, dict) and isinstance(config.get("config"), dict):
            config = config["config"]
        if not isinstance(config, dict):
            raise L1ChainConfigError("L1 chain config must be a JSON object")
        try:
            chain_id = parse_quantity(config["chainId"])
        except KeyError:
            raise L1ChainConfigError("L1 chain config is missing chainId") from None
        schedule = config.get("blobSchedule")
        if schedule is None:
            schedule = {}
        if not isinstance(schedule, dict):
            raise L1ChainConfigError("blobSchedule must be an object")
        defaults = {"cancun": CANCUN_UPDATE_FRACTION, "prague": PRAGUE_UPDATE_FRACTION}
        forks = []
        for name in _SCHEDULE_FORKS:
            t = config.get(f"{name}Time")
            if t is None:
                continue
            entry = schedule.get(name)
            if entry is None:
                if name not in defaults:
                    continue  # inherits the previous entry
                fraction = defaults[name]
            else:
                if not isinstance(entry, dict) or "baseFeeUpdateFraction" not in entry:
                    raise L1ChainConfigError(f"blobSchedule.{name} has no baseFeeUpdateFraction")
                fraction = parse_quantity(entry["baseFeeUpdateFraction"])
            if fraction == 0:
                raise L1ChainConfigError(f"blobSchedule.{name}.baseFeeUpdateFraction must not be 0")
            forks.append(BlobFork(name, parse_quantity(t), fraction))
        forks.sort(key=lambda f: f.time)  # stable: equal times keep fork order, the later fork wins
        return cls(chain_id, tuple(forks))


def _schedule(cancun: int, prague: int, bpo1: int, bpo2: int) -> tuple[BlobFork, ...]:
    return (BlobFork("cancun", cancun, CANCUN_UPDATE_FRACTION), BlobFork("prague", prague, PRAGUE_UPDATE_FRACTION),
            BlobFork("bpo1", bpo1, BPO1_UPDATE_FRACTION), BlobFork("bpo2", bpo2, BPO2_UPDATE_FRACTION))


MAINNET = L1ChainConfig(1, _schedule(1710338135, 1746612311, 1765290071, 1767747671))
SEPOLIA = L1ChainConfig(11155111, _schedule(1706655072, 1741159776, 1761017184, 1761607008))
HOLESKY = L1ChainConfig(17000, _schedule(1707305664, 1740434112, 1759800000, 1760389824))
HOODI = L1ChainConfig(560048, _schedule(0, 1742999832, 1762365720, 1762955544))
BUILTIN = {c.chain_id: c for c in (MAINNET, SEPOLIA, HOLESKY, HOODI)}


def l1_chain_config(chain_id: int) -> L1ChainConfig:
    """The built-in blob schedule of a public L1; other L1s need :meth:`L1ChainConfig.from_genesis_config`."""
    try:
        return BUILTIN[chain_id]
    except KeyError:
        raise L1ChainConfigError(f"no built-in L1 chain config for chain id {chain_id}; "
                                 "give the L1 genesis config (blobSchedule and fork times)") from None


def fake_exponential(factor: int, numerator: int, denominator: int) -> int:
    """EIP-4844 ``fake_exponential``: integer approximation of ``factor * e ** (numerator / denominator)``."""
    i = 1
    output = 0
    accum = factor * denominator
    while accum > 0:
        output += accum
        accum = accum * numerator // denominator // i
        i += 1
    return output // denominator


def blob_base_fee(excess_blob_gas: int | None, update_fraction: int) -> int:
    """The blob base fee of an L1 header; 1 (EIP-4844 MIN_BASE_FEE_PER_BLOB_GAS) when it has no excess blob gas."""
    if excess_blob_gas is None:
        return 1
    if excess_blob_gas > 256 * update_fraction:
        # e**256 > 2**256: the fee could not be written into the L1-info calldata, and the Taylor loop would run
        # for about excess/fraction steps. No real header gets near this; a lying RPC must not hang us.
        raise BlobBaseFeeError(f"excess blob gas {excess_blob_gas} gives a blob base fee beyond uint256")
    return fake_exponential(1, excess_blob_gas, update_fraction)
