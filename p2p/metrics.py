"""What the p2p service reports, as a protocol: ``opnode.node.metrics.Metrics`` implements it under op-node's names
(``p2p_peer_count``, ``p2p_gossip_events_total{type}``, ``peer_scores{type}``, ``p2p_peer_unbans``), and p2p never
imports opnode."""

from __future__ import annotations

from typing import Protocol


class GossipMetrics(Protocol):
    def record_gossip_event(self, event: str) -> None:
        """One go-libp2p-pubsub trace event by its name (PUBLISH_MESSAGE, REJECT_MESSAGE, ...)."""

    def record_gossip_validation(self, outcome: str, reason: str) -> None:
        """One validator verdict (ACCEPT/IGNORE/REJECT) and its reason label."""

    def set_peer_count(self, count: int) -> None:
        """Connected peers."""

    def set_stream_count(self, count: int) -> None:
        """Open libp2p streams (op-node ``p2p_stream_count``)."""

    def set_peer_scores(self, scores: list[dict]) -> None:
        """The connected peers' scores (op-node's ``store.PeerScores`` JSON), observed into ``peer_scores{type}``
        (op-node ``SetPeerScores``, every minute)."""

    def record_peer_unban(self) -> None:
        """A peer ban expired (``p2p_peer_unbans``)."""

    def record_ip_unban(self) -> None:
        """An IP ban expired (``p2p_ip_unbans``)."""


class NoMetrics:
    def record_gossip_event(self, event: str) -> None:
        pass

    def record_gossip_validation(self, outcome: str, reason: str) -> None:
        pass

    def set_peer_count(self, count: int) -> None:
        pass

    def set_stream_count(self, count: int) -> None:
        pass

    def set_peer_scores(self, scores: list[dict]) -> None:
        pass

    def record_peer_unban(self) -> None:
        pass

    def record_ip_unban(self) -> None:
        pass
