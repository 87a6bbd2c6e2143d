"""A small beacon API in front of anvil, so that the node's beacon client reads blobs exactly as from a real
consensus layer: anvil serves ``/eth/v1/beacon/blobs/{block}`` by block number but has no slots and no
``/eth/v1/config/spec``, and answers ``blob_sidecars`` with 410 Gone.

Slots: ``genesis_time`` is the timestamp of anvil's block 0 and a slot lasts ``seconds_per_slot`` (default 1 s);
anvil's block timestamps strictly increase, so with 1-second slots every block has a slot of its own and a slot
without a block answers 404, like a missed slot. Served routes:

- ``GET /eth/v1/beacon/genesis``, ``GET /eth/v1/config/spec``, ``GET /eth/v1/node/version``
- ``GET /eth/v1/beacon/blobs/{slot}?versioned_hashes=…``: anvil's blobs of that slot's block
- ``GET /eth/v1/beacon/blob_sidecars/{slot}?indices=…``: sidecars built from those blobs (commitment and proof
  computed here with ckzg; header and inclusion proof are placeholders: clients verify blobs by KZG)

The beacon API is REST, not JSON-RPC; the shim reads anvil's blocks with the project's JSON-RPC client.
"""

from __future__ import annotations

import json
from functools import partial
from urllib.parse import parse_qsl

import httpx
import trio

from derivation.protocol import kzg
from derivation.protocol.hexutil import from_hex, parse_quantity, to_hex
from opnode.jsonrpc.client import RpcClient
from opnode.jsonrpc.http import http_request, read_body, send_response, serve_url


def _json(status: int, doc) -> tuple[int, bytes]:
    return status, json.dumps(doc, separators=(",", ":")).encode()


def _error(status: int, message: str) -> tuple[int, bytes]:
    return _json(status, {"code": status, "message": message})


MAX_BODY = 1 << 20


