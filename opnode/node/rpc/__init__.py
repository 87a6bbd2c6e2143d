"""The node's JSON-RPC surface: the HTTP server, the JSON-RPC protocol, op-node's methods and the NodeAPI they
read through."""
