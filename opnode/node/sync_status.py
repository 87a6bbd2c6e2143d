"""``optimism_syncStatus``: the node's view of L1 and L2 heads (op-service/eth/sync_status.go), and the one tracker
that owns it (:class:`SyncStatusTracker`).

Eleven fields, always all present in op-node's output, zero refs where a head is not known yet
(``{"hash": "0x00…", "number": 0, "parentHash": "0x00…", "timestamp": 0}`` plus ``l1origin``/``sequenceNumber``
for L2 refs). ``current_l1_finalized`` is deprecated and equals ``finalized_l1``.

Parsing is tolerant in the ways real sources differ: kona omits ``pending_safe_l2``; proxyd re-marshals the body
through a ``map[string]interface{}`` (keys sorted, numbers through float64); Go decodes missing keys and ``null`` as
zero values and matches keys case-insensitively. Anything else (a ref that is not an object, a bad hash) is a
:class:`SyncStatusError`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from derivation.protocol.errors import ParseError
from derivation.protocol.types import ZERO_L1_REF, ZERO_L2_REF, L1BlockRef, L2BlockRef
from engine.controller import ForkchoiceSynced, HeadsEvent

L1_FIELDS = ("current_l1", "current_l1_finalized", "head_l1", "safe_l1", "finalized_l1")
L2_FIELDS = ("unsafe_l2", "safe_l2", "finalized_l2", "pending_safe_l2", "cross_unsafe_l2", "local_safe_l2")
FIELDS = L1_FIELDS + L2_FIELDS  # op-node's field order


class SyncStatusError(ParseError):
    """A sync status that cannot be read."""


@dataclass(frozen=True, slots=True)
class SyncStatus:
    current_l1: L1BlockRef = ZERO_L1_REF  # the L1 block derivation last idled at (or the follow source's)
    current_l1_finalized: L1BlockRef = ZERO_L1_REF  # deprecated: = finalized_l1
    head_l1: L1BlockRef = ZERO_L1_REF
    safe_l1: L1BlockRef = ZERO_L1_REF
    finalized_l1: L1BlockRef = ZERO_L1_REF
    unsafe_l2: L2BlockRef = ZERO_L2_REF
    safe_l2: L2BlockRef = ZERO_L2_REF  # cross-safe
    finalized_l2: L2BlockRef = ZERO_L2_REF
    pending_safe_l2: L2BlockRef = ZERO_L2_REF
    cross_unsafe_l2: L2BlockRef = ZERO_L2_REF
    local_safe_l2: L2BlockRef = ZERO_L2_REF

    def replace(self, **changes) -> SyncStatus:
        return dataclasses.replace(self, **changes)

    def to_json(self) -> dict:
        return {name: getattr(self, name).to_json() for name in FIELDS}

    @classmethod
    def from_json(cls, d) -> SyncStatus:
        if not isinstance(d, dict):
            raise SyncStatusError(f"sync status must be a JSON object, got {type(d).__name__}")
        folded = {k.lower(): v for k, v in d.items() if isinstance(k, str)}
        values = {}
        for name in FIELDS:
            raw = folded.get(name)
            if raw is None:
                continue
            if not isinstance(raw, dict):
                raise SyncStatusError(f"sync status field {name} must be an object, got {type(raw).__name__}")
            ref_type = L1BlockRef if name in L1_FIELDS else L2BlockRef
            try:
                values[name] = _ref_from_json(ref_type, raw)
            except ParseError as e:
                raise SyncStatusError(f"sync status field {name}: {e}") from None
        return cls(**values)


def _ref_from_json(ref_type, raw: dict):
    """A ref with Go's leniency: missing members are zero, keys match case-insensitively."""
    folded = {k.lower(): v for k, v in raw.items() if isinstance(k, str)}
    zero = ZERO_L1_REF.to_json() if ref_type is L1BlockRef else ZERO_L2_REF.to_json()
    full = {}
    for key, default in zero.items():
        v = folded.get(key.lower())
        full[key] = default if v is None else v
    if ref_type is L2BlockRef:
        origin = full["l1origin"]
        if not isinstance(origin, dict):
            raise ParseError("l1origin must be an object")
        o = {k.lower(): v for k, v in origin.items() if isinstance(k, str)}
        full["l1origin"] = {"hash": o.get("hash") or zero["l1origin"]["hash"], "number": o.get("number") or 0}
    return ref_type.from_json(full)


