"""A websocket L1 (``--l1=ws://…``): the node's L1 view (L1Client + HeadTracker) follows anvil's head through an
``eth_subscribe("newHeads")`` subscription instead of polling, observes every head (a gap is filled by parent
hash), and subscribes again after the socket drops. Anvil serves websockets on its HTTP port; a
:class:`~opnode.testing.ws_proxy.WsProxy` in between counts the calls and drops the connection."""

from __future__ import annotations

import trio

from derivation.protocol.hexutil import from_hex, parse_quantity
from opnode.jsonrpc.client import RetryPolicy
from opnode.node.l1.client import L1Client
from opnode.node.l1.config import L1Config
from opnode.node.l1.heads import HeadTracker
from opnode.testing.ws_proxy import WsProxy
from opnode.tools.anvil import Anvil

FAST = RetryPolicy(attempts=3, base_delay=0.05, max_delay=0.2)


async def _until(cond, what: str, timeout: float = 15.0) -> None:
    with trio.move_on_after(timeout):
        while not cond():
            await trio.sleep(0.01)
        return
    raise AssertionError(f"timed out waiting for {what}")


def _head(anvil: Anvil) -> tuple[int, bytes]:
    block = anvil.rpc("eth_getBlockByNumber", "latest", False)
    return parse_quantity(block["number"]), from_hex(block["hash"], 32)


class _View:
    """The L1 view of a light node (headers only) on ``url``, with every head it observed, in order."""

    def __init__(self, client: L1Client):
        self.heads: list[int] = []
        self.reorgs: list[int] = []
        self.tracker = HeadTracker(client, on_change=self._changed, on_reorg=self.reorgs.append)

    def _changed(self, name: str, ref) -> None:
        if name == "head":
            self.heads.append(ref.number)

    def contiguous(self) -> bool:
        return self.heads == list(range(self.heads[0], self.heads[0] + len(self.heads)))


async def test_the_l1_view_follows_anvil_by_subscription_not_polling():
    with Anvil() as anvil:
        async with trio.open_nursery() as outer:
            proxy = await outer.start(WsProxy(anvil.url.replace("http://", "ws://")).serve)
            # polls every 0.1 s would show at once; safe/finalized are still polled (op-node: epoch poll interval)
            cfg = L1Config(rpc_url=proxy.url, anvil_tx_root=True, retry=FAST, http_poll_interval=0.1,
                           epoch_poll_interval=0.2)
            async with L1Client.open(cfg, headers_only=True) as client, trio.open_nursery() as n:
                view = _View(client)
                await n.start(view.tracker.run)
                await _until(lambda: view.tracker.subscribed, "the newHeads subscription")
                latest, safe = proxy.counts["eth_getBlockByNumber/latest"], proxy.counts["eth_getBlockByNumber/safe"]

                for _ in range(3):
                    anvil.rpc("anvil_mine", "0x1")
                number, block_hash = _head(anvil)
                await _until(lambda: view.tracker.head.number == number, f"head {number}")
                assert view.tracker.head.hash == block_hash
                # safe polled 3 more times: many head poll intervals went by, and the head was never polled
                await _until(lambda: proxy.counts["eth_getBlockByNumber/safe"] >= safe + 3, "safe polls")
                assert proxy.counts["eth_getBlockByNumber/latest"] == latest
                assert proxy.counts["eth_blockNumber"] == 0
                assert view.heads[-3:] == [number - 2, number - 1, number] and view.contiguous(), view.heads

                # notifications lost on the way: the next head comes with the blocks below it, read by hash
                proxy.mute = True
                anvil.rpc("anvil_mine", "0x3")
                await _until(lambda: proxy.muted == 3, "3 notifications swallowed")
                proxy.mute = False
                anvil.rpc("anvil_mine", "0x1")
                number, block_hash = _head(anvil)
                await _until(lambda: view.tracker.head.number == number, f"head {number}")
                assert view.tracker.head.hash == block_hash
                assert view.heads[-5:] == list(range(number - 4, number + 1)) and view.contiguous(), view.heads
                assert view.tracker.backfilled == 3 and proxy.counts["eth_getBlockByHash"] == 3
                assert proxy.counts["eth_getBlockByNumber/latest"] == latest
                assert view.tracker.subscriptions == 1 and proxy.connections == 1

                # an L1 reorg: anvil announces the replacing blocks; the head moves back, then up the new branch
                anvil.rpc("anvil_reorg", 2, [])
                new_number, new_hash = _head(anvil)
                assert new_number == number and new_hash != block_hash
                await _until(lambda: view.tracker.head.hash == new_hash, "the reorged head")
                assert view.reorgs == [1] and view.heads[-3:] == [number, number - 1, number]
                n.cancel_scope.cancel()
            outer.cancel_scope.cancel()


