"""Assembly fragments the contracts are written with: what Solidity's ABI decoder and modifiers would emit.

Every fragment leaves the stack as it found it, unless its docstring says it pushes a value. A failed check jumps
to the contract's ``fail`` label (``revert(0, 0)``).
"""

from __future__ import annotations

from opnode.tools.l1contracts.abi import Function

UINT_BITS = {"uint8": 8, "uint16": 16, "uint32": 32, "uint64": 64, "uint128": 128, "address": 160}


def dispatch(functions: list[tuple[Function, str]]) -> str:
    """Jump to the label of the function whose selector starts the call data; leaves the selector on the stack."""
    lines = ["push 4", "calldatasize", "lt", "jumpi @fail",
             "push0", "calldataload", "push 0xe0", "shr"]
    for fn, label in functions:
        lines += ["dup1", f"push {fn.selector_int:#x}", "eq", f"jumpi @{label}"]
    lines += ["jump @fail"]
    return "\n".join(lines)


def nonpayable() -> str:
    return "callvalue\njumpi @fail"


def min_calldata(fn: Function) -> str:
    """Static arguments present: 4 + 32 per argument bytes of call data at least."""
    return f"push {4 + 32 * len(fn.arg_types)}\ncalldatasize\nlt\njumpi @fail"


def load_arg(fn: Function, i: int) -> str:
    """Push argument ``i`` (a static type), reverting on dirty high bits as Solidity's decoder does."""
    kind = fn.arg_types[i]
    lines = [f"push {4 + 32 * i}", "calldataload"]
    if kind in UINT_BITS:
        lines += ["dup1", f"push {UINT_BITS[kind]}", "shr", "jumpi @fail"]
    elif kind == "bool":
        lines += ["dup1", "push 1", "lt", "jumpi @fail"]
    elif kind not in ("uint256", "bytes32"):
        raise ValueError(f"no decoder for argument type {kind}")
    return "\n".join(lines)


def only_owner(owner_slot: int) -> str:
    return f"push {owner_slot}\nsload\ncaller\neq\niszero\njumpi @fail"


def return_word() -> str:
    """Return the word on top of the stack."""
    return "push0\nmstore\npush 32\npush0\nreturn"


def fail() -> str:
    return "fail:\npush0\npush0\nrevert"
