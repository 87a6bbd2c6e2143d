"""L2 genesis: op-geth's ``genesis.json`` format and the genesis block; the built-in OP genesis builder is
:mod:`engine.execution.op_genesis`.

Genesis header (op-geth ``Genesis.ToBlock``): base fee 1 gwei unless given; ``withdrawalsRoot`` the empty root from
Canyon and the L2ToL1MessagePasser storage root from Isthmus; blob fields 0 and a zero beacon root from Ecotone;
``requestsHash = sha256("")`` from Isthmus; with Holocene at genesis ``extraData`` carries the EIP-1559 parameters
(specs: holocene/exec-engine.md; isthmus/exec-engine.md §Genesis Block).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from eth.db.account import AccountDB
from eth.db.atomic import AtomicDB

from derivation.protocol.crypto import keccak256
from derivation.protocol.errors import ParseError
from derivation.protocol.hexutil import from_hex, parse_quantity, to_hex
from derivation.protocol.predeploys import L2_TO_L1_MESSAGE_PASSER
from derivation.protocol.rollup_config import Fork
from derivation.protocol.trie import EMPTY_TRIE_ROOT as EMPTY_ROOT
from engine.execution.chain_spec import ChainSpec
from engine.execution.evm.forks import rules_for
from engine.execution.evm.header import EMPTY_REQUESTS_HASH, Header

INITIAL_BASE_FEE = 1_000_000_000


@cache
def contract_artifacts() -> dict:
    data = resources.files("engine.execution.predeploy_data").joinpath("contracts.json").read_text()
    return json.loads(data)["contracts"]


def artifact_code(name: str, key: str = "runtime_code") -> bytes:
    code = from_hex(contract_artifacts()[name][key])
    want = contract_artifacts()[name].get("code_hash")
    if want is not None and key == "runtime_code" and keccak256(code) != from_hex(want, 32):
        raise ValueError(f"{name} code does not match its published code hash {want}")
    return code


@dataclass(slots=True)
class Account:
    balance: int = 0
    nonce: int = 0
    code: bytes = b""
    storage: dict[int, int] = field(default_factory=dict)


@dataclass(slots=True)
class Genesis:
    """An L2 genesis: chain config, alloc and the genesis header fields (op-geth ``core.Genesis``)."""

    spec: ChainSpec
    timestamp: int
    gas_limit: int
    alloc: dict[bytes, Account]
    extra_data: bytes = b""
    coinbase: bytes = bytes(20)
    mix_hash: bytes = bytes(32)
    base_fee: int | None = None
    dev_keys: list[bytes] = field(default_factory=list)  # private keys of funded dev accounts (``--dev`` only)

    # ------------------------------------------------------------------------------------------------ state

    def write_state(self, db) -> bytes:
        """Write the alloc into ``db`` (an AtomicDB) and return the state root."""
        adb = AccountDB(db)
        for addr, acct in self.alloc.items():
            adb.set_balance(addr, acct.balance)
            if acct.nonce:
                adb.set_nonce(addr, acct.nonce)
            if acct.code:
                adb.set_code(addr, acct.code)
            for slot, value in acct.storage.items():
                if value:
                    adb.set_storage(addr, slot, value)
        adb.persist()
        return adb.state_root

    def header(self, db=None) -> Header:
        db = db if db is not None else AtomicDB()
        root = self.write_state(db)
        spec, t = self.spec, self.timestamp
        rules = rules_for(spec.fork_at(t))
        withdrawals_root = None
        if rules.shanghai:
            withdrawals_root = EMPTY_ROOT
            if spec.is_active(Fork.ISTHMUS, t):
                withdrawals_root = AccountDB(db, root)._get_account(L2_TO_L1_MESSAGE_PASSER).storage_root
        return Header(parent_hash=bytes(32), coinbase=self.coinbase, state_root=root, transactions_root=EMPTY_ROOT,
                      receipts_root=EMPTY_ROOT, logs_bloom=bytes(256), number=0, gas_limit=self.gas_limit,
                      gas_used=0, timestamp=t, extra_data=self.extra_data, mix_hash=self.mix_hash,
                      base_fee=INITIAL_BASE_FEE if self.base_fee is None else self.base_fee,
                      withdrawals_root=withdrawals_root, blob_gas_used=0 if rules.cancun else None,
                      excess_blob_gas=0 if rules.cancun else None,
                      parent_beacon_root=bytes(32) if rules.cancun else None,
                      requests_hash=EMPTY_REQUESTS_HASH if rules.prague else None)

    # ------------------------------------------------------------------------------------------------ JSON

    def to_json(self) -> dict:
        alloc = {}
        for addr, a in sorted(self.alloc.items()):
            e: dict = {"balance": hex(a.balance)}
            if a.nonce:
                e["nonce"] = hex(a.nonce)
            if a.code:
                e["code"] = to_hex(a.code)
            if a.storage:
                e["storage"] = {to_hex(k.to_bytes(32, "big")): to_hex(v.to_bytes(32, "big"))
                                for k, v in sorted(a.storage.items()) if v}
            alloc[to_hex(addr)] = e
        out = {"config": self.spec.to_json(), "nonce": "0x0", "timestamp": hex(self.timestamp),
               "extraData": to_hex(self.extra_data), "gasLimit": hex(self.gas_limit), "difficulty": "0x0",
               "mixHash": to_hex(self.mix_hash), "coinbase": to_hex(self.coinbase), "alloc": alloc,
               "number": "0x0", "gasUsed": "0x0", "parentHash": to_hex(bytes(32))}
        if self.base_fee is not None:
            out["baseFeePerGas"] = hex(self.base_fee)
        return out

    @classmethod
    def from_json(cls, d: dict) -> Genesis:
        """Parse op-geth's genesis.json (numbers as hex or decimal; unknown keys ignored as op-geth does)."""
        if not isinstance(d, dict) or not isinstance(d.get("config"), dict):
            raise ParseError("genesis must be a JSON object with a 'config' object")
        try:
            spec = ChainSpec.from_json(d["config"])
            alloc = {}
            raw_alloc = d.get("alloc") or {}
            if not isinstance(raw_alloc, dict):
                raise ParseError("genesis alloc must be an object")
            for k, v in raw_alloc.items():
                addr = from_hex(k if k.startswith(("0x", "0X")) else "0x" + k, 20)
                storage = {int.from_bytes(from_hex(sk), "big"): int.from_bytes(from_hex(sv), "big")
                           for sk, sv in (v.get("storage") or {}).items()}
                alloc[addr] = Account(parse_quantity(v.get("balance", 0)), parse_quantity(v.get("nonce", 0)),
                                      from_hex(v.get("code", "0x")), storage)
            bf = d.get("baseFeePerGas")
            return cls(spec=spec, timestamp=parse_quantity(d.get("timestamp", 0)),
                       gas_limit=parse_quantity(d.get("gasLimit", 5000)), alloc=alloc,
                       extra_data=from_hex(d.get("extraData", "0x")), coinbase=from_hex(d.get("coinbase", "0x" + "00" * 20), 20),
                       mix_hash=from_hex(d.get("mixHash", "0x" + "00" * 32), 32),
                       base_fee=None if bf is None else parse_quantity(bf))
        except KeyError as e:
            raise ParseError(f"genesis is missing field {e.args[0]!r}") from None
        except (TypeError, AttributeError) as e:
            raise ParseError(f"genesis has a field of the wrong type: {e}") from None


def load_genesis(path: str) -> Genesis:
    try:
        with open(path) as f:
            data = json.load(f)
    except OSError as e:
        raise ParseError(f"cannot read genesis file {path}: {e.strerror}") from None
    except json.JSONDecodeError as e:
        raise ParseError(f"genesis file {path} is not JSON: {e}") from None
    return Genesis.from_json(data)
