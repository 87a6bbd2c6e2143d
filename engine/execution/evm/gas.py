"""Transaction gas rules outside the EVM: intrinsic gas (yellow paper, EIP-2028, EIP-2930, EIP-3860, EIP-7702),
EIP-7623's floor data gas (Prague) and EIP-7825's per-transaction cap (Osaka; Karst on OP)."""

from __future__ import annotations

from engine.execution.evm.forks import MAX_TX_GAS

MAX_INITCODE_SIZE = 49152
TX_GAS, TX_CREATE_GAS = 21_000, 53_000
TX_ACCESS_LIST_ADDRESS_GAS, TX_ACCESS_LIST_KEY_GAS = 2_400, 1_900
PER_EMPTY_ACCOUNT_COST = 25_000


def intrinsic_gas(data: bytes, is_create: bool, access_list, auth_count: int, shanghai: bool) -> int:
    zeros = data.count(0)
    gas = (TX_CREATE_GAS if is_create else TX_GAS) + zeros * 4 + (len(data) - zeros) * 16
    if is_create and shanghai:
        gas += 2 * ((len(data) + 31) // 32)
    for _addr, keys in access_list:
        gas += TX_ACCESS_LIST_ADDRESS_GAS + TX_ACCESS_LIST_KEY_GAS * len(keys)
    return gas + PER_EMPTY_ACCOUNT_COST * auth_count


def max_tx_gas_error(gas: int) -> str | None:
    """EIP-7825 (Karst on): the error for a non-deposit transaction above the cap, or None (2^24 itself is valid)."""
    if gas > MAX_TX_GAS:
        return f"transaction gas limit {gas} is greater than the cap {MAX_TX_GAS} (EIP-7825)"
    return None


def floor_data_gas(data: bytes) -> int:
    """EIP-7623 (Prague): ``21000 + 10 * tokens``, one token per zero byte and four per non-zero byte."""
    zeros = data.count(0)
    return TX_GAS + 10 * (zeros + 4 * (len(data) - zeros))
