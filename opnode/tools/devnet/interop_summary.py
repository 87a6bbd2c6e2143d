"""The checks of ``opnode devnet --interop`` (issue 16), each ``{"ok": bool, ...details}``, read from the running
nodes before they stop:

- ``valid_messages_cross_safe``: every valid message the traffic executed is, at the end, in its chain's cross-safe
  chain at the supernode (the transaction in a block at or below ``safe_l2`` of ``/<chainID>``, that block on the
  supernode's chain), at least one relay and one direct ``validateMessage``; a message whose block is still above
  cross-safe when the run ends (derived or not yet at the supernode) is ``pending``, which fails only when no message of its kind is cross-safe;
- ``invalid_blocks_replaced``: every invalid message the traffic got included (``--faults``) is gone from every node of
  its chain (supernode, light nodes, the light sequencer): the block at that height has another hash, the transaction
  is in no block, and the supernode's cross-safe head is past it (specs interop/derivation.md §Replacing Invalid
  Blocks); each fault must be alone in its block (else one fault could hide another: the verifier names one
  reason per block) and its block invalidated for the rule the fault breaks (the supernode's ``interop invalidate``
  log lines, reasons of derivation/interop/validity.py ``Reason``); a fault the inbox itself refused (reverted: no
  ``ExecutingMessage``) is listed and fails the check;
- ``safe_chains_equal``: per chain, every node's safe chain (block 1 to its ``safe_l2``) equals the supernode's
  chain hash by hash;
- ``super_root``: ``superroot_atTimestamp`` at the supernode's ``safe_timestamp`` (or the light sequencers' safe
  time, when lower) equals super root v1 (specs interop/superroot.md) recomputed from each chain's
  ``optimism_outputAtBlock`` served by its light sequencer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx

from derivation.interop.super_root import super_root_v1
from derivation.protocol.hexutil import from_hex, to_hex
from derivation.protocol.rollup_config import RollupConfig
from opnode.jsonrpc.errors import RpcError, TransportError
from opnode.tools.devnet.summary import JsonRpc, NodeRef, check_safe_chains

# The rule each fault of interop_traffic.py breaks, as validity.py names it. A wrong log index points at no log or at
# another log (then its checksum differs); a replaced initiating block has no log there, or another one.
EXPECTED_REASONS = {
    "wrong_log_index": {"initiating-log-not-found", "checksum-mismatch"},
    "wrong_payload_hash": {"checksum-mismatch"},
    "future_timestamp": {"initiating-timestamp-after-executing-timestamp"},
    "chain_not_in_set": {"initiating-chain-not-in-dependency-set"},
    "expired": {"message-expired"},
    "same_timestamp_cycle": {"same-timestamp-cycle"},
    # a cycle attempt whose transactions missed the planned block: their identifiers point at the wrong place
    "same_timestamp_cycle_missed": {"initiating-log-not-found", "checksum-mismatch", "same-timestamp-cycle"},
    "depends_on_invalidated": {"initiating-log-not-found", "checksum-mismatch"},
}
_INVALIDATED = re.compile(r"chain (\d+) block (\d+): invalid: ([a-z-]+)")
_READ_ERRORS = (RpcError, TransportError, httpx.HTTPError, RuntimeError, ValueError, KeyError, TypeError)


@dataclass(frozen=True, slots=True)
class ChainNodes:
    """One chain's endpoints: the supernode's route and engine, its light sequencer, its light nodes."""

    chain_id: int
    cfg: RollupConfig
    route: str  # the supernode's /<chainID>
    source_engine: str  # the supernode's engine of this chain
    sequencer: NodeRef
    lights: tuple[NodeRef, ...]

    @property
    def followers(self) -> list[NodeRef]:
        return [self.sequencer, *self.lights]


def check_valid(rpc: JsonRpc, chains: dict[int, ChainNodes], safe: dict[int, int], valid: list[dict]) -> dict:
    out: dict = {"ok": True, "messages": [], "cross_safe_by_kind": {"relay": 0, "validate": 0}}
    for m in valid:
        c = chains[m["chain_id"]]
        r = rpc.call(c.source_engine, "eth_getTransactionReceipt", m["tx"])
        # not (yet) at the supernode's engine: pending if the sequencer put it above cross-safe (a block the
        # supernode has not derived when the run ends), missing otherwise
        state = "pending" if m.get("block_number", 0) > safe[c.chain_id] else "missing"
        if isinstance(r, dict) and r.get("blockHash"):
            n = int(r["blockNumber"], 16)
            b = rpc.call(c.source_engine, "eth_getBlockByNumber", hex(n), False)
            on_chain = b is not None and b["hash"] == r["blockHash"]
            state = ("reverted" if r.get("status") != "0x1" else "missing" if not on_chain
                     else "cross-safe" if n <= safe[c.chain_id] else "pending")
        if state == "cross-safe":
            out["cross_safe_by_kind"][m["kind"]] += 1
        elif state != "pending":
            out["ok"] = False
        out["messages"].append({"kind": m["kind"], "chain_id": m["chain_id"], "tx": m["tx"], "state": state})
    out["ok"] = out["ok"] and all(v > 0 for v in out["cross_safe_by_kind"].values())
    return out


def parse_invalidations(log_text: str) -> dict[tuple[int, int], list[str]]:
    """(chain, block number) -> the reasons the supernode logged invalidating a block there (``interop invalidate``
    lines; a height can be invalidated more than once: a replacement is verified again)."""
    out: dict[tuple[int, int], list[str]] = {}
    for line in log_text.splitlines():
        if "interop invalidate" in line:
            for c, n, reason in _INVALIDATED.findall(line):
                out.setdefault((int(c), int(n)), []).append(reason)
    return out


def check_invalid(rpc: JsonRpc, chains: dict[int, ChainNodes], safe: dict[int, int], invalid: list[dict],
                  faults: bool, reasons: dict[tuple[int, int], list[str]] | None = None) -> dict:
    out: dict = {"ok": not faults or bool(invalid), "faults": []}
    blocks = [(m["chain_id"], m["block_hash"]) for m in invalid if m["block_hash"]]
    for m in invalid:
        c = chains[m["chain_id"]]
        n, orig = m["block_number"], m["block_hash"]
        entry: dict = {"fault": m["kind"], "chain_id": c.chain_id, "block": n, "tx": m["tx"], "nodes": {}}
        if m["status"] != 1 or n is None:
            entry["ok"] = False
            entry["why"] = "not included" if n is None else "reverted by the inbox: no ExecutingMessage emitted"
        else:
            ok = safe[c.chain_id] >= n
            for name, url in [("supernode", c.source_engine)] + [(f.name, f.engine_rpc) for f in c.followers]:
                b = rpc.call(url, "eth_getBlockByNumber", hex(n), False)
                r = rpc.call(url, "eth_getTransactionReceipt", m["tx"])
                gone = r is None or not r.get("blockHash")
                node_ok = b is not None and b["hash"] != orig and gone
                entry["nodes"][name] = {"ok": node_ok, "hash": b and b["hash"], "tx_in_chain": not gone}
                ok = ok and node_ok
            entry["alone_in_block"] = blocks.count((c.chain_id, orig)) == 1
            entry["reasons"] = (reasons or {}).get((c.chain_id, n), [])
            entry["expected_reason"] = sorted(EXPECTED_REASONS.get(m["kind"], ()))
            entry["right_reason"] = bool(EXPECTED_REASONS.get(m["kind"], set()) & set(entry["reasons"]))
            entry["ok"] = ok and entry["alone_in_block"] and entry["right_reason"]
            entry["cross_safe_past"] = safe[c.chain_id] >= n
        out["ok"] = out["ok"] and entry["ok"]
        out["faults"].append(entry)
    return out


def check_super_root(rpc: JsonRpc, supernode_rpc: str, chains: dict[int, ChainNodes]) -> dict:
    """At the latest timestamp the supernode verified and every light sequencer holds as safe: the supernode's
    super root against super root v1 of the sequencers' output roots (with both sides' block hashes, to explain a
    difference)."""
    ts = rpc.call(supernode_rpc, "supernode_syncStatus")["safe_timestamp"]
    for c in chains.values():
        ts = min(ts, rpc.call(c.sequencer.rpc, "optimism_syncStatus")["safe_l2"]["timestamp"])
    got = rpc.call(supernode_rpc, "superroot_atTimestamp", hex(ts))
    pairs, blocks = [], {}
    for cid in sorted(chains):
        c = chains[cid]
        number = c.cfg.genesis.l2.number + (ts - c.cfg.genesis.l2_time) // c.cfg.block_time
        o = rpc.call(c.sequencer.rpc, "optimism_outputAtBlock", hex(number))
        pairs.append((cid, from_hex(o["outputRoot"], 32)))
        src = rpc.call(c.source_engine, "eth_getBlockByNumber", hex(number), False)
        blocks[str(cid)] = {"number": number, "sequencer": o.get("blockRef", {}).get("hash"),
                            "supernode": src and src["hash"]}
    want = to_hex(super_root_v1(ts, pairs).root())
    have = (got.get("data") or {}).get("super_root")
    return {"ok": have == want, "timestamp": ts, "super_root": have, "recomputed": want, "blocks": blocks}


def summarize_interop(rpc: JsonRpc, *, supernode_rpc: str, chains: dict[int, ChainNodes], traffic: dict | None,
                      faults: bool, errors: list[str], supernode_log: str = "") -> dict:
    """``supernode_log``: the supernode's log so far (its invalidation decisions and their reasons)."""
    errors = list(errors)
    checks: dict[str, dict] = {}
    safe: dict[int, int] = {}
    node_safe: dict[str, int] = {}
    try:
        for cid, c in chains.items():
            safe[cid] = rpc.call(c.route, "optimism_syncStatus")["safe_l2"]["number"]
            for f in c.followers:
                node_safe[f.name] = rpc.call(f.rpc, "optimism_syncStatus")["safe_l2"]["number"]
    except _READ_ERRORS as e:
        errors.append(f"sync status unreadable: {e}")
    traffic = traffic or {"valid": [], "invalid": []}

    def equal_chains() -> dict:
        out: dict = {"ok": True, "chains": {}}
        for cid, c in chains.items():
            source = NodeRef(f"supernode/{cid}", "supernode", c.route, c.source_engine, None)
            r = check_safe_chains(rpc, source, c.followers, node_safe)
            out["chains"][str(cid)] = r
            out["ok"] = out["ok"] and r["ok"]
        return out

    for key, fn in (("valid_messages_cross_safe", lambda: check_valid(rpc, chains, safe, traffic["valid"])),
                    ("invalid_blocks_replaced",
                     lambda: check_invalid(rpc, chains, safe, traffic["invalid"], faults,
                                           parse_invalidations(supernode_log))),
                    ("safe_chains_equal", equal_chains),
                    ("super_root", lambda: check_super_root(rpc, supernode_rpc, chains))):
        try:
            checks[key] = fn()
        except _READ_ERRORS as e:
            checks[key] = {"ok": False, "error": f"{type(e).__name__}: {e}"}
            errors.append(f"{key}: {e}")
    return {"ok": all(c["ok"] for c in checks.values()) and not errors, "checks": checks, "errors": errors,
            "cross_safe": {str(c): n for c, n in safe.items()}}
