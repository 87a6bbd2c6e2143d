"""The node's JSON-RPC surface: the server (on the shared toolkit, :mod:`opnode.jsonrpc.server`), op-node's methods
and the NodeAPI they read through."""
