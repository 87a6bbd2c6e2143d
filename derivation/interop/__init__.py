"""Interop rules a supernode verifies, pure (no I/O, no clocks; imports only ``derivation.protocol``).

- ``messages``: the CrossL2Inbox ``ExecutingMessage`` event, message identifiers, payload/log hashes and the
  type-3 message checksum;
- ``dependency_set``: op-node's dependency-set JSON and the message expiry window;
- ``validity``: the checks of one executing message against a view of initiating logs (valid / invalid / wait),
  and one supernode round over the blocks of a timestamp (``check_frontier``: messages, then cycles);
- ``cycles``: same-timestamp cycle detection across the chains of a set;
- ``cross_safe``: which local-safe blocks become cross-safe given what they depend on;
- ``super_root``: super root v1 over a set and the ``superroot_atTimestamp`` response shape.

Sources (newest read, Dec 2026): specs ``specs/interop/`` @fd72cf79 (2026-04-28); op-core ``interop/messages``,
``interop/depset`` (ethereum-optimism/optimism file index, 2026); op-supernode ``activity/interop`` (karlfloersch/optimism
@f0b2b80e, 2026-04-22); kona ``crates/protocol/interop`` (ethereum-optimism/optimism ``rust/kona``, ``rules.rs``
@a350dfec, ``graph.rs`` @04a5ca97).
"""
