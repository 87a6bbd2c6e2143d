"""A tiny EVM assembler: the project builds the bytecode of its devnet contracts itself, from readable source.

Source is text, one instruction per line, ``;`` starts a comment:

- an opcode mnemonic (``add``, ``calldataload``, ``log3``… case-insensitive), emitted as is;
- ``push X``: the smallest PUSH for X (``push0`` for zero). X is a number (``42``, ``0x2a``), ``@label`` (a jump
  destination, always PUSH2 so that the layout is known in one pass) or ``$NAME`` (a constant given to
  :func:`assemble`, e.g. a selector or an event topic);
- ``jump @label`` / ``jumpi @label``: PUSH2 of the label, then JUMP / JUMPI;
- ``name:`` defines a label and emits its JUMPDEST.

Errors (unknown mnemonic, undefined or duplicate label, constant missing, value over 32 bytes) raise
:class:`AsmError` with the line number. Only opcodes of the Cancun/Prague EVM are known; no macros: the contracts'
Python modules compose source text.
"""

from __future__ import annotations

import re

OPCODES = {
    "stop": 0x00, "add": 0x01, "mul": 0x02, "sub": 0x03, "div": 0x04, "sdiv": 0x05, "mod": 0x06, "smod": 0x07,
    "addmod": 0x08, "mulmod": 0x09, "exp": 0x0A, "signextend": 0x0B,
    "lt": 0x10, "gt": 0x11, "slt": 0x12, "sgt": 0x13, "eq": 0x14, "iszero": 0x15, "and": 0x16, "or": 0x17,
    "xor": 0x18, "not": 0x19, "byte": 0x1A, "shl": 0x1B, "shr": 0x1C, "sar": 0x1D,
    "keccak256": 0x20,
    "address": 0x30, "balance": 0x31, "origin": 0x32, "caller": 0x33, "callvalue": 0x34, "calldataload": 0x35,
    "calldatasize": 0x36, "calldatacopy": 0x37, "codesize": 0x38, "codecopy": 0x39, "gasprice": 0x3A,
    "extcodesize": 0x3B, "extcodecopy": 0x3C, "returndatasize": 0x3D, "returndatacopy": 0x3E, "extcodehash": 0x3F,
    "blockhash": 0x40, "coinbase": 0x41, "timestamp": 0x42, "number": 0x43, "prevrandao": 0x44, "gaslimit": 0x45,
    "chainid": 0x46, "selfbalance": 0x47, "basefee": 0x48, "blobhash": 0x49, "blobbasefee": 0x4A,
    "pop": 0x50, "mload": 0x51, "mstore": 0x52, "mstore8": 0x53, "sload": 0x54, "sstore": 0x55, "jump": 0x56,
    "jumpi": 0x57, "pc": 0x58, "msize": 0x59, "gas": 0x5A, "jumpdest": 0x5B, "tload": 0x5C, "tstore": 0x5D,
    "mcopy": 0x5E, "push0": 0x5F,
    **{f"dup{i}": 0x7F + i for i in range(1, 17)},
    **{f"swap{i}": 0x8F + i for i in range(1, 17)},
    "log0": 0xA0, "log1": 0xA1, "log2": 0xA2, "log3": 0xA3, "log4": 0xA4,
    "create": 0xF0, "call": 0xF1, "callcode": 0xF2, "return": 0xF3, "delegatecall": 0xF4, "create2": 0xF5,
    "staticcall": 0xFA, "revert": 0xFD, "invalid": 0xFE, "selfdestruct": 0xFF,
}
_PUSH1 = 0x60
_LABEL = re.compile(r"^([A-Za-z_][A-Za-z0-9_.]*):$")


class AsmError(ValueError):
    """The assembly source is wrong (a programming error in the contract source, reported with its line)."""


def push_bytes(value: int) -> bytes:
    """The smallest PUSH of a non-negative integer below 2**256."""
    if not 0 <= value < 1 << 256:
        raise AsmError(f"push value out of range: {value}")
    if value == 0:
        return bytes((OPCODES["push0"],))
    n = (value.bit_length() + 7) // 8
    return bytes((_PUSH1 + n - 1,)) + value.to_bytes(n, "big")


