"""Start-up checks that come with the 2026 forks: a bundled config that stops describing its chain (Base after
Azul, spec-vectors/network_schedule.json) refuses to start once the L1 or L2 head is past that time, and a plain
source node of a chain in a multi-chain interop dependency set warns once that it derives without cross-chain
checks (docs.optimism.io notices/interop-prep: run op-supernode or a light node following one)."""

from __future__ import annotations

import dataclasses
import logging

import pytest

from derivation.protocol.types import L1BlockRef
from opnode.node.config import FollowSourceConfig
from opnode.node.networks import load_rollup_config
from opnode.node.runtime.node import OpNode, StartupError
from tests.vectors import load

SCHEDULE = load("network_schedule.json")


class _L1:
    def __init__(self, time: int):
        self.time = time

    async def block_ref_by_label(self, label: str) -> L1BlockRef:
        assert label == "latest"
        return L1BlockRef(b"\x01" * 32, 100, b"\x02" * 32, self.time)


class _Engine:
    def __init__(self, time: int | None):
        self.time = time

    async def block(self, tag, full=False):
        assert tag == "latest"
        return None if self.time is None else {"timestamp": hex(self.time)}


def _node(network: str, follow: bool = False) -> OpNode:
    cfg = load_rollup_config(network=network)
    config = type("C", (), {})()
    config.rollup = cfg
    config.follow_source = FollowSourceConfig("http://source:9545", 10.0) if follow else None
    return OpNode(config)


@pytest.mark.parametrize("name", ["base-mainnet", "base-sepolia"])
async def test_base_refuses_to_start_past_azul(name):
    azul = SCHEDULE["base"]["chains"][name]["time"]
    node = _node(name)
    await node._check_derivation_limit(_L1(azul - 100), _Engine(azul - 102))  # before Azul: fine
    for l1_time, l2_time in ((azul, azul - 200), (azul - 12, azul + 2), (azul + 5, None)):
        with pytest.raises(StartupError) as e:
            await node._check_derivation_limit(_L1(l1_time), _Engine(l2_time))
        assert "Azul" in str(e.value) and "\n" not in str(e.value)


async def test_op_chains_have_no_limit():
    await _node("op-mainnet")._check_derivation_limit(_L1(2**40), _Engine(2**40))


def test_source_node_in_a_multi_chain_set_warns_once(caplog):
    caplog.set_level(logging.WARNING, logger="opnode.node")
    _node("op-sepolia")._interop_notice()
    warns = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warns) == 1 and "without cross-chain message checks" in warns[0].getMessage()
    assert "opnode supernode" in warns[0].getMessage() and "--l2.follow.source" in warns[0].getMessage()
    caplog.clear()
    _node("op-sepolia", follow=True)._interop_notice()  # a light node follows a supernode: nothing to say
    node = _node("op-sepolia")
    node.cfg = dataclasses.replace(node.cfg, dependency_set=None)
    node._interop_notice()
    _node("base-mainnet")._interop_notice()
    assert not caplog.records
