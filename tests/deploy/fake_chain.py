"""A stand-in for a real deployment's endpoints at a chain's genesis, for start-up tests of a node process: an L1
(``eth_*`` headers), an execution engine (eth + Engine API, JWT not checked) and a follow source
(``optimism_syncStatus``), each a JSON-RPC server on 127.0.0.1 in a thread of the test process. Every head is at the
rollup config's genesis, so a light node starts, checks its chains and serves its sync status without any data the
project would have to invent beyond block numbers and parent links of the few L1 headers above genesis."""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from derivation.protocol.rollup_config import RollupConfig

L1_BLOCKS = 8  # headers served above the L1 genesis block


def _h(n: int) -> str:
    return "0x" + hashlib.sha256(b"fake-l1-%d" % n).hexdigest()


class _Server:
    def __init__(self, handle):
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
                calls = body if isinstance(body, list) else [body]
                out = []
                for c in calls:
                    outer.methods.append(c.get("method"))
                    try:
                        out.append({"jsonrpc": "2.0", "id": c.get("id"), "result": handle(c["method"],
                                                                                         c.get("params", []))})
                    except KeyError:
                        out.append({"jsonrpc": "2.0", "id": c.get("id"),
                                    "error": {"code": -32601, "message": f"the method {c['method']} does not exist"}})
                data = json.dumps(out if isinstance(body, list) else out[0]).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *a):
                pass

        self.methods: list[str] = []
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class FakeChain:
    """L1, engine and follow source of ``cfg`` at genesis; use as a context manager; ``.l1``, ``.engine``,
    ``.source`` are the URLs."""

    def __init__(self, cfg: RollupConfig):
        self.cfg = cfg
        g1 = cfg.genesis.l1
        self.l1_first = g1.number
        self.l1_genesis_time = cfg.genesis.l2_time  # the genesis L2 block is at its L1 origin's time or later
        self.l2_genesis = {
            "hash": "0x" + cfg.genesis.l2.hash.hex(), "number": hex(cfg.genesis.l2.number),
            "parentHash": "0x" + "00" * 32, "timestamp": hex(cfg.genesis.l2_time), "transactions": [],
            "gasLimit": hex(cfg.genesis.system_config.gas_limit), "gasUsed": "0x0", "baseFeePerGas": "0x3b9aca00",
            "stateRoot": "0x" + "00" * 32, "receiptsRoot": "0x" + "00" * 32, "logsBloom": "0x" + "00" * 256,
            "miner": "0x" + "00" * 20, "extraData": "0x", "mixHash": "0x" + "00" * 32,
            "withdrawalsRoot": "0x" + "00" * 32, "withdrawals": [],
        }

    # ----------------------------------------------------------------------------------------------- L1

    def _l1_hash(self, n: int) -> str:
        return "0x" + self.cfg.genesis.l1.hash.hex() if n == self.l1_first else _h(n)

    def l1_header(self, n: int) -> dict | None:
        if not self.l1_first <= n <= self.l1_first + L1_BLOCKS:
            return None
        z = "0x" + "00" * 32
        return {"hash": self._l1_hash(n), "number": hex(n), "parentHash": self._l1_hash(n - 1) if n > self.l1_first
                else _h(n - 1), "timestamp": hex(self.l1_genesis_time + 12 * (n - self.l1_first)),
                "baseFeePerGas": "0x7", "mixHash": z, "stateRoot": z, "receiptsRoot": z, "transactionsRoot": z,
                "sha3Uncles": z, "logsBloom": "0x" + "00" * 256, "miner": "0x" + "00" * 20, "difficulty": "0x0",
                "gasLimit": "0x1c9c380", "gasUsed": "0x0", "extraData": "0x", "nonce": "0x0000000000000000",
                "excessBlobGas": "0x0", "blobGasUsed": "0x0", "parentBeaconBlockRoot": z,
                "withdrawalsRoot": z, "transactions": [], "withdrawals": []}

    def _l1(self, method, params):
        head = self.l1_first + L1_BLOCKS
        if method == "eth_chainId":
            return hex(self.cfg.l1_chain_id)
        if method == "web3_clientVersion":
            return "Geth/v1.16.0-fake"
        if method == "eth_blockNumber":
            return hex(head)
        if method == "eth_getBlockByNumber":
            tag = params[0]
            n = head if tag in ("latest", "safe", "finalized", "pending") else int(tag, 16)
            return self.l1_header(n)
        if method == "eth_getBlockByHash":
            for n in range(self.l1_first, head + 1):
                if self._l1_hash(n) == params[0]:
                    return self.l1_header(n)
            return None
        raise KeyError(method)

    # ----------------------------------------------------------------------------------------------- engine

    def _engine(self, method, params):
        if method == "eth_chainId":
            return hex(self.cfg.l2_chain_id)
        if method in ("eth_getBlockByNumber", "eth_getBlockByHash"):
            key = params[0]
            if key in ("latest", "safe", "finalized", "pending", hex(self.cfg.genesis.l2.number),
                       self.l2_genesis["hash"]):
                return self.l2_genesis
            return None
        if method.startswith("engine_forkchoiceUpdated"):
            return {"payloadStatus": {"status": "VALID", "latestValidHash": self.l2_genesis["hash"],
                                      "validationError": None}, "payloadId": None}
        if method == "engine_exchangeCapabilities":
            return params[0] if params else []
        raise KeyError(method)

    # ----------------------------------------------------------------------------------------------- source

    def sync_status(self) -> dict:
        g = self.cfg.genesis
        l1 = {"hash": self._l1_hash(self.l1_first), "number": self.l1_first,
              "parentHash": _h(self.l1_first - 1), "timestamp": self.l1_genesis_time}
        l2 = {"hash": "0x" + g.l2.hash.hex(), "number": g.l2.number, "parentHash": "0x" + "00" * 32,
              "timestamp": g.l2_time, "l1origin": {"hash": "0x" + g.l1.hash.hex(), "number": g.l1.number},
              "sequenceNumber": 0}
        return {"current_l1": l1, "current_l1_finalized": l1, "head_l1": l1, "safe_l1": l1, "finalized_l1": l1,
                "unsafe_l2": l2, "safe_l2": l2, "finalized_l2": l2, "pending_safe_l2": l2, "cross_unsafe_l2": l2,
                "local_safe_l2": l2}

    def _source(self, method, params):
        if method == "optimism_syncStatus":
            return self.sync_status()
        raise KeyError(method)

    def __enter__(self) -> FakeChain:
        self._servers = [_Server(self._l1), _Server(self._engine), _Server(self._source)]
        self.l1_server, self.engine_server, self.source_server = self._servers
        self.l1, self.engine, self.source = (s.url for s in self._servers)
        return self

    def __exit__(self, *exc):
        for s in self._servers:
            s.close()
