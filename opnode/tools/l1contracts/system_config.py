"""The devnet's SystemConfig stand-in: owner-only setters that emit ``ConfigUpdate(version 0, updateType, data)`` for
every update type, with the real SystemConfig's function signatures and ABI encodings (specs: protocol/
system-config.md §Function Specification; holocene/, isthmus/, jovian/system-config.md; SystemConfig.sol).

Each setter, in Solidity terms (``emit ConfigUpdate(0, TYPE, data)`` after the checks)::

    setBatcherHash(bytes32 h)                          BATCHER                  abi.encode(h)
    setGasConfig(uint256 overhead, uint256 scalar)     FEE_SCALARS              abi.encode(overhead, scalar);
                                                       reverts if scalar's top byte is set
    setGasConfigEcotone(uint32 base, uint32 blob)      FEE_SCALARS              abi.encode(overhead,
                                                       (1 << 248) | (blob << 32) | base)
    setGasLimit(uint64 g)                              GAS_LIMIT                abi.encode(g); minimumGasLimit() <= g
                                                                                <= maximumGasLimit()
    setUnsafeBlockSigner(address a)                    UNSAFE_BLOCK_SIGNER      abi.encode(a); stored at
                                                       keccak256("systemconfig.unsafeblocksigner") (op-node reads it)
    setEIP1559Params(uint32 d, uint32 e)               EIP_1559_PARAMS          abi.encode(uint256(d) << 32 | e);
                                                                                d >= 1 and e >= 1
    setOperatorFeeScalars(uint32 s, uint64 c)          OPERATOR_FEE_PARAMS      abi.encode(uint256(s) << 64 | c)
    setMinBaseFee(uint64 m)                            MIN_BASE_FEE             abi.encode(m)
    setDAFootprintGasScalar(uint16 x)                  DA_FOOTPRINT_GAS_SCALAR  abi.encode(x)

``data`` in the event is ``abi.encode(bytes)`` of that payload (offset 32, length, payload). The isthmus spec page
names the operator-fee setter ``setOperatorFeeScalar``; the contract (and system-config.md) use
``setOperatorFeeScalars``, which is what live tooling calls. ``transferOwnership`` emits OpenZeppelin's
``OwnershipTransferred``. Every value has a getter of the real contract's name. Differences from the real contract,
none visible to derivation: no proxy and no ``initialize`` (the initial values are stored by the creation code
without events, before the rollup's L1 genesis block), no resource config, batch inbox or contract addresses.
"""

from __future__ import annotations

from dataclasses import dataclass

from derivation.protocol.config_update import UpdateType
from opnode.tools.l1contracts.abi import Function, event_topic
from opnode.tools.l1contracts.asm import assemble, init_code, push_bytes
from opnode.tools.l1contracts.snippets import (
    dispatch,
    fail,
    load_arg,
    min_calldata,
    nonpayable,
    only_owner,
    return_word,
)

CONFIG_UPDATE = "ConfigUpdate(uint256,uint8,bytes)"
OWNERSHIP_TRANSFERRED = "OwnershipTransferred(address,address)"
UNSAFE_BLOCK_SIGNER_SLOT = 0x65A7ED542FB37FE237FDFBDD70B31598523FE5B32879E307BAE27A0BD9581C08
MINIMUM_GAS_LIMIT = 21_000_000  # ResourceConfig.maxResourceLimit (20M) + systemTxMaxGas (1M), the defaults
MAXIMUM_GAS_LIMIT = 500_000_000  # SystemConfig.MAX_GAS_LIMIT

SET_BATCHER_HASH = Function("setBatcherHash(bytes32)")
SET_GAS_CONFIG = Function("setGasConfig(uint256,uint256)")
SET_GAS_CONFIG_ECOTONE = Function("setGasConfigEcotone(uint32,uint32)")
SET_GAS_LIMIT = Function("setGasLimit(uint64)")
SET_UNSAFE_BLOCK_SIGNER = Function("setUnsafeBlockSigner(address)")
SET_EIP1559_PARAMS = Function("setEIP1559Params(uint32,uint32)")
SET_OPERATOR_FEE_SCALARS = Function("setOperatorFeeScalars(uint32,uint64)")
SET_MIN_BASE_FEE = Function("setMinBaseFee(uint64)")
SET_DA_FOOTPRINT_GAS_SCALAR = Function("setDAFootprintGasScalar(uint16)")
TRANSFER_OWNERSHIP = Function("transferOwnership(address)")

