"""Helpers for p2p tests: real services on 127.0.0.1, a metrics recorder, bounded waits."""

from __future__ import annotations

import dataclasses
import socket
import time
from collections import Counter
from collections.abc import Callable

import trio

from derivation.protocol.crypto import keccak256
from derivation.protocol.rollup_config import Fork, RollupConfig
from p2p.config import P2PConfig
from p2p.service import GossipService
from p2p.signing import LocalSigner
from p2p.validation import Outcome, Reason, Verdict
from tests.p2p.gossip_vectors import chain

SEQUENCER = LocalSigner(keccak256(b"opnode p2p service tests: sequencer"))


class RecordingMetrics:
    def __init__(self):
        self.events: Counter[str] = Counter()
        self.validations: Counter[tuple[str, str]] = Counter()
        self.peer_count = 0
        self.peer_counts: list[int] = []  # every value set, in order
        self.stream_count = 0
        self.peer_scores: list[dict] = []
        self.unbans: Counter[str] = Counter()

    def record_gossip_event(self, event: str) -> None:
        self.events[event] += 1

    def record_gossip_validation(self, outcome: str, reason: str) -> None:
        self.validations[(outcome, reason)] += 1

    def set_peer_count(self, count: int) -> None:
        self.peer_count = count
        self.peer_counts.append(count)

    def set_stream_count(self, count: int) -> None:
        self.stream_count = count

    def set_peer_scores(self, scores: list[dict]) -> None:
        self.peer_scores = scores

    def record_peer_unban(self) -> None:
        self.unbans["peer"] += 1

    def record_ip_unban(self) -> None:
        self.unbans["ip"] += 1


def chain_where_now_is(version_fork: Fork) -> RollupConfig:
    """op-sepolia with every fork after ``version_fork`` unscheduled, so blocks made now use its topic."""
    cfg = chain("op-sepolia")
    times = {f: t for f, t in cfg.fork_times.items() if f <= version_fork}
    return dataclasses.replace(cfg, fork_times=times)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_service(cfg: RollupConfig, tmp_path, name: str, *, port: int = 0, static: tuple[str, ...] = (),
                 sequencer: bool = False, metrics: RecordingMetrics | None = None, redial: float = 0.2,
                 **kwargs) -> GossipService:
    kwargs.setdefault("peerstore_path", "memory")
    config = P2PConfig(listen_ip="127.0.0.1", listen_tcp=port, priv_path=str(tmp_path / f"{name}.key"),
                       static_peers=static, sequencer_key=SEQUENCER if sequencer else None,
                       static_redial_seconds=redial, **kwargs)
    return GossipService(cfg, config, unsafe_block_signer=SEQUENCER.address, metrics=metrics or RecordingMetrics())


def address_of(service: GossipService) -> str:
    return str(service.host.get_addrs()[0])


async def wait_until(condition: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await trio.sleep(0.02)


def accept_everything(service: GossipService) -> None:
    """Make a node relay whatever it publishes (an attacker: op-node nodes validate their own messages)."""
    service.pubsub._validate = lambda topic, data, forwarder: Verdict(Outcome.ACCEPT, Reason.ACCEPTED)