def assemble(source: str, constants: dict[str, int] | None = None) -> bytes:
    """Assemble ``source`` (syntax in the module docstring) into EVM bytecode."""
    asm = _Assembler(constants or {})
    for line_no, raw in enumerate(source.splitlines(), 1):
        text = raw.split(";", 1)[0].strip()
        if text:
            asm.line(text, line_no)
    return asm.link()


class _Assembler:
    """One pass emitting code with PUSH2 placeholders for labels, then ``link`` fills them in."""

    def __init__(self, constants: dict[str, int]):
        self.constants = constants
        self.out = bytearray()
        self.labels: dict[str, int] = {}
        self.fixups: list[tuple[int, str, int]] = []  # (offset of the 2 label bytes, label, line)

    def operand(self, tok: str, line: int) -> int | str:
        if tok.startswith("@"):
            return tok[1:]
        if tok.startswith("$"):
            if tok[1:] not in self.constants:
                raise AsmError(f"line {line}: unknown constant {tok}")
            return int(self.constants[tok[1:]])
        try:
            return int(tok, 0)
        except ValueError:
            raise AsmError(f"line {line}: bad operand {tok!r}") from None

    def emit_push(self, value: int | str, line: int) -> None:
        if isinstance(value, str):
            self.out.append(_PUSH1 + 1)  # PUSH2
            self.fixups.append((len(self.out), value, line))
            self.out.extend(b"\0\0")
        else:
            try:
                self.out.extend(push_bytes(value))
            except AsmError as e:
                raise AsmError(f"line {line}: {e}") from None

    def line(self, text: str, line_no: int) -> None:
        m = _LABEL.match(text)
        if m:
            name = m.group(1)
            if name in self.labels:
                raise AsmError(f"line {line_no}: label {name!r} defined twice")
            self.labels[name] = len(self.out)
            self.out.append(OPCODES["jumpdest"])
            return
        parts = text.split()
        op, args = parts[0].lower(), parts[1:]
        if op == "push":
            if len(args) != 1:
                raise AsmError(f"line {line_no}: push takes one operand")
            self.emit_push(self.operand(args[0], line_no), line_no)
        elif op in ("jump", "jumpi") and args:
            if len(args) != 1 or not args[0].startswith("@"):
                raise AsmError(f"line {line_no}: {op} takes one @label")
            self.emit_push(args[0][1:], line_no)
            self.out.append(OPCODES[op])
        elif op in OPCODES and not args:
            self.out.append(OPCODES[op])
        else:
            raise AsmError(f"line {line_no}: unknown instruction {text!r}")

    def link(self) -> bytes:
        if len(self.out) > 0xFFFF:
            raise AsmError("code larger than 64 KiB: labels do not fit in PUSH2")
        for at, name, line in self.fixups:
            if name not in self.labels:
                raise AsmError(f"line {line}: undefined label @{name}")
            self.out[at:at + 2] = self.labels[name].to_bytes(2, "big")
        return bytes(self.out)


def init_code(runtime: bytes, constructor: bytes = b"") -> bytes:
    """Creation code: run ``constructor`` (straight-line code that leaves the stack empty, e.g. SSTOREs of the
    initial values), then copy ``runtime`` out of the creation code and return it."""
    n = len(runtime)

    def copier(offset: int) -> bytes:
        return (push_bytes(n) + bytes((OPCODES["dup1"],)) + push_bytes(offset) + push_bytes(0)
                + bytes((OPCODES["codecopy"],)) + push_bytes(0) + bytes((OPCODES["return"],)))

    # The copier's length depends on the offset it pushes, which includes that length: iterate to the fixed point.
    offset = len(constructor)
    while len(constructor) + len(copier(offset)) != offset:
        offset = len(constructor) + len(copier(offset))
    return constructor + copier(offset) + runtime
