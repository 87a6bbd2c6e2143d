"""Deploying the devnet's L1 contracts, and calling them.

``sender`` is anything with ``async send_and_wait(TxCandidate) -> receipt`` (the batcher's
:class:`~opnode.tools.batcher.txmgr.TxManager`): deployment is ordinary transactions from an ordinary key.
"""

from __future__ import annotations

from dataclasses import dataclass

from opnode.tools.batcher.txmgr import TxCandidate
from opnode.tools.l1contracts import portal, system_config
from opnode.tools.l1contracts.helpers import counter_creation_code, forwarder_creation_code


@dataclass(frozen=True, slots=True)
class L1Deployment:
    portal: bytes  # the rollup config's deposit_contract_address
    system_config: bytes  # the rollup config's l1_system_config_address
    owner: bytes  # the SystemConfig owner
    block_number: int  # L1 block of the last deployment transaction (the rollup's L1 genesis must not be before)


async def deploy(sender, creation_code: bytes) -> tuple[bytes, int]:
    """Deploy one contract; returns (address, L1 block number)."""
    r = await sender.send_and_wait(TxCandidate(to=None, data=creation_code))
    if r.contract_address is None:
        raise RuntimeError(f"deployment 0x{r.tx_hash.hex()} created no contract")
    return r.contract_address, r.block_number


async def deploy_l1_contracts(sender, initial: system_config.InitialValues) -> L1Deployment:
    """The deposit contract and the SystemConfig (owned by ``initial.owner``)."""
    portal_addr, _ = await deploy(sender, portal.creation_code())
    sysconfig_addr, block = await deploy(sender, system_config.creation_code(initial))
    return L1Deployment(portal_addr, sysconfig_addr, initial.owner, block)


async def deploy_forwarder(sender) -> bytes:
    return (await deploy(sender, forwarder_creation_code()))[0]


async def deploy_counter(sender) -> bytes:
    return (await deploy(sender, counter_creation_code()))[0]
