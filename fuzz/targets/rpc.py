"""Targets for the JSON-RPC request parsers: the node's (opnode/jsonrpc/server.py ``Dispatcher`` over the real method
table and its parameter decoders, with a fake node behind it) and the embedded engine's (the same toolkit,
:mod:`opnode.jsonrpc.server`, over a stub of the engine's method table with its arities).

Both servers turn a handler's unexpected exception into an "internal error" answer and log it; that answer keeps
the server up but is still a bug, so the targets collect what the servers log and raise it as the finding.
"""

from __future__ import annotations

import contextlib
import json
import logging

import trio

from derivation.protocol.types import BlockID, L1BlockRef, L2BlockRef
from fuzz.targets import target
from fuzz.targets.config import CONFIG
from fuzz.vectors import vector
from opnode.jsonrpc.errors import SERVER_ERROR, RpcError
from opnode.jsonrpc.server import ENGINE_LIMITS, Dispatcher, Limits, Method, methods_of
from opnode.node.l2_reader import BlockNotFound
from opnode.node.rpc.methods import ADMIN_METHODS, node_methods
from opnode.node.sync_status import SyncStatus


class _Logged(logging.Handler):
    """Collects the exceptions a server logs while handling one request."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.errors: list[BaseException] = []

    def emit(self, record):
        if record.exc_info and record.exc_info[1] is not None:
            self.errors.append(record.exc_info[1])


@contextlib.contextmanager
def _raise_logged(name: str):
    """Raise the first exception logger ``name`` logs inside the block. The handler is there only for the block
    (an always-installed one would collect other tests' logs and silence the logger for them)."""
    h = _Logged()
    lg = logging.getLogger(name)
    propagate = lg.propagate
    lg.addHandler(h)
    lg.propagate = False  # the finding carries the traceback; do not print it for every input
    try:
        yield
    finally:
        lg.removeHandler(h)
        lg.propagate = propagate
    if h.errors:
        raise h.errors[0]


def _h(i: int) -> bytes:
    return i.to_bytes(32, "big")


_L1 = L1BlockRef(_h(1), 100, _h(0), 1_700_000_000)
_L2 = L2BlockRef(_h(2), 500, _h(3), 1_700_000_000, BlockID(_h(1), 100), 0)
_STATUS = SyncStatus(current_l1=_L1, current_l1_finalized=_L1, head_l1=_L1, safe_l1=_L1, finalized_l1=_L1,
                     unsafe_l2=_L2, safe_l2=_L2, finalized_l2=_L2, pending_safe_l2=_L2, cross_unsafe_l2=_L2,
                     local_safe_l2=_L2)


class _L2Eth:
    async def block_by_number(self, number, full=False):
        raise BlockNotFound(f"block {number}")

    block_by_hash = block_by_number


class _FakeNode:
    """The node behind the handlers: a fixed status, no blocks, no safe-head DB; admin hooks accept."""

    rollup_config = CONFIG
    l2_eth = _L2Eth()
    safedb = None
    p2p = None
    fetch_withdrawal_root_from_state = False
    dependency_set = None

    def sync_status(self):
        return _STATUS

    async def reset_derivation_pipeline(self):
        return None

    async def start_sequencer(self, unsafe_head):
        if unsafe_head != _L2.hash:
            raise RpcError(SERVER_ERROR, "block hash does not match")

    async def stop_sequencer(self):
        return _L2.hash

    async def sequencer_active(self):
        return True

    async def post_unsafe_payload(self, envelope):
        return None

    async def set_recover_mode(self, mode):
        return None

    async def override_leader(self):
        return None

    async def conductor_enabled(self):
        return False


async def _echo(*params):
    return list(params)


_NODE_METHODS = node_methods(_FakeNode(), enable_admin=True,
                             extra={"test_echo": Method(_echo, 0, 3)})
_NODE_METHODS.pop("admin_setLogLevel")  # it changes the process's log level: not a parser
_DISPATCHER = Dispatcher(_NODE_METHODS, Limits(max_batch=50, max_batch_response_bytes=1 << 16))


def _requests() -> list:
    real = vector("p2p_external")["real_blocks"][0]
    env = {"executionPayload": real["execution_payload"], "parentBeaconBlockRoot": real["parent_beacon_block_root"]}
    calls = [("optimism_syncStatus", []), ("optimism_outputAtBlock", ["0x1f4"]), ("optimism_rollupConfig", None),
             ("optimism_safeHeadAtL1Block", ["0x64"]), ("optimism_version", []), ("opp2p_peerStats", []),
             ("admin_startSequencer", ["0x" + _L2.hash.hex()]), ("admin_postUnsafePayload", [env]),
             ("test_echo", [1, "a", None]), ("eth_chainId", [])]
    calls += [(m, []) for m in ADMIN_METHODS if m not in dict(calls)]
    return [{"jsonrpc": "2.0", "id": i, "method": m, **({} if p is None else {"params": p})}
            for i, (m, p) in enumerate(calls)]


def _rpc_seeds():
    reqs = _requests()
    for r in reqs:
        yield json.dumps(r).encode()
    yield json.dumps(reqs[:4]).encode()
    yield json.dumps({"jsonrpc": "2.0", "method": "optimism_syncStatus"}).encode()  # a notification
    yield b"[]"


_JSON_TOKENS = (b'"jsonrpc":"2.0"', b'"id":', b'"method":', b'"params":[', b'"0x', b"null", b"true", b"1e999",
                b'"\\u0000"', b"[[[[", b"{}")


@target("jsonrpc", allowed=(), seeds=_rpc_seeds, max_len=8192,
        tokens=_JSON_TOKENS + tuple(f'"{m}"'.encode() for m in _NODE_METHODS))
def jsonrpc_target(data: bytes) -> None:
    """opnode/jsonrpc/server.py: a request body through the node's dispatcher, real method table and parameter
    decoders; the answer must be JSON, and no handler may fail with an internal error."""
    with _raise_logged("opnode.jsonrpc"):
        out = trio.run(_DISPATCHER.handle_body, data)
    if out is not None:
        json.loads(out)


def _stub_engine_methods() -> dict:
    """What engine/execution/server.py dispatches to, with the engine's arities but no engine behind them."""
    return {
        "engine_exchangeCapabilities": lambda caps: caps,
        "engine_forkchoiceUpdatedV3": lambda s, a=None: {"payloadStatus": {"status": "VALID"}},
        "engine_getPayloadV4": lambda pid: {"payloadId": pid},
        "engine_newPayloadV4": lambda p, h=None, r=None, q=None: {"status": "VALID"},
        "eth_chainId": lambda: "0xa",
        "eth_getBlockByNumber": lambda tag, full=False: None,
    }


_ENGINE_METHODS = _stub_engine_methods()
_ENGINE_DISPATCHER = Dispatcher(methods_of(_ENGINE_METHODS), ENGINE_LIMITS)


def _engine_seeds():
    for i, m in enumerate(_ENGINE_METHODS):
        yield json.dumps({"jsonrpc": "2.0", "id": i, "method": m, "params": ["0x01"] if i % 2 else []}).encode()
    yield json.dumps([{"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}, {"jsonrpc": "2.0", "method": "x"}]).encode()


@target("engine_rpc", allowed=(), seeds=_engine_seeds, max_len=8192,
        tokens=_JSON_TOKENS + tuple(f'"{m}"'.encode() for m in _ENGINE_METHODS))
def engine_rpc_target(data: bytes) -> None:
    """engine/execution/server.py's dispatch (single and batched, stub methods); the answer must be JSON and no
    internal error may be logged."""
    with _raise_logged("opnode.jsonrpc"):
        out = trio.run(_ENGINE_DISPATCHER.handle_body, data)
    if out is not None:
        json.loads(out)
