"""The rollup config the targets decode against: OP Mainnet's (every fork from Bedrock to the newest it schedules)."""

from opnode.node.networks import load_rollup_config

CONFIG = load_rollup_config("op-mainnet")
