"""Block gossip topics and the payload version each one carries (rollup-node-p2p.md §Gossip Topics).

``/optimism/<chainId>/<v>/blocks``: v=0 before Canyon (blocksv1), 1 Canyon/Delta (blocksv2), 2 Ecotone through
Holocene (blocksv3, envelope with the parent beacon block root), 3 Isthmus and later (blocksv4, payload with
``withdrawalsRoot``; Jovian adds no topic). A block is published on the topic of the fork active at its L2
timestamp; every node subscribes to all four (op-node ``JoinGossip`` joins V1..V4 and keeps the old ones).
"""

from __future__ import annotations

from enum import IntEnum

from derivation.protocol.rollup_config import Fork, RollupConfig


class BlockVersion(IntEnum):
    """The payload shape of a topic; the value is the topic's number (op-service ``eth.BlockVersion``)."""

    V1 = 0
    V2 = 1
    V3 = 2
    V4 = 3

    @property
    def has_withdrawals(self) -> bool:
        return self >= BlockVersion.V2

    @property
    def has_blob_properties(self) -> bool:
        return self >= BlockVersion.V3

    @property
    def has_parent_beacon_block_root(self) -> bool:
        return self >= BlockVersion.V3

    @property
    def has_withdrawals_root(self) -> bool:
        return self >= BlockVersion.V4

    @property
    def label(self) -> str:
        return f"v{self.value + 1}"


def version_for_timestamp(cfg: RollupConfig, timestamp: int) -> BlockVersion:
    """The topic a block with this L2 timestamp is published on (op-node ``SingleChainGossip.BlockVersion``)."""
    if cfg.is_active(Fork.ISTHMUS, timestamp):
        return BlockVersion.V4
    if cfg.is_active(Fork.ECOTONE, timestamp):
        return BlockVersion.V3
    if cfg.is_active(Fork.CANYON, timestamp):
        return BlockVersion.V2
    return BlockVersion.V1


def blocks_topic(chain_id: int, version: BlockVersion) -> str:
    return f"/optimism/{chain_id}/{int(version)}/blocks"


def all_blocks_topics(chain_id: int) -> dict[str, BlockVersion]:
    """Every block topic of the chain with its version: what a node subscribes to and accepts subscriptions for."""
    return {blocks_topic(chain_id, v): v for v in BlockVersion}