class SyncStatusTracker:
    """The one owner of what ``optimism_syncStatus`` reports (op-node ``status.StatusTracker``,
    op-node/rollup/status/status.go at optimism@021e9e05). The others report into it and never assemble a status:
    the L1 head tracker (:meth:`on_l1`), the engine controller (:meth:`on_l2`, subscribed with
    ``ctrl.subscribe``), derivation or the follow source (:meth:`on_current_l1`); :meth:`status` is one snapshot.

    As op-node: unsafe, safe and finalized are published when the engine took them in a forkchoice update
    (``ForkchoiceUpdateEvent``; local-safe follows safe up), pending-safe, local-safe and cross-unsafe as the
    controller sets them, and every L2 head on a reset (``EngineResetConfirmedEvent``).

    Never backwards except by an L1 reorg (what proxyd bans a node for; issue 18's invariant), which op-node does not
    guarantee: finalized holds because it is published only once the engine holds it and a reset keeps the engine's
    finalized label. Safe does not by itself, since a reset (and so every restart) walks the safe head back a
    sequencing window; :meth:`hold` takes the safe head the safe DB last recorded, checked canonical by the caller,
    and reports it (local-safe at least as high) until derivation reaches it again.
    """

    def __init__(self) -> None:
        self._status = SyncStatus()
        self._held: L2BlockRef | None = None

    def status(self) -> SyncStatus:
        st, held = self._status, self._held
        if held is None or held.number <= st.safe_l2.number:
            return st
        local = held if st.local_safe_l2.number < held.number else st.local_safe_l2
        return st.replace(safe_l2=held, local_safe_l2=local)

    def hold(self, safe: L2BlockRef | None) -> None:
        """Report at least ``safe`` (a safe head already reported, still canonical) until derivation is past it;
        ``None`` drops the hold (a reset decides again)."""
        self._held = safe

    def on_l1(self, name: str, ref: L1BlockRef) -> None:
        """The L1 view's ``head``, ``safe`` or ``finalized`` moved."""
        if name == "head":
            self._status = self._status.replace(head_l1=ref)
        elif name == "safe":
            self._status = self._status.replace(safe_l1=ref)
        elif name == "finalized":
            self._status = self._status.replace(finalized_l1=ref, current_l1_finalized=ref)
        else:
            raise ValueError(f"unknown L1 head {name!r}")

    def on_current_l1(self, ref: L1BlockRef | None) -> None:
        """The L1 block derivation is at (op-node ``DeriverL1StatusEvent``), or the follow source's."""
        if ref is not None and ref != self._status.current_l1:
            self._status = self._status.replace(current_l1=ref)

    def on_l2(self, ev: HeadsEvent) -> None:
        """The engine controller's observer."""
        st = self._status
        if isinstance(ev, ForkchoiceSynced):
            h = ev.heads
            local = h.safe if st.local_safe_l2.number < h.safe.number else st.local_safe_l2
            new = st.replace(unsafe_l2=h.unsafe, safe_l2=h.safe, finalized_l2=h.finalized, local_safe_l2=local)
        elif ev.reset:
            h = ev.new
            new = st.replace(unsafe_l2=h.unsafe, cross_unsafe_l2=h.cross_unsafe, local_safe_l2=h.local_safe,
                             pending_safe_l2=h.pending_safe, safe_l2=h.safe, finalized_l2=h.finalized)
        else:
            h = ev.new
            new = st.replace(pending_safe_l2=h.pending_safe, local_safe_l2=h.local_safe,
                             cross_unsafe_l2=h.cross_unsafe)
        if new != st:
            self._status = new
        if self._held is not None and new.safe_l2.number >= self._held.number:
            self._held = None
