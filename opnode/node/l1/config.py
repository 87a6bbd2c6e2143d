"""Settings of the L1 execution and beacon clients, one field per op-node flag (op-node/flags/flags.go).

The node's CLI fills these from ``--l1.*``/``--verifier.l1-confs`` and their ``OP_NODE_*`` environment variables;
the defaults are op-node's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from opnode.jsonrpc.client import RetryPolicy
from opnode.jsonrpc.transport import check_url

# op-node's --l1.rpckind values (op-service/sources/receipts_rpc.go RPCProviderKinds).
RPC_KINDS = ("alchemy", "quicknode", "infura", "parity", "nethermind", "debug_geth", "erigon", "basic", "any",
             "standard")


@dataclass(frozen=True, slots=True)
class L1Config:
    rpc_url: str = "http://127.0.0.1:8545"  # --l1: http(s)://, or ws(s):// to follow the head by subscription
    trust_rpc: bool = False  # --l1.trustrpc: skip recomputing block hashes and roots
    rpc_kind: str = "standard"  # --l1.rpckind
    max_concurrency: int = 10  # --l1.max-concurrency: HTTP requests in flight
    rpc_rate_limit: float = 0.0  # --l1.rpc-rate-limit: requests per second, 0 = off
    rpc_max_batch_size: int = 20  # --l1.rpc-max-batch-size (1..500)
    http_poll_interval: float = 12.0  # --l1.http-poll-interval: head polling (an http L1; ws subscribes)
    epoch_poll_interval: float = 384.0  # --l1.epoch-poll-interval (6m24s): safe/finalized polling
    cache_size: int = 900  # --l1.cache-size: blocks kept per cache (headers, txs, receipts)
    verifier_l1_confs: int = 0  # --verifier.l1-confs: blocks to stay behind the L1 head
    request_timeout: float = 10.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    prefetch_depth: int = 40  # look-ahead blocks fetched while catching up
    headers: tuple[tuple[str, str], ...] = ()
    # anvil commits transactionsRoot to blob txs in their network form (with sidecar), unlike real L1 clients;
    # set for anvil L1s (tests, devnet) so that such roots are checked against anvil's raw forms instead.
    anvil_tx_root: bool = False

    def __post_init__(self):
        try:
            check_url(self.rpc_url)
        except ValueError as e:
            raise ValueError(f"--l1: {e}") from None
        if self.rpc_kind not in RPC_KINDS:
            raise ValueError(f"unknown --l1.rpckind {self.rpc_kind!r} (one of: {', '.join(RPC_KINDS)})")
        if not 1 <= self.rpc_max_batch_size <= 500:
            raise ValueError("--l1.rpc-max-batch-size must be between 1 and 500")
        if self.max_concurrency < 1:
            raise ValueError("--l1.max-concurrency must be at least 1")
        if self.rpc_rate_limit < 0 or self.cache_size < 0 or self.verifier_l1_confs < 0:
            raise ValueError("--l1.rpc-rate-limit, --l1.cache-size and --verifier.l1-confs must not be negative")


@dataclass(frozen=True, slots=True)
class BeaconConfig:
    url: str = ""  # --l1.beacon
    fallbacks: tuple[str, ...] = ()  # --l1.beacon-fallbacks (alias --l1.beacon-archiver)
    header: str = ""  # --l1.beacon-header: "Name: value" sent with every beacon request
    ignore: bool = False  # --l1.beacon.ignore: start even if the beacon endpoint fails its check
    fetch_all_sidecars: bool = False  # --l1.beacon.fetch-all-sidecars
    slot_duration_override: int = 0  # --l1.beacon.slot-duration-override: SECONDS_PER_SLOT without /config/spec
    request_timeout: float = 30.0
    retry: RetryPolicy = field(default_factory=lambda: RetryPolicy(attempts=3))
    max_concurrency: int = 4

    def header_pair(self) -> tuple[str, str] | None:
        if not self.header:
            return None
        name, sep, value = self.header.partition(":")
        if not sep or not name.strip():
            raise ValueError(f"--l1.beacon-header must look like 'Name: value', got {self.header!r}")
        return name.strip(), value.strip()