async def test_the_subscription_survives_the_socket_dropping():
    with Anvil() as anvil:
        async with trio.open_nursery() as outer:
            proxy = await outer.start(WsProxy(anvil.url.replace("http://", "ws://")).serve)
            cfg = L1Config(rpc_url=proxy.url, anvil_tx_root=True, retry=FAST, http_poll_interval=0.1,
                           epoch_poll_interval=0)
            async with L1Client.open(cfg, headers_only=True) as client, trio.open_nursery() as n:
                view = _View(client)
                await n.start(view.tracker.run)
                await _until(lambda: view.tracker.subscribed, "the newHeads subscription")
                anvil.rpc("anvil_mine", "0x1")
                number, _ = _head(anvil)
                await _until(lambda: view.tracker.head.number == number, f"head {number}")

                # the socket dies and the endpoint stays away while L1 moves on by two blocks
                proxy.down = True
                assert await proxy.drop() == 1
                await _until(lambda: not view.tracker.subscribed, "the subscription to end")
                anvil.rpc("anvil_mine", "0x2")
                await _until(lambda: proxy.refused >= 2, "dials while the endpoint is down")
                assert view.tracker.head.number == number
                latest = proxy.counts["eth_getBlockByNumber/latest"]
                proxy.down = False

                # subscribed again on a new connection; the head read once and the block below it by hash
                number, block_hash = _head(anvil)
                await _until(lambda: view.tracker.subscribed and view.tracker.head.number == number,
                             "the subscription again and the missed heads")
                assert view.tracker.head.hash == block_hash and view.contiguous(), view.heads
                assert view.tracker.subscriptions == 2 and proxy.connections == 2
                assert proxy.counts["eth_getBlockByNumber/latest"] == latest + 1
                assert view.tracker.backfilled == 1

                # and the new subscription carries the next head
                anvil.rpc("anvil_mine", "0x1")
                await _until(lambda: view.tracker.head.number == number + 1, f"head {number + 1}")
                assert proxy.counts["eth_getBlockByNumber/latest"] == latest + 1 and view.contiguous()
                n.cancel_scope.cancel()
            outer.cancel_scope.cancel()


async def test_an_endpoint_without_eth_subscribe_is_polled():
    with Anvil() as anvil:
        async with trio.open_nursery() as outer:
            proxy = await outer.start(WsProxy(anvil.url.replace("http://", "ws://")).serve)
            proxy.refuse = {"eth_subscribe"}
            cfg = L1Config(rpc_url=proxy.url, anvil_tx_root=True, retry=FAST, http_poll_interval=0.1,
                           epoch_poll_interval=0)
            async with L1Client.open(cfg, headers_only=True) as client, trio.open_nursery() as n:
                view = _View(client)
                await n.start(view.tracker.run)
                await _until(lambda: proxy.counts["eth_getBlockByNumber/latest"] >= 4, "head polls")
                assert proxy.counts["eth_subscribe"] == 1 and not view.tracker.subscribed
                anvil.rpc("anvil_mine", "0x1")
                number, block_hash = _head(anvil)
                await _until(lambda: view.tracker.head.hash == block_hash, f"head {number} by polling")
                n.cancel_scope.cancel()
            outer.cancel_scope.cancel()
