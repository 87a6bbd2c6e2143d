"""The devnet's deposit contract: an OptimismPortal stand-in that emits ``TransactionDeposited`` exactly as the real
portal does (specs: protocol/deposits.md §Deposit Contract; fault-proof/stage-one/optimism-portal.md
§depositTransaction, §receive; OptimismPortal2.sol ``_depositTransaction``).

In Solidity terms the runtime code below is::

    event TransactionDeposited(address indexed from, address indexed to, uint256 indexed version, bytes opaqueData);

    function depositTransaction(address _to, uint256 _value, uint64 _gasLimit, bool _isCreation, bytes memory _data)
        public payable
    {
        if (_isCreation && _to != address(0)) revert();              // BadTarget
        if (_gasLimit < minimumGasLimit(uint64(_data.length))) revert();  // SmallGasLimit
        if (_data.length > 120_000) revert();                         // LargeCalldata
        meter(_gasLimit);                                             // at most 20M deposit gas per L1 block
        address from = msg.sender;
        if (!isSenderEOA()) from = address(uint160(msg.sender) + 0x1111000000000000000000000000000000001111);
        emit TransactionDeposited(from, _to, 0, abi.encodePacked(msg.value, _value, _gasLimit, _isCreation, _data));
    }
    receive() external payable { depositTransaction(msg.sender, msg.value, 100_000, false, ""); }
    function minimumGasLimit(uint64 _byteCount) public pure returns (uint64) { return _byteCount * 40 + 21000; }

with Solidity's ABI decoding checks (dirty high bits of address/uint64/bool, out-of-range ``bytes`` offset or
length revert). ``isSenderEOA`` is the current library's: ``msg.sender == tx.origin``, or the sender's code is an
EIP-7702 delegation (23 bytes starting ``0xef0100``). The minimum gas limit uses 40 gas per byte, the current
spec's value (earlier portals used 16). Differences from the real portal, none visible to derivation: no proxy,
no pause or custom-gas-token checks, and resource metering only enforces the per-block limit of 20M gas (the real
portal also burns L1 gas at the deposit base fee); ETH sent stays in the contract.
"""

from __future__ import annotations

from functools import cache

from opnode.tools.l1contracts.abi import Function, event_topic
from opnode.tools.l1contracts.asm import assemble, init_code
from opnode.tools.l1contracts.snippets import dispatch, fail, load_arg, min_calldata, nonpayable, return_word

DEPOSIT_TRANSACTION = Function("depositTransaction(address,uint256,uint64,bool,bytes)")
MINIMUM_GAS_LIMIT = Function("minimumGasLimit(uint64)", ("uint64",))
TRANSACTION_DEPOSITED = "TransactionDeposited(address,address,uint256,bytes)"

RECEIVE_DEFAULT_GAS_LIMIT = 100_000
MAX_RESOURCE_LIMIT = 20_000_000  # deposit gas per L1 block (ResourceConfig.maxResourceLimit default)
MAX_DEPOSIT_DATA = 120_000
GAS_PER_DATA_BYTE = 40
ALIAS_OFFSET = 0x1111000000000000000000000000000000001111