# Storage: one slot per value (getter name, slot, ABI type).
SLOTS = {
    "owner": (0, "address"), "batcherHash": (1, "bytes32"), "overhead": (2, "uint256"), "scalar": (3, "uint256"),
    "gasLimit": (4, "uint64"), "basefeeScalar": (5, "uint32"), "blobbasefeeScalar": (6, "uint32"),
    "eip1559Denominator": (7, "uint32"), "eip1559Elasticity": (8, "uint32"), "operatorFeeScalar": (9, "uint32"),
    "operatorFeeConstant": (10, "uint64"), "minBaseFee": (11, "uint64"), "daFootprintGasScalar": (12, "uint16"),
    "unsafeBlockSigner": (UNSAFE_BLOCK_SIGNER_SLOT, "address"),
}
GETTERS = {name: Function(f"{name}()", (kind,)) for name, (_, kind) in SLOTS.items()}
MINIMUM_GAS_LIMIT_FN = Function("minimumGasLimit()", ("uint64",))
MAXIMUM_GAS_LIMIT_FN = Function("maximumGasLimit()", ("uint64",))


def _emit(kind: UpdateType, words: int) -> str:
    """Emit ConfigUpdate with the payload already in memory at 0x40 (``words`` words), then stop."""
    return f"""
    push 0x20
    push0
    mstore
    push {32 * words}
    push 0x20
    mstore
    push {int(kind)}
    push0
    push $CONFIG_UPDATE
    push {64 + 32 * words}
    push0
    log3
    stop"""


def _setter(fn: Function, label: str, body: str) -> str:
    """Checks common to every setter, then ``body`` with the arguments on the stack (first argument deepest)."""
    loads = "\n".join(load_arg(fn, i) for i in range(len(fn.arg_types)))
    return f"{label}:\n{nonpayable()}\n{min_calldata(fn)}\n{only_owner(SLOTS['owner'][0])}\n{loads}\n{body}\n"


def _store(slot_name: str) -> str:
    """Store the top of the stack (kept) in the named slot."""
    return f"dup1\npush {SLOTS[slot_name][0]:#x}\nsstore"


