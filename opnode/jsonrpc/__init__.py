"""JSON-RPC for every part of the project: the one client, the one server toolkit, the one error type.

- :mod:`opnode.jsonrpc.errors`: :class:`RpcError` (code, message, data), :class:`TransportError`, the codes and
  go-ethereum's texts;
- :mod:`opnode.jsonrpc.client`: :class:`RpcClient` (async: batches, retries, timeouts, JWT, metrics, bounded
  responses, ``eth_subscribe``) and :class:`SyncRpcClient` (set-up code and tools);
- :mod:`opnode.jsonrpc.transport` and :mod:`opnode.jsonrpc.ws`: what carries the client's requests, HTTP(S) or a
  websocket (with its subscriptions), picked by the URL;
- :mod:`opnode.jsonrpc.server`: :class:`Dispatcher` and :class:`JsonRpcApp` (geth's request and HTTP rules);
- :mod:`opnode.jsonrpc.http`: hypercorn on trio and the ASGI helpers;
- :mod:`opnode.jsonrpc.jwt`: the Engine API's HS256 tokens.

A library: it imports only the standard library, third-party packages and ``derivation``; the node, the engine
(both sides) and the tools import it (tests/test_architecture.py).
"""
