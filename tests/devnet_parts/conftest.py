"""A real L1 (anvil, one per test module) and helpers to send transactions to it and read what derivation reads."""

from __future__ import annotations

import pytest

from derivation.protocol.hexutil import from_hex, to_hex
from opnode.jsonrpc.client import RpcClient
from opnode.node.l1.client import L1Client
from opnode.node.l1.config import L1Config
from opnode.tools.anvil import Anvil
from opnode.tools.batcher.txmgr import TxManager


@pytest.fixture(scope="module")
def anvil():
    with Anvil() as a:
        yield a


@pytest.fixture
async def rpc(anvil):
    async with RpcClient(anvil.url) as client:
        yield client


def key(hex_key: str) -> bytes:
    return from_hex(hex_key, 32)


def sender(rpc: RpcClient, hex_key: str) -> TxManager:
    return TxManager(rpc, key(hex_key), resubmit_after=30.0)


async def block_receipts(url: str, block_hash: bytes):
    """The block's receipts as derivation gets them: through the verifying L1 client (receipts root checked)."""
    async with L1Client.open(L1Config(rpc_url=url, anvil_tx_root=True)) as client:
        info, receipts = await client.receipts_by_hash(block_hash)
        return info, receipts


async def eth_call(rpc: RpcClient, to: bytes, data: bytes, sender_address: bytes | None = None) -> bytes:
    args = {"to": to_hex(to), "data": to_hex(data)}
    if sender_address is not None:
        args["from"] = to_hex(sender_address)
    return from_hex(await rpc.call("eth_call", args, "latest"))
