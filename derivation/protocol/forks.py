"""The OP Stack fork schedule: the forks in activation order and the one activation rule, shared by the rollup
config (derivation, the node) and the execution engine's chain spec.

Rule (kona ``RollupConfig::is_*_active`` in ``crates/protocol/genesis/src/rollup.rs``, which checks each fork as
"own time or a later fork's time"; superchain-registry ``hardforks``; op-node ``rollup.Config.IsX`` agrees for
ordered configs, which ``RollupConfig.check`` enforces): a fork is active at ``t`` when its own time, or the time
of any later fork, is set and ``<= t`` (a config that schedules Jovian at genesis runs every earlier fork too).
Bedrock is the base and always active. Which clock a rule reads (L2 block time, L1 origin time, inclusion time) is
stated where the rule is applied.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import IntEnum

from derivation.protocol.errors import ParseError


class Fork(IntEnum):
    """OP Stack forks in activation order. Bedrock is the base and always active."""

    BEDROCK = 0
    REGOLITH = 1
    CANYON = 2
    DELTA = 3
    ECOTONE = 4
    FJORD = 5
    GRANITE = 6
    HOLOCENE = 7
    ISTHMUS = 8
    JOVIAN = 9
    KARST = 10
    LAGOON = 11  # the interop fork, called "Interop" until 2026: ``interop_time`` is accepted for ``lagoon_time``

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, name: str) -> Fork:
        key = name.strip().lower()
        if key == "interop":
            return cls.LAGOON
        try:
            return cls[key.upper()]
        except KeyError:
            raise ParseError(f"unknown fork {name!r} (known: {', '.join(f.label for f in cls)})") from None


SCHEDULED_FORKS = tuple(f for f in Fork if f != Fork.BEDROCK)
# Forks whose activation block takes no batch (sequencer) transactions, only deposits (and the post-exec
# transaction): op-node checkSingularBatch ("Future forks that contain upgrade transactions must be added here"),
# karlfloersch/optimism@da174e56 2026-06-02; alloy-op-evm ``OpHardforks::is_no_user_tx_activation_block`` (2026-11).
EMPTY_ACTIVATION_FORKS = (Fork.JOVIAN, Fork.KARST, Fork.LAGOON)


class ForkSchedule:
    """The activation rule over ``fork_times`` (unscheduled forks absent), mixed into every config that carries
    fork times so that there is one ``is_active``."""

    __slots__ = ()
    fork_times: Mapping[Fork, int]

    def fork_time(self, fork: Fork) -> int | None:
        """The fork's own scheduled time (0 for Bedrock), None when unscheduled."""
        return 0 if fork == Fork.BEDROCK else self.fork_times.get(fork)

    def activation_time(self, fork: Fork) -> int | None:
        """When ``fork`` becomes active: the earliest time set for it or for a later fork."""
        if fork == Fork.BEDROCK:
            return 0
        times = [t for f, t in self.fork_times.items() if f >= fork and t is not None]
        return min(times) if times else None

    def is_active(self, fork: Fork, timestamp: int) -> bool:
        """Fork ``fork`` (or a later scheduled one) is active at ``timestamp``."""
        if fork == Fork.BEDROCK:
            return True
        # Walks the few scheduled forks rather than every later Fork member: derivation asks this several times
        # per block, and building enum members per call was a visible share of the pipeline's time.
        for f, t in self.fork_times.items():
            if f >= fork and t is not None and timestamp >= t:
                return True
        return False

    def activates(self, fork: Fork, timestamp: int, parent_time: int) -> bool:
        """A block at ``timestamp`` whose parent is at ``parent_time`` is the first one with ``fork`` active."""
        at = None if fork == Fork.BEDROCK else self.activation_time(fork)  # Bedrock is active from the start
        return at is not None and parent_time < at <= timestamp

    def active_fork(self, timestamp: int, among: Iterable[Fork] = Fork) -> Fork:
        """The newest fork of ``among`` active at ``timestamp`` (Bedrock when none is)."""
        for f in sorted(among, reverse=True):
            if self.is_active(f, timestamp):
                return f
        return Fork.BEDROCK
