"""Which py-evm interpreter runs each OP fork, with the OP precompile changes applied.

Bedrock/Regolith run Paris (London + PREVRANDAO), Canyon/Delta Shanghai, Ecotone…Holocene Cancun, Isthmus/Jovian
Prague (specs: each fork's overview / exec-engine.md). Blob transactions stay invalid on L2 and ``BLOBBASEFEE``
reads 1 because ``excessBlobGas`` is always 0 (exec-engine.md §Ecotone: disable Blob-transactions).

Karst and Lagoon run "Osaka on L2" (karst/exec-engine.md @fd72cf79, design-docs protocol/osaka-on-l2.md; op-revm
``spec.rs``: KARST and INTEROP/Lagoon map to OSAKA). py-evm has no Osaka VM, so the Karst ruleset is Prague plus
the Osaka EVM changes: the ``CLZ`` opcode ``0x1e`` (EIP-7939, gas 5 as go-ethereum's ``enable7939``,
``GasFastStep``), the Karst precompiles (see :mod:`.precompiles`) and the EIP-7825 transaction gas cap, which is a
transaction validity rule applied by the executor. EIP-7934 (block RLP size cap) is not adopted on L2
(osaka-on-l2.md; acceptance test ``TestEIP7934BlockSizeLimitDisabled``).
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
from eth.vm.opcode import as_opcode

from derivation.protocol.rollup_config import Fork
from engine.execution.evm.precompiles import (
    GRANITE_LIMITS,
    ISTHMUS_LIMITS,
    JOVIAN_LIMITS,
    KARST_LIMITS,
    MODEXP_ADDRESS,
    P256VERIFY_ADDRESS,
    P256VERIFY_GAS_KARST,
    osaka_modexp,
    p256_verify,
    p256_verify_costing,
    with_limits,
)

CLZ = 0x1E
CLZ_GAS = 5
MAX_TX_GAS = 2**24  # EIP-7825: the gas cap of a non-deposit transaction from Karst


def clz(computation) -> None:
    """EIP-7939: the number of leading zero bits of the top stack word (256 for zero)."""
    computation.stack_push_int(256 - computation.stack_pop1_int().bit_length())


@dataclass(frozen=True, slots=True)
class EVMRules:
    fork: Fork
    state_class: type
    shanghai: bool  # withdrawals root in the header, PUSH0, warm coinbase, initcode limits
    cancun: bool  # blob fields + beacon root in the header, EIP-4788
    prague: bool  # requestsHash, EIP-7702, EIP-7623 floor, EIP-2935
    osaka: bool = False  # CLZ, EIP-7825 tx gas cap, Osaka precompile pricing


def _state(name: str, base_state: type, base_comp: type, precompiles: dict | None, opcodes: dict | None = None) -> type:
    attrs: dict = {}
    if precompiles is not None:
        attrs["_precompiles"] = precompiles
    if opcodes is not None:
        attrs["opcodes"] = opcodes
    comp = type(f"{name}Computation", (base_comp,), attrs) if attrs else base_comp

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
    if f >= Fork.KARST:
        pre[MODEXP_ADDRESS] = osaka_modexp
        pre[P256VERIFY_ADDRESS] = p256_verify_costing(P256VERIFY_GAS_KARST)
        pre = with_limits(pre, KARST_LIMITS)
        opcodes = {**PragueComputation.opcodes, CLZ: as_opcode(logic_fn=clz, mnemonic="CLZ", gas_cost=CLZ_GAS)}
        state = _state(f"Op{f.name.title()}", PragueState, PragueComputation, pre, opcodes)
        return EVMRules(f, state, True, True, True, osaka=True)
    pre[P256VERIFY_ADDRESS] = p256_verify
    pre = with_limits(pre, JOVIAN_LIMITS if f >= Fork.JOVIAN else ISTHMUS_LIMITS)
    return EVMRules(f, _state(f"Op{f.name.title()}", PragueState, PragueComputation, pre), True, True, True)
