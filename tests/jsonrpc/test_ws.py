"""The one JSON-RPC client over a websocket (``ws://``), against anvil (which serves websockets on its HTTP port)
through a :class:`~opnode.testing.ws_proxy.WsProxy`: the same answers, errors, batching and metric labels as over
HTTP; the response bound; refusals, hangs and drops as retryable failures that a new connection gets past; and
``eth_subscribe`` notifications that end when the connection does."""

from __future__ import annotations

import datetime
import ipaddress
import ssl

import pytest
import trio

from opnode.jsonrpc.client import RetryPolicy, RpcClient
from opnode.jsonrpc.errors import RpcError, TransportError
from opnode.testing.ws_proxy import WsProxy
from opnode.tools.anvil import Anvil

FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)


class Sink:
    def __init__(self):
        self.seen: list[tuple[str, str | None]] = []

    def record_rpc_client(self, method, seconds, error):
        self.seen.append((method, error))


@pytest.fixture(scope="module")
def anvil():
    with Anvil() as a:
        a.rpc("anvil_mine", "0x3")
        yield a


@pytest.fixture
async def proxy(anvil, nursery):
    return await nursery.start(WsProxy(anvil.url.replace("http://", "ws://")).serve)


CALLS = [("eth_chainId", []), ("eth_blockNumber", []), ("eth_getBlockByNumber", ["0x1", False]),
         ("eth_getBalance", ["0x" + "00" * 20, "latest"])]


async def _session(url: str) -> tuple[list, list, Sink]:
    sink = Sink()
    async with RpcClient(url, retry=FAST, max_batch_size=3, metrics=sink) as c:
        single = [await c.call(m, *p) for m, p in CALLS]
        batched = await c.batch(CALLS * 2)  # 8 calls: requests of 3, 3 and 2
        with pytest.raises(RpcError) as e:
            await c.call("eth_getBlockByNumber", "not a block", False)
        assert e.value.method == "eth_getBlockByNumber" and e.value.code < 0
        return single, batched, sink


async def test_answers_errors_batches_and_metrics_are_the_same_as_over_http(anvil, proxy):
    over_ws = await _session(proxy.url)
    over_http = await _session(anvil.url)
    assert over_ws[0] == over_http[0] and over_ws[1] == over_http[1] == over_http[0] * 2
    assert over_ws[2].seen == over_http[2].seen
    assert [m for m, _ in over_ws[2].seen].count("<batch>") == 3 and over_ws[2].seen[-1][1].startswith("rpc_-")
    assert proxy.connections == 1 and proxy.counts["eth_chainId"] == 3


async def test_the_response_bound_holds_and_a_new_connection_follows(anvil, proxy):
    async with RpcClient(proxy.url, retry=FAST, max_response_bytes=400) as c:
        with pytest.raises(TransportError) as e:
            await c.call("eth_getBlockByNumber", "0x1", False)  # a header is over 1 KB
        assert "failed after 3 attempts" in str(e.value) and "1009" in str(e.value)
        assert await c.call("eth_chainId") == "0x384"  # small answers still come, on a new connection
        assert proxy.connections == 4 and c.websocket.dials == 4


async def test_refusals_hangs_and_drops_are_retried_on_new_connections(anvil, proxy):
    sink = Sink()
    async with RpcClient(proxy.url, retry=FAST, timeout=0.5, metrics=sink) as c:
        proxy.down = True
        with pytest.raises(TransportError) as e:
            await c.call("eth_chainId")
        assert "websocket handshake refused: HTTP 503" in str(e.value) and e.value.status == 503
        assert sink.seen[-1] == ("eth_chainId", "http_503") and proxy.refused == 3
        proxy.down = False
        assert await c.call("eth_chainId") == "0x384"

        proxy.stall = True  # no answer: the call times out and the quiet connection is closed
        with trio.fail_after(5):
            with pytest.raises(TransportError, match="no answer within 0.5s"):
                await c.call("eth_chainId")
        proxy.stall = False
        assert await c.call("eth_chainId") == "0x384"
        assert proxy.connections == 4  # each timed-out attempt closed its connection: the next one dialled anew

        async with trio.open_nursery() as n:  # a connection dropped under a call in flight: the retry gets through
            proxy.stall = True
            got = []
            n.start_soon(lambda: _collect(c, got))
            with trio.fail_after(5):
                while proxy.counts["eth_blockNumber"] == 0:
                    await trio.sleep(0.01)
            proxy.stall = False
            assert await proxy.drop() == 1
        assert got == ["0x3"] and c.stats.retries >= 1


async def _collect(c: RpcClient, got: list) -> None:
    got.append(await c.call("eth_blockNumber"))


async def test_a_subscription_delivers_and_ends_with_its_connection(anvil, proxy):
    async with RpcClient(proxy.url, retry=FAST) as c, RpcClient(anvil.url) as http:
        with pytest.raises(TransportError, match="subscriptions need a ws:// or wss:// endpoint"):
            await http.subscribe("newHeads")
        with pytest.raises(RpcError):
            await c.subscribe("noSuchKind")
        sub = await c.subscribe("newHeads")
        anvil.rpc("anvil_mine", "0x2")
        with trio.fail_after(5):
            numbers = [int((await sub.next())["number"], 16) for _ in range(2)]
        assert numbers[1] == numbers[0] + 1
        await proxy.drop()
        with trio.fail_after(5), pytest.raises(TransportError, match="connection closed"):
            await sub.next()
        assert not sub.active
        again = await c.subscribe("newHeads")  # a new connection
        anvil.rpc("anvil_mine", "0x1")
        with trio.fail_after(5):
            assert int((await again.next())["number"], 16) == numbers[1] + 1
        await again.aclose()
        with trio.fail_after(5):
            while proxy.counts["eth_unsubscribe"] == 0:
                await trio.sleep(0.01)
        assert proxy.connections == 2


async def test_an_unreachable_endpoint_is_a_transport_error():
    async with RpcClient("ws://127.0.0.1:9", retry=FAST, timeout=2) as c:
        with pytest.raises(TransportError, match="failed after 3 attempts: cannot connect"):
            await c.call("eth_chainId")
        assert c.websocket.dials == 3


@pytest.fixture
def tls(tmp_path):
    """A self-signed certificate for 127.0.0.1: (server context, certificate file). Made with ``cryptography``
    (installed with the test extras, by py-libp2p), so no ``openssl`` binary is needed."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert_file, key_file)
    return ctx, cert_file


async def test_wss_verifies_the_server_certificate(anvil, tls, monkeypatch, nursery):
    ctx, cert = tls
    proxy = await nursery.start(WsProxy(anvil.url.replace("http://", "ws://"), ssl_context=ctx).serve)
    assert proxy.url.startswith("wss://")
    async with RpcClient(proxy.url, retry=FAST, timeout=2) as c:
        with pytest.raises(TransportError, match="cannot connect: .*CERTIFICATE_VERIFY_FAILED"):
            await c.call("eth_chainId")
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the system's trust store, plus this certificate
    async with RpcClient(proxy.url, retry=FAST, timeout=2) as c:
        assert await c.call("eth_chainId") == "0x384"
        sub = await c.subscribe("newHeads")
        anvil.rpc("anvil_mine", "0x1")
        with trio.fail_after(5):
            assert int((await sub.next())["number"], 16) == int(anvil.rpc("eth_blockNumber"), 16)
