"""Real ``opnode engine`` processes on 127.0.0.1 for the multi-engine tests, driven over HTTP + JWT."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from derivation.protocol.crypto import keccak256
from derivation.protocol.hexutil import to_hex
from opnode.jsonrpc.jwt import make_token

ROOT = Path(__file__).resolve().parents[2]
DEV_TIME = 1_700_000_000
SEQ_VAULT = "0x4200000000000000000000000000000000000011"


class EngineProc:
    def __init__(self, tmp: Path, name: str, *extra: str, secret_hex: str = "11" * 32):
        self.tmp = tmp
        self.name = name
        self.secret = bytes.fromhex(secret_hex)
        self.jwt = tmp / f"{name}.jwt"
        self.jwt.write_text("0x" + secret_hex)
        self.log = tmp / f"{name}.log"
        self.args = ["--dev", "--dev.genesis-time", str(DEV_TIME), "--jwt-secret", str(self.jwt),
                     "--http.port", "0", "--authrpc.port", "0", *extra]
        self.proc: subprocess.Popen | None = None
        self.client = httpx.Client(timeout=60)

    def start(self, timeout: float = 90) -> EngineProc:
        self.log.write_text("")
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        with open(self.log, "w") as logf:
            self.proc = subprocess.Popen([sys.executable, "-m", "opnode", "engine", *self.args], cwd=ROOT,
                                         stdout=subprocess.DEVNULL, stderr=logf, env=env, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log.read_text()
            m = re.search(r"http 127\.0\.0\.1:(\d+) authrpc 127\.0\.0\.1:(\d+)", text)
            if m:
                self.http = f"http://127.0.0.1:{m.group(1)}"
                self.auth = f"http://127.0.0.1:{m.group(2)}"
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"engine {self.name} exited: {text[-2000:]}")
            time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"engine {self.name} did not start: {self.log.read_text()[-2000:]}")

    def rpc(self, method: str, *params, auth: bool = True):
        url = self.auth if auth else self.http
        headers = {"Authorization": f"Bearer {make_token(self.secret)}"} if auth else {}
        body = self.client.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)},
                                headers=headers).json()
        if "error" in body:
            raise RuntimeError(f"{method}: {body['error']}")
        return body["result"]

    def kill9(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)

    # -------------------------------------------------------------------------------------------- block driving

    def head(self) -> dict:
        return self.rpc("eth_getBlockByNumber", "latest", False)

    def build(self, txs=()) -> dict:
        """FCU with attributes → getPayload → newPayload → FCU, as the sequencer's node does."""
        head = self.head()
        attrs = {"timestamp": hex(int(head["timestamp"], 16) + 2), "prevRandao": to_hex(keccak256(head["hash"].encode())),
                 "suggestedFeeRecipient": SEQ_VAULT, "withdrawals": [],
                 "parentBeaconBlockRoot": to_hex(keccak256(b"beacon")), "transactions": [to_hex(t.raw) for t in txs],
                 "noTxPool": True, "gasLimit": "0x3938700", "eip1559Params": "0x0000000000000000", "minBaseFee": "0x0"}
        fcs = {"headBlockHash": head["hash"], "safeBlockHash": head["hash"], "finalizedBlockHash": head["hash"]}
        res = self.rpc("engine_forkchoiceUpdatedV3", fcs, attrs)
        env = self.rpc("engine_getPayloadV5", res["payloadId"])
        st = self.rpc("engine_newPayloadV4", env["executionPayload"], [], env["parentBeaconBlockRoot"], [])
        assert st["status"] == "VALID", st
        self.forkchoice(env["executionPayload"]["blockHash"])
        return env

    def insert(self, env: dict) -> dict:
        return self.rpc("engine_newPayloadV4", env["executionPayload"], [], env["parentBeaconBlockRoot"], [])

    def forkchoice(self, head: str) -> dict:
        z = "0x" + "00" * 32
        return self.rpc("engine_forkchoiceUpdatedV3", {"headBlockHash": head, "safeBlockHash": z,
                                                       "finalizedBlockHash": z}, None)
