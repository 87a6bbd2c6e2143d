"""The supernode's RPC on one port (op-supernode ``resources/rpc_router.go``, ``activity/{heartbeat,superroot,
supernode}``; ethereum-optimism/optimism file index 2026 and karlfloersch/optimism @f0b2b80e):

- ``/<chainID>`` (and anything below it) is that chain's op-node API, the node's own method table
  (:func:`opnode.node.rpc.methods.node_methods`) over the chain's container, plus ``optimism_dependencySet``;
  ``optimism_syncStatus`` reports ``safe_l2`` = cross-safe and ``local_safe_l2`` = derived only;
  ``GET /<chainID>/healthz`` → the version text, as the node's ``/healthz``;
- ``/`` is the supernode's: ``supernode_syncStatus``, ``superroot_atTimestamp``, ``heartbeat_check`` (4 random
  bytes, as Go's), and ``opnode_l1Stats`` (the shared L1 client's request counts; opnode's own);
- any other first path segment → HTTP 404 with a JSON body ``{"error": …, "chain_ids": […]}`` (lokahi answers 404
  too; Go's router a bare 404).
"""

from __future__ import annotations

import json
import os

import trio

from derivation.interop.dependency_set import dependency_set_json
from derivation.interop.super_root import OptimisticOutput, super_root_v1, superroot_at_timestamp_json
from derivation.protocol.errors import ParseError
from derivation.protocol.hexutil import from_hex, parse_quantity, to_hex
from derivation.protocol.types import BlockID
from opnode.jsonrpc.errors import SERVER_ERROR, InvalidParams, RpcError, TransportError
from opnode.jsonrpc.http import bind, http_request, send_response, serve_socket
from opnode.jsonrpc.server import TEXT, Dispatcher, JsonRpcApp, Method
from opnode.node.l2_reader import BlockNotFound
from opnode.node.rpc.methods import VERSION, node_methods
from opnode.node.runtime.api import RuntimeAPI
from opnode.supernode.verifier import target_number

JSON = "application/json"


class Router:
    """ASGI: the first path segment picks the app; the chain's app sees the rest of the path."""

    def __init__(self, root: JsonRpcApp, chains: dict[str, JsonRpcApp]):
        self.root = root
        self.chains = chains

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await http_request(scope, receive, send)
            return
        path = scope.get("path") or "/"
        first, _, rest = path.lstrip("/").partition("/")
        if first in ("", "healthz"):
            await self.root(scope, receive, send)
            return
        app = self.chains.get(first)
        if app is None:
            body = json.dumps({"error": f"unknown chain {first!r}", "chain_ids": sorted(self.chains, key=int)})
            await send_response(send, 404, body.encode() + b"\n", JSON)
            return
        await app(dict(scope, path="/" + rest, raw_path=("/" + rest).encode()), receive, send)


class RootAPI:
    def __init__(self, supernode):
        self.sn = supernode

    def _statuses(self):
        return {cid: ch.status.status() for cid, ch in sorted(self.sn.chains.items())}

    async def sync_status(self):
        st = self._statuses()
        current = min((s.current_l1 for s in st.values()), key=lambda r: r.number)
        return {"chains": {str(c): s.to_json() for c, s in st.items()}, "chain_ids": [str(c) for c in st],
                "current_l1": current.id.to_json(),
                "safe_timestamp": min(s.safe_l2.time for s in st.values()),
                "local_safe_timestamp": min(s.local_safe_l2.time for s in st.values()),
                "finalized_timestamp": min(s.finalized_l2.time for s in st.values())}

    async def superroot_at_timestamp(self, ts):
        try:
            timestamp = parse_quantity(ts)
        except (TypeError, ValueError):
            raise InvalidParams("invalid argument 0: timestamp must be a hex quantity") from None
        st = self._statuses()
        optimistic: dict[int, OptimisticOutput] = {}
        outputs: dict[int, bytes] = {}
        for cid, ch in sorted(self.sn.chains.items()):
            n = target_number(ch.cfg, timestamp)
            if n > ch.local_safe().number:
                continue
            denied = [d for d in self.sn.store.denylist() if d[0] == cid and d[1] == n]
            try:
                blk = await ch.block(n)
                if blk is None:
                    continue
                out = await ch.l2_reader.output_v0_at_block(ch.cfg, from_hex(blk["hash"], 32))
            except (TransportError, RpcError, ParseError, BlockNotFound) as e:  # that chain's engine is down
                raise RpcError(SERVER_ERROR, f"chain {cid}: failed to get L2 output at block {n}: {e}") from None
            outputs[cid] = out.root()
            inc = ch.l1_inclusion(n) or BlockID(bytes(32), 0)
            if not denied:  # a replaced block's optimistic output is the original's, which the engine no longer has
                optimistic[cid] = OptimisticOutput(out, inc)
        verified = None
        v = self.sn.store.verified_at(timestamp)
        if v is not None and len(outputs) == len(self.sn.chains):
            verified = (super_root_v1(timestamp, sorted(outputs.items())), v.l1_inclusion)
        current = min((s.current_l1 for s in st.values()), key=lambda r: r.number)
        return superroot_at_timestamp_json(current.id, min(s.safe_l2.time for s in st.values()),
                                           min(s.local_safe_l2.time for s in st.values()),
                                           min(s.finalized_l2.time for s in st.values()), self.sn.chains, optimistic,
                                           verified)

    async def heartbeat_check(self):
        return to_hex(os.urandom(4))

    async def l1_stats(self):
        s = self.sn.l1.rpc.stats
        return {"http_requests": s.http_requests, "calls": dict(s.calls), "total_calls": s.total_calls}


def chain_app(chain, ds, enable_admin: bool) -> JsonRpcApp:
    """``ds``: the supernode's dependency set (the one every chain is verified against)."""

    async def dependency_set():
        return None if ds is None else dependency_set_json(ds)

    methods = node_methods(RuntimeAPI(chain), enable_admin=enable_admin,
                           extra={"optimism_dependencySet": Method(dependency_set)})
    return JsonRpcApp(Dispatcher(methods), get_routes={"/healthz": (VERSION.encode(), TEXT)})


def root_app(supernode) -> JsonRpcApp:
    api = RootAPI(supernode)
    methods = {"supernode_syncStatus": Method(api.sync_status),
               "superroot_atTimestamp": Method(api.superroot_at_timestamp, 1),
               "heartbeat_check": Method(api.heartbeat_check), "opnode_l1Stats": Method(api.l1_stats)}
    return JsonRpcApp(Dispatcher(methods), get_routes={"/healthz": (VERSION.encode(), TEXT)})


class SupernodeServer:
    def __init__(self, supernode):
        cfg = supernode.config
        self.cfg = cfg.rpc
        chains = {str(cid): chain_app(ch, cfg.dependency_set, cfg.rpc.enable_admin) for cid, ch in supernode.chains.items()}
        self.app = Router(root_app(supernode), chains)

    async def run(self, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        await serve_socket(self.app, bind(self.cfg.addr, self.cfg.port), task_status=task_status)


def supernode_server(supernode) -> SupernodeServer:
    return SupernodeServer(supernode)
