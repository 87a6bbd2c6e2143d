"""Which py-evm interpreter runs each OP fork, with the OP precompile changes applied.

Bedrock/Regolith run Paris (London + PREVRANDAO), Canyon/Delta Shanghai, Ecotone…Holocene Cancun, Isthmus/Jovian
Prague (specs: each fork's overview / exec-engine.md). Blob transactions stay invalid on L2 and ``BLOBBASEFEE``
reads 1 because ``excessBlobGas`` is always 0 (exec-engine.md §Ecotone: disable Blob-transactions).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from eth.vm.forks.cancun.computation import CancunComputation
from eth.vm.forks.cancun.state import CancunState
from eth.vm.forks.paris.computation import ParisComputation
from eth.vm.forks.paris.state import ParisState
from eth.vm.forks.prague.computation import PragueComputation
from eth.vm.forks.prague.state import PragueState
from eth.vm.forks.shanghai.computation import ShanghaiComputation
from eth.vm.forks.shanghai.state import ShanghaiState

from derivation.rollup_config import Fork

from .precompiles import GRANITE_LIMITS, ISTHMUS_LIMITS, JOVIAN_LIMITS, P256VERIFY_ADDRESS, p256_verify, with_limits


@dataclass(frozen=True, slots=True)
class EVMRules:
    fork: Fork
    state_class: type
    shanghai: bool  # withdrawals root in the header, PUSH0, warm coinbase, initcode limits
    cancun: bool  # blob fields + beacon root in the header, EIP-4788
    prague: bool  # requestsHash, EIP-7702, EIP-7623 floor, EIP-2935


def _state(name: str, base_state: type, base_comp: type, precompiles: dict | None) -> type:
    comp = base_comp if precompiles is None else type(f"{name}Computation", (base_comp,), {"_precompiles": precompiles})

    def set_system_contracts(self) -> None:  # system contracts are deployed by upgrade transactions on OP
        return None

    return type(f"{name}State", (base_state,), {"computation_class": comp,
                                                 "set_system_contracts": set_system_contracts})


@cache
def rules_for(fork: Fork) -> EVMRules:
    f = Fork(fork)
    if f < Fork.CANYON:
        return EVMRules(f, _state("OpBedrock", ParisState, ParisComputation, None), False, False, False)
    if f < Fork.ECOTONE:
        return EVMRules(f, _state("OpCanyon", ShanghaiState, ShanghaiComputation, None), True, False, False)
    if f < Fork.ISTHMUS:
        pre = None
        if f >= Fork.FJORD:
            pre = dict(CancunComputation.get_precompiles())
            pre[P256VERIFY_ADDRESS] = p256_verify
            if f >= Fork.GRANITE:
                pre = with_limits(pre, GRANITE_LIMITS)
        return EVMRules(f, _state(f"Op{f.name.title()}", CancunState, CancunComputation, pre), True, True, False)
    pre = dict(PragueComputation.get_precompiles())
    pre[P256VERIFY_ADDRESS] = p256_verify
    pre = with_limits(pre, JOVIAN_LIMITS if f >= Fork.JOVIAN else ISTHMUS_LIMITS)
    return EVMRules(f, _state(f"Op{f.name.title()}", PragueState, PragueComputation, pre), True, True, True)
