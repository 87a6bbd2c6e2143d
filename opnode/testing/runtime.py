"""Helpers for runtime tests: an in-memory L1 world whose rollup config matches a real embedded engine, and a node
(engine client, controller, providers, pipeline, driver) built around one engine."""

from __future__ import annotations

import dataclasses

from derivation.pipeline import Pipeline
from derivation.protocol.types import BlockID
from derivation.providers import DataKind
from engine.client import EngineClient
from engine.controller import EngineController
from engine.execution.chain import Chain
from engine.execution.op_genesis import build_op_genesis, rollup_config_for
from engine.heads import Outcome
from opnode.node.runtime.driver import Driver
from opnode.node.runtime.l1_data import NotYetOnL1
from opnode.node.runtime.l2_data import NodeL2Source
from opnode.node.sync_status import SyncStatusTracker
from opnode.testing.engine import addr
from opnode.testing.harness import World
from opnode.testing.harness.world import DEPOSIT_CONTRACT, GENESIS_TIME, L1_CHAIN, SYSTEM_CONFIG

SECRET = b"\x42" * 32


class MemoryL1Source:
    """The in-memory L1 behind the node's L1 provider interface."""

    def __init__(self, l1):
        self.l1 = l1

    def __getattr__(self, name):
        return getattr(self.l1, name)

    def confirmed_head(self):
        return self.l1.head.number

    async def fetch(self, req):
        if req.kind is DataKind.L1_BLOCK_BY_NUMBER and req.key > self.l1.head.number:
            raise NotYetOnL1("beyond head")
        raise AssertionError(f"in-memory L1 lacks {req}")

    def forget_numbers(self):
        pass


def make_world(forks, **overrides):
    """An in-memory L1 world whose rollup config matches a real engine genesis."""
    built = {}

    def make_cfg(l1_genesis: BlockID, batcher: bytes):
        times = {f: GENESIS_TIME + t for f, t in forks.items()}
        g = built["genesis"] = build_op_genesis(901, GENESIS_TIME, times, funded={addr(0): 10**24})
        cfg = rollup_config_for(g, Chain(g).head.hash, l1_genesis=l1_genesis, l1_chain_id=900, batcher=batcher,
                                deposit_contract=DEPOSIT_CONTRACT, system_config_address=SYSTEM_CONFIG)
        return dataclasses.replace(cfg, **overrides)

    w = World(make_cfg=make_cfg)
    return w, built["genesis"]


class Node:
    def __init__(self, w: World, url: str, derive: bool, metrics=None, **ctrl_options):
        """``metrics``: the engine client's MetricsSink (``Metrics.rpc_client("engine-api")``); ``ctrl_options``: the
        engine controller's keyword options (a supernode chain's ``cross_safe_gate``, ``denied``)."""
        self.client = EngineClient(url, SECRET, w.cfg, metrics=metrics)
        self.ctrl = EngineController(w.cfg, self.client, **ctrl_options)
        self.status = SyncStatusTracker()
        self.ctrl.subscribe(self.status.on_l2)
        self.l2 = NodeL2Source(w.cfg, self.client, controller=self.ctrl)
        self.l1 = MemoryL1Source(w.l1)
        self.outcomes: list[Outcome] = []
        self.events = []
        self.pipeline = Pipeline(w.cfg, L1_CHAIN, self.l1, self.l2, self.events.append)
        self.driver = Driver(w.cfg, pipeline=self.pipeline, ctrl=self.ctrl, l1=self.l1, l2=self.l2,
                             l1_finalized=lambda: w.l1.canonical[max(0, len(w.l1.canonical) - 3)].info.ref,
                             derive=derive, status=self.status, on_attributes=lambda a, o: self.outcomes.append(o))
