"""What a devnet run proved, for ``opnode devnet --json OUT`` and its exit code: the heads of every node over time
(samples) and the checks, each ``{"ok": bool, ...details}``:

- ``safe_chain_matches_sequencer``: every source's (and light node's) safe chain, block 1 to its safe head at the
  end, equals the sequencer's chain hash by hash (the point of a rollup node: it derives exactly what the sequencer
  built);
- ``forks_activated``: every scheduled fork after genesis has its activation block in every source's safe chain,
  stamped at the fork's time (block n-1 before it), holding the fork's upgrade deposits in order (Isthmus, Jovian,
  Karst's 31 from its NUT bundle; specs: protocol/<fork>/derivation.md §Network upgrade automation transactions).
  From Jovian the activation block holds deposits only (the L1-info deposit first, the origin's user deposits, the
  upgrade deposits last). Karst's activation block has the gas limit of its neighbours plus the bundle's gas
  (55,370,657), and the block after it is back to the system config's limit (``keep_karst_upgrade_gas`` only
  changes what a reset reads back from the activation block; specs: protocol/karst/derivation.md; op-node
  ``PreparePayloadAttributes``, ``upgradeGasToStrip``); a fork the run ended before is
  ``pending``, which is not a failure;
- ``deposits_included``: every ``TransactionDeposited`` log on canonical L1 whose block is at or below the L1 origin
  of a source's safe head is a deposit on that source's chain (matched by source hash; specs: deposits.md §Source
  hash computation);
- ``batches_by_da``: batcher transactions included on L1 by DA type (the batcher's ``batcher_status``); it passes
  when the DA asked for carried batches;
- ``dropped_by_reason``: the sources' ``derivation_drops_total{what,reason}`` counters from their ``/metrics``; with
  ``--faults`` it passes when drops were seen, without it always (drops then only explain, e.g. Holocene activation).

All reads are synchronous JSON-RPC over loopback, done while the nodes still run and before they are stopped.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from derivation.protocol.crypto import keccak256
from derivation.protocol.deposits import user_deposit_source_hash
from derivation.protocol.hexutil import from_hex, parse_quantity, to_hex
from derivation.protocol.rollup_config import Fork, RollupConfig
from derivation.protocol.upgrades import upgrade_gas, upgrade_transactions
from opnode.jsonrpc.client import SyncRpcClient
from opnode.jsonrpc.errors import RpcError, TransportError
from opnode.tools.l1contracts.portal import TRANSACTION_DEPOSITED

CHECKED_FORKS = (Fork.HOLOCENE, Fork.ISTHMUS, Fork.JOVIAN, Fork.KARST)
DEPOSIT = "0x7e"
_DROP_LINE = re.compile(r'^op_node_default_derivation_drops_total\{(?P<labels>[^}]*)\}\s+(?P<value>\S+)$')
_LABEL = re.compile(r'(\w+)="([^"]*)"')


class JsonRpc:
    """Synchronous JSON-RPC to the devnet's endpoints, with batches (the checks read hundreds of blocks at the end):
    one :class:`~opnode.jsonrpc.client.SyncRpcClient` per URL; ``http`` for the plain GETs (metrics, beacon)."""

    def __init__(self, timeout: float = 20.0):
        self.timeout = timeout
        self.http = httpx.Client(timeout=timeout)
        self._clients: dict[str, SyncRpcClient] = {}

    def close(self) -> None:
        self.http.close()
        for c in self._clients.values():
            c.close()

    def _client(self, url: str) -> SyncRpcClient:
        if url not in self._clients:
            self._clients[url] = SyncRpcClient(url, timeout=self.timeout)
        return self._clients[url]

    def call(self, url: str, method: str, *params):
        return self._client(url).call(method, *params)

    def batch(self, url: str, calls: list[tuple[str, list]], chunk: int = 100) -> list:
        return self._client(url).batch(calls, chunk)

    def blocks(self, url: str, numbers: list[int], full: bool = False) -> list[dict | None]:
        return self.batch(url, [("eth_getBlockByNumber", [hex(n), full]) for n in numbers])


@dataclass(frozen=True, slots=True)
class NodeRef:
    """What the checks need of a node (a subset of :class:`~opnode.tools.devnet.stack.NodeInfo`)."""

    name: str
    role: str
    rpc: str
    engine_rpc: str
    metrics: str | None = None


def activation_block(cfg: RollupConfig, fork: Fork) -> int | None:
    """The number of ``fork``'s first L2 block, or None when it is active at genesis or not scheduled."""
    t = cfg.fork_time(fork)
    if t is None or t <= cfg.genesis.l2_time:
        return None
    return cfg.genesis.l2.number + -(-(t - cfg.genesis.l2_time) // cfg.block_time)


def check_safe_chains(rpc: JsonRpc, seq: NodeRef, followers: list[NodeRef], safe: dict[str, int]) -> dict:
    """Hash by hash over each node's whole safe range (block 1 to its safe head)."""
    out = {"ok": bool(followers), "nodes": {}}
    top = max((safe.get(s.name, 0) for s in followers), default=0)
    numbers = list(range(1, top + 1))
    want = [b["hash"] if b else None for b in rpc.blocks(seq.engine_rpc, numbers)]
    for s in followers:
        n = safe.get(s.name, 0)
        got = [b["hash"] if b else None for b in rpc.blocks(s.engine_rpc, numbers[:n])]
        mismatch = next((i + 1 for i, (a, b) in enumerate(zip(got, want, strict=False)) if a is None or a != b), None)
        ok = n > 0 and mismatch is None
        out["nodes"][s.name] = {"ok": ok, "safe": n, "compared": n, "first_mismatch": mismatch}
        out["ok"] = out["ok"] and ok
    return out


def check_activation_block(cfg: RollupConfig, fork: Fork, blocks: list[dict], want_upgrades: list[str]) -> str | None:
    """Why blocks ``[n-1, n, n+1]`` around ``fork``'s activation block ``n`` break its rules (None: they hold;
    ``n+1`` may be None when the safe chain ends at ``n``)."""
    before, block, after = blocks
    t = cfg.fork_time(fork)
    if not parse_quantity(before["timestamp"]) < t <= parse_quantity(block["timestamp"]):
        return "activation block not at the fork time"
    txs = block["transactions"]
    deposits = [tx["hash"] for tx in txs if tx.get("type") == DEPOSIT]
    if [h for h in deposits if h in want_upgrades] != want_upgrades or len(txs) < 1 + len(want_upgrades):
        return "upgrade transactions missing or out of order"
    if cfg.is_empty_activation_block(parse_quantity(block["timestamp"])):
        if len(deposits) != len(txs):
            return f"{len(txs) - len(deposits)} non-deposit transactions in an activation block that takes none"
        if [tx["hash"] for tx in txs[-len(want_upgrades):]] != want_upgrades:
            return "upgrade deposits are not the last transactions of the block"
    extra = upgrade_gas(fork)
    if extra:
        at = parse_quantity(block["gasLimit"])
        neighbours = {parse_quantity(b["gasLimit"]) for b in (before, after) if b}
        # an L1 setGasLimit may land at either epoch boundary, not at both within two blocks
        if at - extra not in neighbours:
            return f"activation gas limit {at} is not a neighbour's {sorted(neighbours)} plus {extra}"
        if after and parse_quantity(after["gasLimit"]) == at:
            return "the block after the activation block kept the upgrade gas"
    return None


def check_forks(rpc: JsonRpc, cfg: RollupConfig, sources: list[NodeRef], safe: dict[str, int]) -> dict:
    out = {"ok": True, "forks": {}}
    for fork in CHECKED_FORKS:
        if cfg.fork_time(fork) is None and fork not in (Fork.HOLOCENE, Fork.ISTHMUS, Fork.JOVIAN):
            continue  # newer forks are optional in a devnet
        n = activation_block(cfg, fork)
        name = fork.name.lower()
        if n is None:
            out["forks"][name] = {"ok": cfg.fork_time(fork) is not None, "block": 0, "at_genesis": True}
            out["ok"] = out["ok"] and out["forks"][name]["ok"]
            continue
        want_upgrades = [to_hex(u.tx.hash) for u in upgrade_transactions(fork)]
        per_node = {}
        for s in sources:
            reached = safe.get(s.name, 0) >= n
            # a run may end before the fork (defaults activate minutes in): pending, reported, not a failure
            ok, why = True, "pending: not reached by the safe chain yet"
            if reached:
                numbers = [n - 1, n] + ([n + 1] if safe.get(s.name, 0) > n else [])
                blocks = rpc.blocks(s.engine_rpc, numbers, full=True) + [None] * (3 - len(numbers))
                why = check_activation_block(cfg, fork, blocks, want_upgrades)
                ok = why is None
            per_node[s.name] = {"ok": ok, "reason": why}
        ok = bool(per_node) and all(v["ok"] for v in per_node.values())
        pending = any(safe.get(s.name, 0) < n for s in sources)
        out["forks"][name] = {"ok": ok, "pending": pending, "block": n, "time": cfg.fork_time(fork),
                              "upgrade_txs": len(want_upgrades), "upgrade_gas": upgrade_gas(fork), "nodes": per_node}
        out["ok"] = out["ok"] and ok
    return out


def check_deposits(rpc: JsonRpc, l1_url: str, cfg: RollupConfig, sources: list[NodeRef],
                   statuses: dict[str, dict], expect: bool = True) -> dict:
    """Deposit logs on canonical L1 up to each source's safe L1 origin, found on its L2 chain by source hash
    (``expect``: traffic sent deposits, so there must be some)."""
    topic = to_hex(keccak256(TRANSACTION_DEPOSITED.encode()))
    out = {"ok": bool(sources), "nodes": {}}
    for s in sources:
        st = statuses.get(s.name) or {}
        safe = st.get("safe_l2") or {}
        n, origin = safe.get("number", 0), (safe.get("l1origin") or {}).get("number", 0)
        logs = rpc.call(l1_url, "eth_getLogs", {"address": to_hex(cfg.deposit_contract_address), "topics": [topic],
                                                "fromBlock": hex(cfg.genesis.l1.number), "toBlock": hex(origin)})
        want = {to_hex(user_deposit_source_hash(from_hex(lg["blockHash"], 32), parse_quantity(lg["logIndex"])))
                for lg in logs}
        found = set()
        for b in rpc.blocks(s.engine_rpc, list(range(1, n + 1)), full=True):
            for tx in (b or {}).get("transactions", []):
                if tx.get("type") == "0x7e" and tx.get("sourceHash") in want:
                    found.add(tx["sourceHash"])
        ok = (bool(want) or not expect) and found == want
        out["nodes"][s.name] = {"ok": ok, "on_l1": len(want), "on_l2": len(found), "up_to_l1": origin}
        out["ok"] = out["ok"] and ok
    return out


def check_batches(batcher_status: dict | None, da: str) -> dict:
    by_da = dict((batcher_status or {}).get("txs_included_by_da") or {})
    wanted = ("calldata", "blobs") if da == "auto" else (da,)
    return {"ok": any(by_da.get(k, 0) > 0 for k in wanted), "by_da": by_da,
            "rewinds": dict((batcher_status or {}).get("rewinds") or {}),
            "faults": dict((batcher_status or {}).get("faults") or {})}


def parse_drops(exposition: str) -> dict[str, float]:
    """``derivation_drops_total`` samples as ``{"<what>/<reason>": count}``."""
    out: dict[str, float] = {}
    for line in exposition.splitlines():
        m = _DROP_LINE.match(line.strip())
        if m:
            labels = dict(_LABEL.findall(m["labels"]))
            out[f"{labels.get('what', '?')}/{labels.get('reason', '?')}"] = float(m["value"])
    return out


def check_drops(rpc: JsonRpc, sources: list[NodeRef], faults: bool) -> tuple[dict, list[str]]:
    errors, per_node, total = [], {}, {}
    for s in sources:
        if not s.metrics:
            errors.append(f"{s.name}: no metrics endpoint")
            continue
        try:
            drops = parse_drops(rpc.http.get(s.metrics + "/metrics").text)
        except httpx.HTTPError as e:
            errors.append(f"{s.name}: metrics unreadable: {e}")
            continue
        per_node[s.name] = drops
        for k, v in drops.items():
            reason = k.split("/", 1)[1]
            total[reason] = total.get(reason, 0) + int(v)
    ok = bool(total) if faults else True
    return {"ok": ok and not errors, "by_reason": total, "nodes": per_node}, errors


def summarize(rpc: JsonRpc, *, cfg: RollupConfig, l1_url: str, nodes: list[NodeRef], da: str, faults: bool,
              batcher_status: dict | None, errors: list[str], traffic: bool = True,
              status_of: Callable[[NodeRef], dict] | None = None) -> dict:
    """Every check over the chain as it is now (the nodes must still run)."""
    seq = next(n for n in nodes if n.role == "sequencer")
    sources = [n for n in nodes if n.role == "source"]
    followers = sources + [n for n in nodes if n.role == "light"]
    errors = list(errors)
    statuses: dict[str, dict] = {}
    for s in followers:
        try:
            statuses[s.name] = status_of(s) if status_of else rpc.call(s.rpc, "optimism_syncStatus")
        except (RpcError, TransportError, httpx.HTTPError, RuntimeError, ValueError) as e:
            errors.append(f"{s.name}: no sync status: {e}")
    safe = {name: st["safe_l2"]["number"] for name, st in statuses.items()}
    checks: dict[str, dict] = {}
    for key, fn in (("safe_chain_matches_sequencer", lambda: check_safe_chains(rpc, seq, followers, safe)),
                    ("forks_activated", lambda: check_forks(rpc, cfg, sources, safe)),
                    ("deposits_included", lambda: check_deposits(rpc, l1_url, cfg, sources, statuses, traffic))):
        try:
            checks[key] = fn()
        except (RpcError, TransportError, httpx.HTTPError, RuntimeError, ValueError, KeyError, TypeError) as e:
            checks[key] = {"ok": False, "error": str(e)}
            errors.append(f"{key}: {e}")
    checks["batches_by_da"] = check_batches(batcher_status, da)
    checks["dropped_by_reason"], drop_errors = check_drops(rpc, sources, faults)
    errors += drop_errors
    return {"ok": all(c["ok"] for c in checks.values()) and not errors, "checks": checks, "errors": errors}