# Memory: arguments at 0x00-0xBF, scratch word at 0xE0, the event data (abi.encode(bytes opaqueData)) from 0x100.
SOURCE = f"""
    calldatasize
    iszero
    jumpi @receive
{dispatch([(DEPOSIT_TRANSACTION, "deposit"), (MINIMUM_GAS_LIMIT, "minimum_gas_limit")])}

minimum_gas_limit:
{nonpayable()}
{min_calldata(MINIMUM_GAS_LIMIT)}
{load_arg(MINIMUM_GAS_LIMIT, 0)}
    push {GAS_PER_DATA_BYTE}
    mul
    push 21000
    add
{return_word()}

receive:                    ; depositTransaction(msg.sender, msg.value, 100_000, false, "")
    caller
    push0
    mstore
    callvalue
    push 0x20
    mstore
    push {RECEIVE_DEFAULT_GAS_LIMIT}
    push 0x40
    mstore                  ; isCreation, data length and data pointer stay zero
    jump @body

deposit:
{min_calldata(DEPOSIT_TRANSACTION)}
{load_arg(DEPOSIT_TRANSACTION, 0)}
    push0
    mstore                  ; 0x00 to
{load_arg(DEPOSIT_TRANSACTION, 1)}
    push 0x20
    mstore                  ; 0x20 value
{load_arg(DEPOSIT_TRANSACTION, 2)}
    push 0x40
    mstore                  ; 0x40 gas limit
{load_arg(DEPOSIT_TRANSACTION, 3)}
    push 0x60
    mstore                  ; 0x60 isCreation
    push 132
    calldataload            ; [off]
    dup1
    push 64
    shr
    jumpi @fail
    push 4
    add                     ; [p]: position of the length word
    dup1
    push 32
    add
    calldatasize
    lt
    jumpi @fail             ; length word beyond the call data
    dup1
    calldataload            ; [p, len]
    dup1
    push 64
    shr
    jumpi @fail
    dup1
    push 0x80
    mstore                  ; 0x80 data length
    dup2
    push 32
    add                     ; [p, len, p+32]
    dup1
    push 0xa0
    mstore                  ; 0xa0 data position in the call data
    add
    calldatasize
    lt
    jumpi @fail             ; data beyond the call data
    pop

body:
    push 0x60
    mload
    push0
    mload
    iszero
    iszero
    and
    jumpi @fail             ; a contract creation must target address(0)
    push 0x80
    mload
    push {GAS_PER_DATA_BYTE}
    mul
    push 21000
    add
    push 0x40
    mload
    lt
    jumpi @fail             ; gas limit below minimumGasLimit(data length)
    push {MAX_DEPOSIT_DATA}
    push 0x80
    mload
    gt
    jumpi @fail             ; data over 120,000 bytes

    ; slot 0 = (L1 block number << 128) | deposit gas bought in that block
    push0
    sload
    dup1
    push 128
    shr
    number
    eq
    mul
    push {(1 << 128) - 1:#x}
    and
    push 0x40
    mload
    add                     ; [bought]
    dup1
    push {MAX_RESOURCE_LIMIT}
    lt
    jumpi @fail             ; over the per-block deposit gas limit
    number
    push 128
    shl
    or
    push0
    sstore

    caller                  ; [from]
    origin
    caller
    eq
    jumpi @sender_known
    push 23
    caller
    extcodesize
    eq
    iszero
    jumpi @alias
    push 3
    push0
    push 0xe0
    caller
    extcodecopy
    push 0xe0
    mload
    push 232
    shr
    push 0xef0100
    eq
    jumpi @sender_known     ; an EIP-7702 delegated EOA is not aliased
alias:
    push {ALIAS_OFFSET:#x}
    add
    push {(1 << 160) - 1:#x}
    and
sender_known:
    push0
    swap1                   ; [version 0, from]
    push0
    mload
    swap1                   ; [0, to, from]
    push $TOPIC             ; [0, to, from, topic0]

    push 0x20
    push 0x100
    mstore                  ; ABI offset of opaqueData
    callvalue
    push 0x140
    mstore                  ; mint = msg.value
    push 0x20
    mload
    push 0x160
    mstore                  ; value
    push 0x40
    mload
    push 192
    shl
    push 0x180
    mstore                  ; gas limit, 8 bytes big-endian
    push 0x60
    mload
    push 0x188
    mstore8                 ; isCreation, 1 byte
    push 0x80
    mload
    push 0xa0
    mload
    push 0x189
    calldatacopy            ; data
    push 0x80
    mload
    push 73
    add                     ; [.., opaque length]
    dup1
    push 0x120
    mstore
    push 31
    add
    push 5
    shr
    push 5
    shl
    push 64
    add                     ; [0, to, from, topic0, log data size]
    push 0x100
    log4
    stop

{fail()}
"""


@cache
def runtime_code() -> bytes:
    return assemble(SOURCE, {"TOPIC": int.from_bytes(event_topic(TRANSACTION_DEPOSITED), "big")})


def creation_code() -> bytes:
    return init_code(runtime_code())


def alias(address: bytes) -> bytes:
    """The L2 ``from`` of a deposit sent by the contract at ``address`` (AddressAliasHelper.applyL1ToL2Alias)."""
    return ((int.from_bytes(address, "big") + ALIAS_OFFSET) % (1 << 160)).to_bytes(20, "big")
