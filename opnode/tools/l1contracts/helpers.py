"""Two small contracts the devnet and its tests use next to the portal and the SystemConfig.

``FORWARDER``: call data ``target (32-byte word) ‖ payload`` → ``CALL(gas, target, msg.value, payload)``; returns or
reverts with the callee's return data. A deposit made through it comes from a contract, so the portal aliases it.

``COUNTER`` (for L2 contract-call traffic): every call increments storage slot 0 and logs its call data
(``LOG1(calldata, topic = caller)``).
"""

from __future__ import annotations

from opnode.tools.l1contracts.asm import assemble, init_code

FORWARDER_SOURCE = """
    push 32
    calldatasize
    lt
    jumpi @fail             ; no target word
    push 32
    calldatasize
    sub                     ; [n]: payload length
    dup1
    push 32
    push0
    calldatacopy            ; payload to memory 0
    push0
    push0
    swap2                   ; [retSize 0, retOffset 0, n]
    push0                   ; argsOffset
    callvalue
    push0
    calldataload            ; target (the EVM uses its low 20 bytes)
    gas
    call
    returndatasize
    push0
    push0
    returndatacopy
    iszero
    jumpi @bubble
    returndatasize
    push0
    return
bubble:
    returndatasize
    push0
    revert
fail:
    push0
    push0
    revert
"""

COUNTER_SOURCE = """
    push0
    sload
    push 1
    add
    push0
    sstore                  ; slot 0 += 1
    calldatasize
    push0
    push0
    calldatacopy
    caller
    calldatasize
    push0
    log1
    stop
"""


def forwarder_creation_code() -> bytes:
    return init_code(assemble(FORWARDER_SOURCE))


def counter_creation_code() -> bytes:
    return init_code(assemble(COUNTER_SOURCE))


def forward_call(target: bytes, payload: bytes) -> bytes:
    """Call data for the forwarder."""
    return bytes(12) + bytes(target) + bytes(payload)