class BeaconShim:
    """An ASGI app mapping beacon slots to anvil blocks. Run it with ``nursery.start(shim.serve)``."""

    def __init__(self, anvil_url: str, *, seconds_per_slot: int = 1):
        self.anvil_url = anvil_url.rstrip("/")
        self.seconds_per_slot = seconds_per_slot
        self.url: str | None = None
        self.requests = 0
        self._http: httpx.AsyncClient | None = None
        self._rpc: RpcClient | None = None
        self._genesis_time: int | None = None
        self._times: dict[int, int] = {}  # block number -> timestamp, checked again where it decides (reorgs)

    async def serve(self, *, host: str = "127.0.0.1", port: int = 0, task_status=trio.TASK_STATUS_IGNORED) -> None:
        async with httpx.AsyncClient(timeout=30) as http, RpcClient(self.anvil_url, timeout=30) as rpc:
            self._http, self._rpc = http, rpc
            async with trio.open_nursery() as nursery:
                self.url = await nursery.start(partial(serve_url, self, host=host, port=port))
                task_status.started(self.url)

    async def __call__(self, scope, receive, send):
        if not await http_request(scope, receive, send):
            return
        if await read_body(receive, MAX_BODY) is None:  # beacon API GETs have no body: read no more than this
            await send_response(send, *_error(413, f"request body larger than {MAX_BODY} bytes"))
            return
        self.requests += 1
        query = parse_qsl(scope.get("query_string", b"").decode())
        try:
            status, body = await self.route(scope["method"], scope["path"], query)
        except Exception as e:  # the shim must answer, not hang the client
            status, body = _error(500, f"{type(e).__name__}: {e}")
        await send_response(send, status, body)

    # ------------------------------------------------------------------------------------------------ routes

    async def route(self, method: str, path: str, query: list[tuple[str, str]]) -> tuple[int, bytes]:
        if method != "GET":
            return _error(405, "only GET")
        if path == "/eth/v1/beacon/genesis":
            return _json(200, {"data": {"genesis_time": str(await self.genesis_time()),
                                        "genesis_validators_root": to_hex(bytes(32)),
                                        "genesis_fork_version": "0x00000000"}})
        if path == "/eth/v1/config/spec":
            return _json(200, {"data": {"SECONDS_PER_SLOT": str(self.seconds_per_slot), "SLOTS_PER_EPOCH": "32",
                                        "CONFIG_NAME": "opnode-anvil-shim"}})
        if path == "/eth/v1/node/version":
            return _json(200, {"data": {"version": "opnode-beacon-shim/anvil"}})
        for prefix, handler in (("/eth/v1/beacon/blobs/", self._blobs), ("/eth/v1/beacon/blob_sidecars/",
                                                                        self._sidecars)):
            if path.startswith(prefix):
                slot_text = path[len(prefix):]
                if not slot_text.isdigit():
                    return _error(400, f"Invalid block ID: {slot_text} (this shim serves slot numbers)")
                number = await self.block_at_slot(int(slot_text))
                if number is None:
                    return _error(404, f"no block at slot {slot_text}")
                return await handler(number, int(slot_text), query)
        return _error(404, "Not found")

    async def _anvil_blobs(self, number: int, versioned_hashes: list[str]) -> list[str]:
        # anvil reads one comma-separated value; beacon clients (op-node too) repeat the parameter instead.
        params = {"versioned_hashes": ",".join(versioned_hashes)} if versioned_hashes else None
        r = await self._http.get(f"{self.anvil_url}/eth/v1/beacon/blobs/{number}", params=params)
        r.raise_for_status()
        return r.json()["data"]

    async def _blobs(self, number: int, slot: int, query) -> tuple[int, bytes]:
        hashes = [h for k, v in query if k == "versioned_hashes" for h in v.split(",") if h]
        data = await self._anvil_blobs(number, hashes)
        return _json(200, {"execution_optimistic": False, "finalized": False, "data": data})

    async def _sidecars(self, number: int, slot: int, query) -> tuple[int, bytes]:
        wanted = {int(v) for k, v in query if k == "indices" and v.isdigit()}
        blobs = await self._anvil_blobs(number, [])
        out = []
        for i, blob_hex in enumerate(blobs):
            if wanted and i not in wanted:
                continue
            blob = from_hex(blob_hex)
            commitment = await trio.to_thread.run_sync(kzg.blob_to_commitment, blob)
            proof = await trio.to_thread.run_sync(kzg.compute_blob_proof, blob, commitment)
            out.append({"index": str(i), "blob": blob_hex, "kzg_commitment": to_hex(commitment),
                        "kzg_proof": to_hex(proof),
                        "signed_block_header": {"message": {"slot": str(slot), "proposer_index": "0",
                                                            "parent_root": to_hex(bytes(32)),
                                                            "state_root": to_hex(bytes(32)),
                                                            "body_root": to_hex(bytes(32))},
                                                "signature": to_hex(bytes(96))},
                        "kzg_commitment_inclusion_proof": [to_hex(bytes(32))] * 17})
        return _json(200, {"data": out})

    # ------------------------------------------------------------------------------------------------ slots

    async def _block_time(self, number: int, *, fresh: bool = False) -> int | None:
        if number in self._times and not fresh:
            return self._times[number]
        block = await self._rpc.call("eth_getBlockByNumber", hex(number), False)
        if block is None:
            return None
        t = parse_quantity(block["timestamp"])
        self._times[number] = t
        return t

    async def genesis_time(self) -> int:
        if self._genesis_time is None:
            self._genesis_time = await self._block_time(0)
        return self._genesis_time

    async def block_at_slot(self, slot: int) -> int | None:
        """The block whose timestamp falls in ``slot`` (binary search over anvil's increasing timestamps).

        The timestamps of the search's answer and of the block before it are read again: they alone decide the
        answer, and an L1 reorg (``evm_revert``, ``anvil_reorg``) gives the replacing blocks other timestamps, so a
        cached one that changed empties the cache and the search runs again on the new chain."""
        genesis = await self.genesis_time()
        lo_t = genesis + slot * self.seconds_per_slot
        hi_t = lo_t + self.seconds_per_slot
        for _ in range(2):
            lo, hi = 0, parse_quantity(await self._rpc.call("eth_blockNumber"))
            while lo < hi:  # first block with time >= lo_t
                mid = (lo + hi) // 2
                if await self._block_time(mid) < lo_t:
                    lo = mid + 1
                else:
                    hi = mid
            cached = [self._times.get(n) for n in (lo - 1, lo) if n >= 0]
            fresh = [await self._block_time(n, fresh=True) for n in (lo - 1, lo) if n >= 0]
            if all(c is None or c == f for c, f in zip(cached, fresh, strict=True)):
                break
            self._times.clear()  # the chain changed under the cache (a reorg)
        t = fresh[-1]
        return lo if t is not None and lo_t <= t < hi_t else None
