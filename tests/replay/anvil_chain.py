"""A small OP chain on a real L1 (anvil) for recording tests: a sequencer builds L2 blocks on anvil's blocks (the
harness's stand-in engine keeps them), a batcher posts them to anvil as calldata and blob transactions, and a
small JSON-RPC server plays the L2 execution layer (``eth_getBlockBy*`` with full transactions) over those blocks.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field

from derivation.protocol.attributes import PayloadAttributes
from derivation.protocol.batches import SingularBatch
from derivation.protocol.compression import BROTLI, ZLIB
from derivation.protocol.crypto import keccak256
from derivation.protocol.hexutil import from_hex, parse_quantity, quantity, to_hex
from derivation.protocol.l1_chain_config import L1ChainConfig
from derivation.protocol.rollup_config import Fork, Genesis, RollupConfig
from derivation.protocol.system_config import SystemConfig
from derivation.protocol.transactions import DEPOSIT, LEGACY
from derivation.protocol.transactions import decode as decode_tx
from derivation.protocol.types import BlockID, L1BlockInfo, L1BlockRef, Receipt
from derivation.providers import DataKind, DataRequest, NeedData
from derivation.stages.attributes_builder import AttributesBuilder
from opnode.jsonrpc.http import lifespan, read_body, send_response
from opnode.node.l1 import blockdata
from opnode.testing.harness.l2 import MemoryL2
from opnode.testing.harness.world import ECOTONE_SCALAR
from opnode.testing.txgen import KEYS, make_tx
from opnode.tools.anvil import Anvil
from opnode.tools.batcher.channel_out import ChannelOut, blob_payloads, calldata_payloads
from opnode.tools.l1_traffic import DEFAULT_INBOX, L1Traffic

L2_CHAIN_ID = 901
L1_CHAIN_CONFIG_JSON = {"chainId": 900, "cancunTime": 0, "pragueTime": 0,
                        "blobSchedule": {"cancun": {"baseFeeUpdateFraction": 3338477},
                                         "prague": {"baseFeeUpdateFraction": 5007716}}}


class AnvilL1:
    """What the sequencer reads from L1 (headers and receipts), straight from anvil."""

    def __init__(self, anvil: Anvil):
        self.anvil = anvil

    def _info(self, block) -> L1BlockInfo:
        if block is None:
            raise NeedData(DataRequest(DataKind.L1_BLOCK_BY_NUMBER, 0))
        return blockdata.block_info(block)

    def block_by_number(self, number: int) -> L1BlockInfo:
        return self._info(self.anvil.rpc("eth_getBlockByNumber", hex(number), False))

    def block_by_hash(self, block_hash: bytes) -> L1BlockInfo:
        return self._info(self.anvil.rpc("eth_getBlockByHash", to_hex(block_hash), False))

    def receipts(self, block: L1BlockRef) -> list[Receipt]:
        full = self.anvil.rpc("eth_getBlockByHash", to_hex(block.hash), True)
        rs = self.anvil.rpc("eth_getBlockReceipts", to_hex(block.hash))
        info = blockdata.block_info(full)
        return blockdata.receipts_from_json(block.hash, block.number, [from_hex(t["hash"]) for t in
                                                                       full["transactions"]], rs, info.receipts_root)

    def head(self) -> L1BlockInfo:
        return self._info(self.anvil.rpc("eth_getBlockByNumber", "latest", False))


@dataclass
class AnvilChain:
    anvil: Anvil
    cfg: RollupConfig
    l1_chain: L1ChainConfig
    l2: MemoryL2
    traffic: L1Traffic
    batches: list[tuple] = field(default_factory=list)  # (ref, batch, sequence number)
    posted: int = 0
    nonce: dict = field(default_factory=lambda: {k: 0 for k in KEYS})

    @classmethod
    def start(cls, anvil: Anvil, holocene_after: int = 30) -> AnvilChain:
        traffic = L1Traffic(anvil)
        traffic.set_automine(False)
        traffic.mine(2)
        g = AnvilL1(anvil).head()
        sys_cfg = SystemConfig(traffic.sender, bytes(32), ECOTONE_SCALAR, 30_000_000)
        cfg = RollupConfig(
            genesis=Genesis(g.id, BlockID(keccak256(b"anvil L2 genesis"), 0), g.time, sys_cfg), block_time=1,
            max_sequencer_drift=600, seq_window_size=100, channel_timeout=30, l1_chain_id=900,
            l2_chain_id=L2_CHAIN_ID, batch_inbox_address=DEFAULT_INBOX,
            deposit_contract_address=bytes.fromhex("00" * 19 + "d1"),
            l1_system_config_address=bytes.fromhex("00" * 19 + "d2"),
            fork_times={Fork.GRANITE: g.time, Fork.HOLOCENE: g.time + holocene_after})
        cfg.check()
        return cls(anvil, cfg, L1ChainConfig.from_genesis_config(L1_CHAIN_CONFIG_JSON), MemoryL2(cfg), traffic)

    def sequence_to_l1_head(self) -> None:
        """L2 blocks until the L2 clock reaches the L1 head's time; each may adopt the next L1 block as origin."""
        l1 = AnvilL1(self.anvil)
        builder = AttributesBuilder(self.cfg, self.l1_chain, l1, self.l2)
        head = l1.head()
        while self.l2.head.time < head.time:
            parent = self.l2.head
            ts = parent.time + self.cfg.block_time
            cur = l1.block_by_hash(parent.l1_origin.hash)
            nxt = l1.block_by_number(cur.number + 1) if cur.number < head.number else None
            epoch = nxt if nxt is not None and nxt.time <= ts else cur
            attrs = builder.prepare(parent, epoch.id)
            key = KEYS[len(self.batches) % len(KEYS)]
            user = (make_tx(2, L2_CHAIN_ID, key, self.nonce[key], data=bytes(len(self.batches) % 50)),)
            self.nonce[key] += 1
            if self.cfg.is_empty_activation_block(ts):
                user = ()
            attrs = dataclasses.replace(attrs, transactions=attrs.transactions + user)
            ref = self.l2.execute(parent, attrs)
            self.batches.append((ref, SingularBatch(parent.hash, epoch.number, epoch.hash, ts, user),
                                 ref.sequence_number))

    def post(self, *, da: str, span: bool = True, brotli: bool = False) -> None:
        """One channel with the blocks not posted yet, in the next L1 block."""
        new = self.batches[self.posted:]
        self.posted = len(self.batches)
        ch = ChannelOut(keccak256(b"channel" + len(self.batches).to_bytes(4, "big"))[:16], span=span,
                        compression=BROTLI if brotli else ZLIB, chain_id=L2_CHAIN_ID,
                        genesis_time=self.cfg.genesis.l2_time)
        for _, batch, seq in new:
            ch.add_block(batch, seq)
        frames = ch.frames(600)
        if da == "calldata":
            for p in calldata_payloads(frames):
                self.traffic.send_calldata(p)
        else:
            self.traffic.send_blobs(blob_payloads(frames))
        self.traffic.mine(1)

    def rollup_json(self) -> dict:
        return self.cfg.to_json()


