"""Peer scores as op-node's ``--p2p.scoring=light`` keeps them (sans-IO: the service feeds events and the clock).

op-node (p2p/peer_params.go ``LightPeerScoreParams``, ``GetScoringParams``; 2026 file index and the optimism git
snapshot of 2024-10-25, d317e96) hands go-libp2p-pubsub these block-topic parameters, with ``slot`` the L2 block
time (2 s if 0) and an epoch of 6 slots::

    TopicWeight 0.8, TopicScoreCap 34
    FirstMessageDeliveries  weight 1, cap 23, decay ScoreDecay(20 epochs)
    InvalidMessageDeliveries weight -140.4475 (applied to the counter squared), decay ScoreDecay(50 epochs)
    DecayInterval = slot, DecayToZero 0.01, RetainScore = 100 epochs
    ScoreDecay(d) = 0.01 ** (1 / (d / slot)); thresholds: gossip -10, publish -40, graylist -40

so one invalid block (a validator REJECT) takes a peer to 0.8 * -140.4475 = -112.4: below the graylist threshold
(its later messages are dropped unvalidated, for about 34 slots) and below the default ``--p2p.ban.threshold`` of
-100 for about 4 slots, in which the peer monitor (:mod:`p2p.peers`, one peer a second) bans it if it gets to it
(op-node's monitor reads a score snapshot up to a minute old: there a single invalid block rarely bans). The
counter halves in about 45 slots (the squared penalty falls to a quarter) and is gone (below 0.01) after 50 epochs. A peer's score is the sum over the block topics of ``TopicWeight *
(P2 + P4)``, capped above at ``TopicScoreCap``, plus the application score (op-node's is req-resp sync's, which
opnode does not run: 0).

What is not modelled from go-libp2p-pubsub: time in mesh (P1, at most +10), mesh delivery deficits and mesh failures
(P3, P3b), behaviour penalties for broken IWANT promises (P5) and IP colocation (P6: every devnet peer shares
127.0.0.1). op-node scores only its V1 blocks topic (its parameter map predates the V2-V4 topics); here every block
topic is scored, so invalid blocks on today's topic cost what op-node meant them to cost. ``none``: every score is
0 and nobody is graylisted or banned (op-node then passes no scoring options to gossipsub).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

Record = dict[str, dict[str, float]]  # {"first": {topic: n}, "invalid": {topic: n}}

DECAY_TO_ZERO = 0.01
TOPIC_WEIGHT = 0.8
TOPIC_SCORE_CAP = 34.0
FIRST_DELIVERIES_WEIGHT = 1.0
FIRST_DELIVERIES_CAP = 23.0
INVALID_DELIVERIES_WEIGHT = -140.4475
GOSSIP_THRESHOLD = -10.0
PUBLISH_THRESHOLD = -40.0
GRAYLIST_THRESHOLD = -40.0


def score_decay(duration: float, slot: float) -> float:
    """op-node ``ScoreDecay``: the per-slot factor that takes a value to 1% over ``duration``."""
    return float(DECAY_TO_ZERO ** (1 / int(duration // slot)))


@dataclass(frozen=True, slots=True)
class LightParams:
    slot: float
    first_decay: float
    invalid_decay: float
    retain: float

    @classmethod
    def for_block_time(cls, block_time: int) -> LightParams:
        slot = float(block_time or 2)
        epoch = 6 * slot
        return cls(slot=slot, first_decay=score_decay(20 * epoch, slot), invalid_decay=score_decay(50 * epoch, slot),
                   retain=100 * epoch)


class PeerScores:
    """Per-peer, per-topic counters (first deliveries, invalid deliveries) decayed once per slot of wall time."""

    def __init__(self, block_time: int, topics: Iterable[str], clock: Callable[[], float], *, enabled: bool = True):
        self.params = LightParams.for_block_time(block_time)
        self.topics = tuple(topics)
        self.enabled = enabled
        self._clock = clock
        self._first: dict[str, dict[str, float]] = {}
        self._invalid: dict[str, dict[str, float]] = {}
        self._decayed_at = clock()

    # ------------------------------------------------------------------------------------------ events

    def on_first_delivery(self, peer: str, topic: str) -> None:
        """``peer`` was the first to deliver a message the validator accepted."""
        if self.enabled and topic in self.topics:
            self._catch_up()
            counts = self._first.setdefault(peer, {})
            counts[topic] = min(counts.get(topic, 0.0) + 1, FIRST_DELIVERIES_CAP)

    def on_invalid(self, peer: str, topic: str) -> None:
        """``peer`` delivered a message the validator rejected (REJECT; an IGNORE costs nothing)."""
        if self.enabled and topic in self.topics:
            self._catch_up()
            counts = self._invalid.setdefault(peer, {})
            counts[topic] = counts.get(topic, 0.0) + 1

    # ------------------------------------------------------------------------------------------ reading

    def score(self, peer: str) -> float:
        if not self.enabled:
            return 0.0
        self._catch_up()
        total = sum(TOPIC_WEIGHT * (FIRST_DELIVERIES_WEIGHT * self._first.get(peer, {}).get(t, 0.0)
                                    + INVALID_DELIVERIES_WEIGHT * self._invalid.get(peer, {}).get(t, 0.0) ** 2)
                    for t in self.topics)
        return min(total, TOPIC_SCORE_CAP)

    def graylisted(self, peer: str) -> bool:
        """go-libp2p-pubsub ignores every RPC of a peer below the graylist threshold."""
        return self.enabled and self.score(peer) < GRAYLIST_THRESHOLD

    def snapshot(self, peer: str) -> dict[str, Any]:
        """op-node's ``store.PeerScores`` JSON (``opp2p_peers``' ``scores``): the block-topic counters summed over
        the block topics; the parts not modelled read 0."""
        self._catch_up()
        first = sum(self._first.get(peer, {}).values()) if self.enabled else 0.0
        invalid = sum(self._invalid.get(peer, {}).values()) if self.enabled else 0.0
        return {"gossip": {"total": self.score(peer),
                           "blocks": {"timeInMesh": 0.0, "firstMessageDeliveries": first,
                                      "meshMessageDeliveries": 0.0, "invalidMessageDeliveries": invalid},
                           "IPColocationFactor": 0.0, "behavioralPenalty": 0.0},
                "reqResp": {"validResponses": 0.0, "errorResponses": 0.0, "rejectedPayloads": 0.0}}

    # ------------------------------------------------------------------------------------------ persistence

    def records(self) -> dict[str, Record]:
        """Every peer with a non-zero counter: ``{"first": {topic: n}, "invalid": {topic: n}}``."""
        self._catch_up()
        peers = set(self._first) | set(self._invalid)
        return {p: {"first": dict(self._first.get(p, {})), "invalid": dict(self._invalid.get(p, {}))}
                for p in sorted(peers)}

    def load(self, records: dict[str, Record], saved_at: float) -> None:
        """Counters saved at ``saved_at``, decayed for the slots since (go-libp2p-pubsub keeps decaying the score
        of a peer that left, for RetainScore)."""
        for peer, rec in records.items():
            for attr, key in ((self._first, "first"), (self._invalid, "invalid")):
                counts = {t: float(v) for t, v in rec.get(key, {}).items() if t in self.topics}
                if counts:
                    attr[peer] = counts
        self._decay(int(max(0.0, self._clock() - saved_at) // self.params.slot))

    # ------------------------------------------------------------------------------------------ decay

    def _catch_up(self) -> None:
        ticks = int((self._clock() - self._decayed_at) // self.params.slot)
        if ticks > 0:
            self._decayed_at += ticks * self.params.slot
            self._decay(ticks)
        elif ticks < 0:  # the clock went back: start counting from now
            self._decayed_at = self._clock()

    def _decay(self, ticks: int) -> None:
        if ticks <= 0:
            return
        for table, factor in ((self._first, self.params.first_decay), (self._invalid, self.params.invalid_decay)):
            f = math.pow(factor, ticks)
            for peer in list(table):
                counts = {t: v * f for t, v in table[peer].items() if v * f >= DECAY_TO_ZERO}
                if counts:
                    table[peer] = counts
                else:
                    del table[peer]
