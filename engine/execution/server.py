"""The engine's JSON-RPC servers: the authenticated Engine API port (``engine_*`` plus ``eth_*``, as op-geth's authrpc)
and the public HTTP port (``eth_*``, ``net_*``, ``web3_*``), on the project's one server toolkit
(:mod:`opnode.jsonrpc.server`: geth's request, batch, error and HTTP rules; a missing or bad JWT on the auth port
answers HTTP 401 with op-geth's text). The auth port has op-geth's Engine API limits (128 MiB bodies, 2000 calls a
batch; op-geth node/defaults.go), the public port geth's defaults.

Handlers are plain functions; the parameter counts come from their signatures, so a wrong count gets geth's
"missing value for required argument N" / "too many arguments, want at most N". They run one at a time in a worker
thread, under the API lock shared with EL sync, so execution never blocks the event loop.
"""

from __future__ import annotations

from functools import partial

import trio

from engine.execution.engine_api import EngineAPI
from engine.execution.eth_api import EthAPI
from opnode.jsonrpc.server import ENGINE_LIMITS, Dispatcher, JsonRpcApp, Limits, Method, methods_of


def engine_methods(e: EngineAPI) -> dict[str, Method]:
    return methods_of({
        "engine_exchangeCapabilities": e.exchange_capabilities,
        "engine_getClientVersionV1": e.client_version,
        "engine_signalSuperchainV1": e.signal_superchain,
        "engine_forkchoiceUpdatedV1": lambda s, a=None: e.forkchoice_updated(1, s, a),
        "engine_forkchoiceUpdatedV2": lambda s, a=None: e.forkchoice_updated(2, s, a),
        "engine_forkchoiceUpdatedV3": lambda s, a=None: e.forkchoice_updated(3, s, a),
        "engine_getPayloadV2": lambda pid: e.get_payload(2, pid),
        "engine_getPayloadV3": lambda pid: e.get_payload(3, pid),
        "engine_getPayloadV4": lambda pid: e.get_payload(4, pid),
        "engine_getPayloadV5": lambda pid: e.get_payload(5, pid),
        "engine_newPayloadV2": lambda p: e.new_payload(2, p),
        "engine_newPayloadV3": lambda p, h=None, r=None: e.new_payload(3, p, h, r),
        "engine_newPayloadV4": lambda p, h=None, r=None, q=None: e.new_payload(4, p, h, r, q),
    })


def eth_methods(x: EthAPI) -> dict[str, Method]:
    return methods_of({
        "eth_chainId": x.chain_id, "eth_config": x.config, "eth_blockNumber": x.block_number,
        "eth_getBlockByNumber": x.get_block_by_number, "eth_getBlockByHash": x.get_block_by_hash,
        "eth_getTransactionByHash": x.get_transaction_by_hash,
        "eth_getTransactionReceipt": x.get_transaction_receipt, "eth_getBlockReceipts": x.get_block_receipts,
        "eth_getBalance": x.get_balance, "eth_getCode": x.get_code, "eth_getStorageAt": x.get_storage_at,
        "eth_getTransactionCount": x.get_transaction_count, "eth_getProof": x.get_proof,
        "eth_sendRawTransaction": x.send_raw_transaction, "eth_call": x.call, "eth_estimateGas": x.estimate_gas,
        "debug_getRawBlock": x.get_raw_block, "eth_gasPrice": x.gas_price, "eth_maxPriorityFeePerGas": x.max_priority_fee, "eth_syncing": x.syncing,
        "net_version": lambda: str(x.chain.spec.chain_id), "web3_clientVersion": lambda: "opnode-engine/0.1.0",
    })


async def _in_worker(lock: trio.Lock, limiter: trio.CapacityLimiter, fn, params: list):
    async with lock:
        return await trio.to_thread.run_sync(partial(fn, *params), limiter=limiter)


def rpc_app(methods: dict[str, Method], lock: trio.Lock, secret: bytes | None = None) -> JsonRpcApp:
    """The ASGI app of one port: with ``secret`` the authenticated Engine API port, else the public one."""
    limits = ENGINE_LIMITS if secret is not None else Limits(handler_timeout=None)
    run = partial(_in_worker, lock, trio.CapacityLimiter(1))
    return JsonRpcApp(Dispatcher(methods, limits, run=run), jwt_secret=secret)
