"""``eth_call``: one message on a block's state, nothing persisted (geth ``DoCall``)."""

from __future__ import annotations

from dataclasses import dataclass

from eth.exceptions import Revert

from engine.execution.chain_spec import ChainSpec
from engine.execution.evm.executor import BlockEnv, BlockExecutor
from engine.execution.evm.gas import intrinsic_gas


@dataclass(slots=True)
class CallResult:
    success: bool
    output: bytes
    gas_used: int
    error: str | None
    reverted: bool = False


def call_message(spec: ChainSpec, db, header, sender: bytes, to: bytes | None, value: int, data: bytes, gas: int,
                 gas_price: int = 0) -> CallResult:
    """``eth_call`` semantics (geth ``DoCall``): run a message on the state of ``header`` in that block's context,
    no nonce check, no fees charged unless a gas price is given, nothing persisted."""
    env = BlockEnv(number=header.number, timestamp=header.timestamp, coinbase=header.coinbase,
                   gas_limit=header.gas_limit, base_fee=header.base_fee or 0, prev_randao=header.mix_hash,
                   chain_id=spec.chain_id)
    ex = BlockExecutor(spec, db, header.state_root, env)
    st = ex.state
    need = intrinsic_gas(data, to is None, (), 0, ex.rules.shanghai)
    if gas < need:
        return CallResult(False, b"", gas, f"intrinsic gas too low: have {gas}, want {need}")
    if st.get_balance(sender) < value + gas * gas_price:
        return CallResult(False, b"", 0, "insufficient funds for gas * price + value")
    st.delta_balance(sender, -gas * gas_price)
    nonce = st.get_nonce(sender)
    st.increment_nonce(sender)
    initcode = 2 * ((len(data) + 31) // 32) if to is None and ex.rules.shanghai else 0
    msg, _ = ex._message(sender, to, value, data, gas - need + initcode, nonce)
    comp = ex._run(msg, sender, gas_price)
    used = gas - comp.get_gas_remaining()
    used -= min(comp.get_gas_refund(), used // 5)
    err = None if comp.is_success else str(comp._error)
    return CallResult(comp.is_success, bytes(comp.output), used, err, isinstance(comp._error, Revert))