# ------------------------------------------------------------------------------------------------ L2 stand-in


def tx_json(raw: bytes) -> dict:
    tx = decode_tx(raw)
    out = {"type": quantity(tx.type), "hash": to_hex(tx.hash), "from": to_hex(tx.sender()),
           "to": None if tx.to is None else to_hex(tx.to), "gas": quantity(tx.gas), "value": quantity(tx.value),
           "input": to_hex(tx.data)}
    if tx.type == DEPOSIT:
        out.update(sourceHash=to_hex(tx.source_hash), mint=quantity(tx.mint), isSystemTx=tx.is_system_tx,
                   nonce="0x0")
        return out
    out.update(nonce=quantity(tx.nonce), v=quantity(tx.v), r=quantity(tx.r), s=quantity(tx.s))
    if tx.type == LEGACY:
        out["gasPrice"] = quantity(tx.gas_price)
        return out
    out.update(chainId=quantity(tx.chain_id), yParity=quantity(tx.v),
               accessList=[{"address": to_hex(a), "storageKeys": [to_hex(k) for k in ks]} for a, ks in tx.access_list])
    if tx.type == 1:
        out["gasPrice"] = quantity(tx.gas_price)
    else:
        out.update(maxFeePerGas=quantity(tx.max_fee_per_gas), maxPriorityFeePerGas=quantity(tx.max_priority_fee_per_gas))
    return out


def block_json(cfg: RollupConfig, block) -> dict:
    a: PayloadAttributes | None = block.attributes
    ref = block.ref
    out = {"hash": to_hex(ref.hash), "number": quantity(ref.number), "parentHash": to_hex(ref.parent_hash),
           "timestamp": quantity(ref.time), "extraData": to_hex(block.extra_data),
           "gasLimit": quantity(a.gas_limit if a else cfg.genesis.system_config.gas_limit),
           "mixHash": to_hex(a.prev_randao if a else bytes(32)),
           "miner": to_hex(a.suggested_fee_recipient if a else bytes(20)),
           "transactions": [tx_json(t) for t in (a.transactions if a else ())]}
    if a is not None and a.withdrawals is not None:
        out["withdrawals"] = []
    if a is not None and a.parent_beacon_block_root is not None:
        out["parentBeaconBlockRoot"] = to_hex(a.parent_beacon_block_root)
    return out


class L2StandIn:
    """An ASGI JSON-RPC app serving a MemoryL2 chain as an execution layer would."""

    def __init__(self, cfg: RollupConfig, l2: MemoryL2):
        self.cfg = cfg
        self.l2 = l2
        self.calls: list[str] = []

    def _call(self, method: str, params: list):
        self.calls.append(method)
        if method == "eth_chainId":
            return quantity(self.cfg.l2_chain_id)
        if method == "web3_clientVersion":
            return "opnode-test-l2-standin"
        if method == "eth_blockNumber":
            return quantity(self.l2.head.number)
        if method == "eth_getBlockByNumber":
            tag = params[0]
            n = self.l2.head.number if tag == "latest" else parse_quantity(tag)
            i = n - self.cfg.genesis.l2.number
            return block_json(self.cfg, self.l2.canonical[i]) if 0 <= i < len(self.l2.canonical) else None
        if method == "eth_getBlockByHash":
            b = self.l2.by_hash.get(from_hex(params[0], 32))
            return None if b is None else block_json(self.cfg, b)
        raise KeyError(method)

    def _answer(self, req: dict) -> dict:
        try:
            return {"jsonrpc": "2.0", "id": req["id"], "result": self._call(req["method"], req.get("params") or [])}
        except KeyError:
            return {"jsonrpc": "2.0", "id": req.get("id"), "error": {"code": -32601, "message": "method not found"}}

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        body = json.loads(await read_body(receive))
        doc = [self._answer(r) for r in body] if isinstance(body, list) else self._answer(body)
        await send_response(send, 200, json.dumps(doc).encode())
