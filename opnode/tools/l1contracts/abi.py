"""The Solidity ABI of the devnet contracts: function signatures, selectors and call encoding (with eth-abi).

The signatures are those of the real contracts, so that tools written for OptimismPortal and SystemConfig call the
stand-ins unchanged (selectors are checked against spec-vectors/l1_contracts.json).
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode

from derivation.protocol.crypto import keccak256


@dataclass(frozen=True, slots=True)
class Function:
    signature: str  # e.g. "setGasLimit(uint64)"
    returns: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.signature.split("(", 1)[0]

    @property
    def arg_types(self) -> tuple[str, ...]:
        inner = self.signature[self.signature.index("(") + 1:-1]
        return tuple(inner.split(",")) if inner else ()

    @property
    def selector(self) -> bytes:
        return keccak256(self.signature.encode())[:4]

    @property
    def selector_int(self) -> int:
        return int.from_bytes(self.selector, "big")

    def encode(self, *args) -> bytes:
        """Call data: selector ‖ ABI-encoded arguments."""
        if len(args) != len(self.arg_types):
            raise TypeError(f"{self.signature} takes {len(self.arg_types)} arguments, got {len(args)}")
        return self.selector + abi_encode(list(self.arg_types), list(args))

    def decode_result(self, data: bytes):
        """The return value (one value for one return type, else a tuple)."""
        values = abi_decode(list(self.returns), bytes(data))
        return values[0] if len(values) == 1 else values


def event_topic(signature: str) -> bytes:
    return keccak256(signature.encode())