def _source() -> str:
    """The contract's assembly text. Long because it is data: one setter body per ``SystemConfig`` function,
    each next to the ``ConfigUpdate`` it emits, then the dispatcher and the getters."""
    setters = [
        (SET_BATCHER_HASH, "set_batcher_hash", f"""
{_store('batcherHash')}
    push 0x40
    mstore{_emit(UpdateType.BATCHER, 1)}"""),
        (SET_GAS_CONFIG, "set_gas_config", f"""
    dup1
    push 248
    shr
    jumpi @fail             ; scalar exceeds max
{_store('scalar')}
    push 0x60
    mstore
{_store('overhead')}
    push 0x40
    mstore{_emit(UpdateType.FEE_SCALARS, 2)}"""),
        (SET_GAS_CONFIG_ECOTONE, "set_gas_config_ecotone", f"""
{_store('blobbasefeeScalar')}
    push 32
    shl                     ; [base, blob << 32]
    swap1
{_store('basefeeScalar')}
    or
    push 1
    push 248
    shl
    or                      ; [scalar]
{_store('scalar')}
    push 0x60
    mstore
    push {SLOTS['overhead'][0]}
    sload
    push 0x40
    mstore{_emit(UpdateType.FEE_SCALARS, 2)}"""),
        (SET_GAS_LIMIT, "set_gas_limit", f"""
    dup1
    push {MINIMUM_GAS_LIMIT}
    gt
    jumpi @fail             ; gas limit too low
    push {MAXIMUM_GAS_LIMIT}
    dup2
    gt
    jumpi @fail             ; gas limit too high
{_store('gasLimit')}
    push 0x40
    mstore{_emit(UpdateType.GAS_LIMIT, 1)}"""),
        (SET_UNSAFE_BLOCK_SIGNER, "set_unsafe_block_signer", f"""
{_store('unsafeBlockSigner')}
    push 0x40
    mstore{_emit(UpdateType.UNSAFE_BLOCK_SIGNER, 1)}"""),
        (SET_EIP1559_PARAMS, "set_eip1559_params", f"""
    dup1
    iszero
    jumpi @fail             ; elasticity must be >= 1
    dup2
    iszero
    jumpi @fail             ; denominator must be >= 1
{_store('eip1559Elasticity')}
    swap1
{_store('eip1559Denominator')}
    push 32
    shl
    or
    push 0x40
    mstore{_emit(UpdateType.EIP_1559_PARAMS, 1)}"""),
        (SET_OPERATOR_FEE_SCALARS, "set_operator_fee_scalars", f"""
{_store('operatorFeeConstant')}
    swap1
{_store('operatorFeeScalar')}
    push 64
    shl
    or
    push 0x40
    mstore{_emit(UpdateType.OPERATOR_FEE_PARAMS, 1)}"""),
        (SET_MIN_BASE_FEE, "set_min_base_fee", f"""
{_store('minBaseFee')}
    push 0x40
    mstore{_emit(UpdateType.MIN_BASE_FEE, 1)}"""),
        (SET_DA_FOOTPRINT_GAS_SCALAR, "set_da_footprint_gas_scalar", f"""
{_store('daFootprintGasScalar')}
    push 0x40
    mstore{_emit(UpdateType.DA_FOOTPRINT_GAS_SCALAR, 1)}"""),
        (TRANSFER_OWNERSHIP, "transfer_ownership", f"""
    dup1
    iszero
    jumpi @fail             ; new owner is the zero address
    dup1                    ; [new, new]
    push {SLOTS['owner'][0]}
    sload                   ; [new, new, old]
    push $OWNERSHIP_TRANSFERRED
    push0
    push0
    log3
    push {SLOTS['owner'][0]}
    sstore
    stop"""),
    ]
    getters = [(fn, f"get_{name}") for name, fn in GETTERS.items()]
    constants = [(MINIMUM_GAS_LIMIT_FN, "minimum_gas_limit"), (MAXIMUM_GAS_LIMIT_FN, "maximum_gas_limit")]
    parts = [dispatch([(fn, label) for fn, label, _ in setters] + getters + constants)]
    parts += [_setter(fn, label, body) for fn, label, body in setters]
    for name in GETTERS:
        parts.append(f"get_{name}:\n{nonpayable()}\npush {SLOTS[name][0]:#x}\nsload\n{return_word()}")
    parts.append(f"minimum_gas_limit:\n{nonpayable()}\npush {MINIMUM_GAS_LIMIT}\n{return_word()}")
    parts.append(f"maximum_gas_limit:\n{nonpayable()}\npush {MAXIMUM_GAS_LIMIT}\n{return_word()}")
    parts.append(fail())
    return "\n".join(parts)


SOURCE = _source()


def runtime_code() -> bytes:
    return assemble(SOURCE, {"CONFIG_UPDATE": int.from_bytes(event_topic(CONFIG_UPDATE), "big"),
                             "OWNERSHIP_TRANSFERRED": int.from_bytes(event_topic(OWNERSHIP_TRANSFERRED), "big")})


@dataclass(frozen=True, slots=True)
class InitialValues:
    """What the contract holds when deployed (the rollup config's genesis SystemConfig and its owner)."""

    owner: bytes
    batcher: bytes
    gas_limit: int
    basefee_scalar: int = 0
    blobbasefee_scalar: int = 0
    overhead: int = 0
    eip1559_denominator: int = 0
    eip1559_elasticity: int = 0
    unsafe_block_signer: bytes = bytes(20)

    def slots(self) -> dict[int, int]:
        scalar = (1 << 248) | (self.blobbasefee_scalar << 32) | self.basefee_scalar
        values = {"owner": int.from_bytes(self.owner, "big"), "batcherHash": int.from_bytes(self.batcher, "big"),
                  "gasLimit": self.gas_limit, "basefeeScalar": self.basefee_scalar,
                  "blobbasefeeScalar": self.blobbasefee_scalar, "overhead": self.overhead, "scalar": scalar,
                  "eip1559Denominator": self.eip1559_denominator, "eip1559Elasticity": self.eip1559_elasticity,
                  "unsafeBlockSigner": int.from_bytes(self.unsafe_block_signer, "big")}
        return {SLOTS[k][0]: v for k, v in values.items() if v}


def creation_code(initial: InitialValues) -> bytes:
    """Creation code that stores ``initial`` (straight-line SSTOREs) and deploys the runtime code."""
    constructor = b"".join(push_bytes(v) + push_bytes(slot) + b"\x55" for slot, v in initial.slots().items())
    return init_code(runtime_code(), constructor)
