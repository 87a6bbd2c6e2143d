"""The L1 endpoint's JSON-RPC client is the project's one client (:mod:`opnode.jsonrpc.client`); its names are
re-exported here for the L1 client that builds it from ``L1Config``."""

from opnode.jsonrpc.client import RpcClient, RpcStats
from opnode.jsonrpc.errors import RpcError, TransportError
from opnode.jsonrpc.ws import Subscription

__all__ = ["RpcClient", "RpcError", "RpcStats", "Subscription", "TransportError"]
