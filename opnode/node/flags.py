"""``opnode node`` flags with op-node's names, ``OP_NODE_*`` environment variables and defaults: every flag the
op-node binary of 2026 accepts (spec-vectors/op_node_flags.json, read out of okx/optimism@7573e762 (2026-06-30),
a fork that syncs upstream op-node: op-node/flags/{flags,p2p_flags}.go, op-service/{flags,log,metrics,oppprof,rpc,
signer,tls}, op-alt-da/cli.go), plus a few op-node removed that old command lines still carry.

Precedence is flag > environment > default, as urfave/cli. Values are parsed as op-node parses them
(:mod:`opnode.node.flag_types`); the click options and grouped help are :mod:`opnode.node.flag_options`. A bad value
is a click ``BadParameter`` (one line, exit 2). Every option's click default is None so the config builder can tell "not
given" from "given the default" (op-node's ``ctx.IsSet``); the defaults below are applied by
:func:`opnode.node.config.node_config_from` and shown in ``--help``.

Every flag has one of three statuses (:attr:`Flag.status`):
- ``implemented``: the node does what op-node does with it;
- ``no-op``: accepted so op-node command lines and env files start, without effect; giving it logs one WARN naming
  it at start;
- ``refused``: accepted with its default (off/empty) value; any other value is a one-line error (exit 2), because
  running on while ignoring it would be unsafe (``--altda.enabled=true``, ``--conductor.enabled=true``, a remote
  signer, the interop supervisor RPC).
"""

from __future__ import annotations

from dataclasses import dataclass

import click

from engine.el_sync import DEFAULT_ENGINE_KIND, ENGINE_KINDS
from engine.finality import FINALITY_DELAY
from opnode.node.flag_types import BOOL, DURATION, FLOAT, INT, LIST, TEXT, UINT, Choice, Duration, format_duration

ENV_PREFIX = "OP_NODE_"

# Help groups, in the order ``opnode node --help`` shows them.
ROLLUP = "Rollup"
L1 = "L1 RPC"
BEACON = "L1 beacon"
L2 = "L2 execution engine"
SYNC = "Sync"
SEQUENCER = "Sequencer"
FOLLOW = "Follow source (light node)"
SAFEDB = "Safe-head database"
RPC = "RPC server"
METRICS = "Metrics"
LOG = "Logging"
P2P = "Peer-to-peer"
PPROF = "Profiling (accepted, no effect)"
SIGNER = "Remote signer (not supported)"
ALTDA = "Alt-DA (not supported)"
INTEROP = "Interop supervisor (not supported)"
DEPRECATED = "Deprecated (accepted, no effect)"
CATEGORIES = (ROLLUP, L1, BEACON, L2, SYNC, SEQUENCER, FOLLOW, SAFEDB, RPC, METRICS, LOG, P2P, PPROF, SIGNER, ALTDA,
              INTEROP)

# ------------------------------------------------------------------------------------------------ the flag table


@dataclass(frozen=True, slots=True)
class Flag:
    name: str
    env: tuple[str, ...]  # suffixes after OP_NODE_
    type: click.ParamType
    default: object
    category: str
    help: str
    aliases: tuple[str, ...] = ()
    hidden: bool = False
    no_effect: bool = False  # accepted for compatibility; giving it logs one WARN naming it
    refuse: str = ""  # why a value other than the default is refused (one-line error, exit 2)

    @property
    def status(self) -> str:
        return "refused" if self.refuse else "no-op" if self.no_effect else "implemented"

    @property
    def dest(self) -> str:
        return self.name.replace(".", "_").replace("-", "_")

    @property
    def envvars(self) -> tuple[str, ...]:
        return tuple(ENV_PREFIX + e for e in self.env)

    def default_text(self) -> str | None:
        d = self.default
        if d is None or d == "" or d == ():
            return None
        if isinstance(self.type, Duration):
            return format_duration(d)
        if isinstance(d, bool):
            return "true" if d else "false"
        return str(d)


def _f(name, env, type_, default, category, help_, extra_env=(), **kw) -> Flag:
    """``extra_env``: variables op-node does not declare (yet) that opnode reads too, after op-node's."""
    env = (env,) if isinstance(env, str) else tuple(env)
    return Flag(name, env + tuple(extra_env), type_, default, category, help_, **kw)


SYNC_MODES = ("consensus-layer", "execution-layer")
L1_RPC_KINDS = ("alchemy", "quicknode", "infura", "parity", "nethermind", "debug_geth", "erigon", "basic", "any",
                "standard")
LOG_LEVELS = ("trace", "debug", "info", "warn", "error", "crit")
LOG_FORMATS = ("text", "terminal", "logfmt", "json")
HALT_LEVELS = ("major", "minor", "patch", "none")
# --override.<name> → the rollup.json fork it moves; op-service/flags OverridableForks (Canyon on) + optional forks.
OVERRIDE_FORKS = ("canyon", "delta", "ecotone", "fjord", "granite", "holocene", "isthmus", "jovian", "karst",
                  "interop")

FLAGS: tuple[Flag, ...] = (
    # rollup / core
    _f("network", "NETWORK", TEXT, None, ROLLUP,
       "Predefined network: op-mainnet, op-sepolia, base-mainnet, base-sepolia, unichain-mainnet, unichain-sepolia "
       "(exactly one of --network and --rollup.config)"),
    _f("rollup.config", "ROLLUP_CONFIG", TEXT, None, ROLLUP, "Rollup chain parameters (op-node rollup.json)"),
    _f("rollup.l1-chain-config", "ROLLUP_L1_CHAIN_CONFIG", TEXT, None, ROLLUP,
       "L1 chain config (geth genesis or its config object) for L1 chains without a built-in blob schedule"),
    *(_f(f"override.{fork}", f"OVERRIDE_{fork.upper()}", UINT, None, ROLLUP,
         f"Manually specify the {fork.capitalize()} fork timestamp, overriding the bundled setting",
         # op-node v1.19.1 renamed Interop to Lagoon (ethereum-optimism/optimism #21105, #21370)
         aliases=("override.lagoon",) if fork == "interop" else (),
         extra_env=("OVERRIDE_LAGOON",) if fork == "interop" else ()) for fork in OVERRIDE_FORKS),
    _f("override.pectrablobschedule", "OVERRIDE_PECTRABLOBSCHEDULE", UINT, None, ROLLUP,
       "Manually specify the PectraBlobSchedule fork timestamp, overriding the bundled setting"),
    _f("interop.dependency-set", "INTEROP_DEPENDENCY_SET", TEXT, None, ROLLUP,
       "Interop dependency set, op-node's JSON file; default: the bundled network's (required when Lagoon is "
       "scheduled)"),
    _f("ignore-missing-pectra-blob-schedule", "IGNORE_MISSING_PECTRA_BLOB_SCHEDULE", BOOL, False, ROLLUP,
       "Ignore a missing Pectra blob schedule fix (accepted; no effect: the bundled networks carry it)", hidden=True,
       no_effect=True),
    _f("experimental.sequencer-api", "EXPERIMENTAL_SEQUENCER_API", BOOL, False, ROLLUP,
       "op-node's experimental test-sequencer RPC (accepted; no effect)", no_effect=True),
    _f("fetch-withdrawal-root-from-state", "FETCH_WITHDRAWAL_ROOT_FROM_STATE", BOOL, False, ROLLUP,
       "Read the message passer storage root with eth_getProof even after Isthmus (optimism_outputAtBlock)"),
    # L1 RPC
    _f("l1", "L1_ETH_RPC", TEXT, "http://127.0.0.1:8545", L1,
       "Address of L1 User JSON-RPC endpoint to use (eth namespace required): http(s)://, or ws(s):// to follow "
       "the L1 head by eth_subscribe newHeads instead of polling; required"),
    _f("l1.trustrpc", "L1_TRUST_RPC", BOOL, False, L1,
       "Trust the L1 RPC: skip re-computing block hashes and roots"),
    _f("l1.rpckind", "L1_RPC_KIND", Choice(L1_RPC_KINDS, fold=True), "standard", L1,
       "The kind of L1 RPC provider, for efficient receipts fetching: " + ", ".join(L1_RPC_KINDS)),
    _f("l1.max-concurrency", "L1_MAX_CONCURRENCY", INT, 10, L1, "Maximum number of concurrent L1 RPC requests"),
    _f("l1.rpc-rate-limit", "L1_RPC_RATE_LIMIT", FLOAT, 0.0, L1,
       "Self-imposed global rate limit on L1 RPC requests, requests/second; 0 disables"),
    _f("l1.rpc-max-batch-size", "L1_RPC_MAX_BATCH_SIZE", INT, 20, L1,
       "Maximum number of RPC requests to bundle in one HTTP batch (1-500)"),
    _f("l1.http-poll-interval", "L1_HTTP_POLL_INTERVAL", DURATION, 12.0, L1,
       "Polling interval for the latest L1 block when --l1 is an HTTP endpoint (a ws:// one is subscribed to)"),
    _f("l1.cache-size", "L1_CACHE_SIZE", UINT, 900, L1, "L1 blocks kept per cache (headers, transactions, receipts)"),
    _f("l1.epoch-poll-interval", "L1_EPOCH_POLL_INTERVAL", DURATION, 384.0, L1,
       "Poll interval for L1 safe and finalized blocks; 0 or negative disables"),
    _f("l1.runtime-config-reload-interval", "L1_RUNTIME_CONFIG_RELOAD_INTERVAL", DURATION, 600.0, L1,
       "Poll interval for reloading the runtime config (unsafe block signer); 0 or negative disables"),
    _f("verifier.l1-confs", "VERIFIER_L1_CONFS", UINT, 0, L1,
       "Number of L1 blocks to keep distance from the L1 head before deriving L2 data from"),
    # beacon
    _f("l1.beacon", "L1_BEACON", TEXT, "", BEACON, "Address of L1 Beacon-node HTTP endpoint to use"),
    _f("l1.beacon-header", "L1_BEACON_HEADER", TEXT, "", BEACON,
       "HTTP header added to every beacon request, 'X-Key: Value'"),
    _f("l1.beacon-fallbacks", ("L1_BEACON_FALLBACKS", "L1_BEACON_ARCHIVER"), LIST, (), BEACON,
       "Beacon-API fallback endpoints for blobs the main beacon node no longer has (comma-separated)",
       aliases=("l1.beacon-archiver",)),
    _f("l1.beacon.ignore", "L1_BEACON_IGNORE", BOOL, False, BEACON,
       "Start even without a working beacon endpoint"),
    _f("l1.beacon.fetch-all-sidecars", "L1_BEACON_FETCH_ALL_SIDECARS", BOOL, False, BEACON,
       "Fetch all blob sidecars of a block and filter them locally (for buggy beacon nodes)"),
    _f("l1.beacon.slot-duration-override", "L1_BEACON_SLOT_DURATION_OVERRIDE", UINT, 0, BEACON,
       "L1 slot duration in seconds; when non-zero, /eth/v1/config/spec is not fetched (devnets without it)"),
    # L2 / engine
    _f("l2", "L2_ENGINE_RPC", TEXT, None, L2,
       "Address of L2 Engine JSON-RPC endpoints to use (engine and eth namespace required); required"),
    _f("l2.jwt-secret", "L2_ENGINE_AUTH", TEXT, None, L2,
       "Path to the JWT secret: 32 bytes, hex encoded; generated if the file is missing or empty; required"),
    _f("l2.enginekind", "L2_ENGINE_KIND", Choice(ENGINE_KINDS, fold=True), DEFAULT_ENGINE_KIND, L2,
       "The kind of engine client: " + ", ".join(ENGINE_KINDS) + ". With --syncmode=execution-layer, reth and "
       "erigon EL-sync even when the engine already has a finalized block past genesis; geth then skips EL sync"),
    _f("l2.engine-rpc-timeout", "L2_ENGINE_RPC_TIMEOUT", DURATION, 10.0, L2, "L2 engine client RPC timeout"),
    # sync
    _f("syncmode", "SYNCMODE", Choice(SYNC_MODES), "consensus-layer", SYNC,
       "Blockchain sync mode: consensus-layer or execution-layer"),
    _f("syncmode.req-resp", "SYNCMODE_REQ_RESP", BOOL, False, SYNC,
       "Fetch missing unsafe blocks from peers by request-response (accepted; no effect: req-resp sync is not "
       "implemented)", no_effect=True),
    _f("syncmode.offset-el-safe", "SYNCMODE_OFFSET_EL_SAFE", DURATION, 0.0, SYNC,
       "After execution-layer sync completes, set safe and finalized this far behind the synced tip (in L2 blocks, "
       "rounded up); 0: at the tip. Ignored unless --syncmode=execution-layer"),
    # sequencer
    _f("sequencer.enabled", "SEQUENCER_ENABLED", BOOL, False, SEQUENCER, "Enable sequencing of new L2 blocks"),
    _f("sequencer.stopped", "SEQUENCER_STOPPED", BOOL, False, SEQUENCER,
       "Start the sequencer stopped (admin_startSequencer starts it)"),
    _f("sequencer.max-safe-lag", "SEQUENCER_MAX_SAFE_LAG", UINT, 0, SEQUENCER,
       "Maximum number of L2 blocks between safe and unsafe heads; 0 disables"),
    _f("sequencer.l1-confs", "SEQUENCER_L1_CONFS", UINT, 4, SEQUENCER,
       "Number of L1 blocks to keep distance from the L1 head when picking an L1 origin"),
    _f("sequencer.recover", "SEQUENCER_RECOVER", BOOL, False, SEQUENCER,
       "Recovery mode: strictly take the next L1 origin and build blocks without transactions from the pool"),
    _f("sequencer.sealing-duration", "SEQUENCER_SEALING_DURATION", DURATION, 0.05, SEQUENCER,
       "Time before a block's timestamp at which the sequencer seals it (fetches the payload from the engine); "
       "0 or less means 50ms"),
    _f("finality.lookback", "FINALITY_LOOKBACK", UINT, 0, ROLLUP,
       "Number of L1 blocks of safe-head records kept for finality; 0 uses the default (4 epochs + 1)"),
    _f("finality.delay", "FINALITY_DELAY", UINT, FINALITY_DELAY, ROLLUP,
       "Number of L1 blocks derivation traverses before trying to finalize L2 blocks again when idle (a new "
       "finalized L1 block is tried at once)"),
    _f("conductor.enabled", "CONDUCTOR_ENABLED", BOOL, False, SEQUENCER,
       "Enable op-conductor (not supported by opnode)", refuse="op-conductor is not supported by opnode"),
    _f("conductor.rpc", "CONDUCTOR_RPC", TEXT, "http://127.0.0.1:8547", SEQUENCER,
       "Conductor service RPC endpoint (accepted; no effect)", no_effect=True),
    _f("conductor.rpc-timeout", "CONDUCTOR_RPC_TIMEOUT", DURATION, 1.0, SEQUENCER,
       "Conductor service RPC timeout (accepted; no effect)", no_effect=True),
    # follow source
    _f("l2.follow.source", "L2_FOLLOW_SOURCE", TEXT, "", FOLLOW,
       "RPC of a rollup node (op-node, opnode, or op-supernode /<chainID>) to take safe and finalized heads from, "
       "instead of deriving them"),
    _f("l2.follow.source.rpc-timeout", "L2_FOLLOW_SOURCE_RPC_TIMEOUT", DURATION, 10.0, FOLLOW,
       "Timeout of each optimism_syncStatus call to the follow source"),
    # safe-head DB
    _f("safedb.path", "SAFEDB_PATH", TEXT, "", SAFEDB,
       "File (or directory) of the safe-head database serving optimism_safeHeadAtL1Block; disabled if not set"),
    # RPC
    # op-node's rpcDefaults: 0.0.0.0 ("TODO(#16487): Switch to 127.0.0.1"), okx/optimism@7573e762 (2026-06-30) and
    # karlfloersch/optimism@f0b2b80e (2026-04-22) op-node/flags/flags.go
    _f("rpc.addr", "RPC_ADDR", TEXT, "0.0.0.0", RPC, "RPC listening address"),
    _f("rpc.port", "RPC_PORT", INT, 9545, RPC, "RPC listening port"),
    _f("rpc.enable-admin", "RPC_ENABLE_ADMIN", BOOL, False, RPC, "Enable the admin API"),
    _f("rpc.admin-state", "RPC_ADMIN_STATE", TEXT, "", RPC,
       "File persisting admin API changes (sequencer started/stopped) across restarts"),
    # metrics
    _f("metrics.enabled", "METRICS_ENABLED", BOOL, False, METRICS, "Enable the metrics server"),
    _f("metrics.addr", "METRICS_ADDR", TEXT, "0.0.0.0", METRICS, "Metrics listening address"),
    _f("metrics.port", "METRICS_PORT", INT, 7300, METRICS, "Metrics listening port"),
    # log
    _f("log.level", "LOG_LEVEL", Choice(LOG_LEVELS, fold=True, aliases={"trce": "trace", "dbug": "debug",
                                                                         "eror": "error"}), "info", LOG,
       "The lowest log level that will be output: " + ", ".join(LOG_LEVELS)),
    _f("log.format", "LOG_FORMAT", Choice(LOG_FORMATS), "text", LOG,
       "Log format: text (logfmt, or terminal with --log.color), terminal, logfmt, json"),
    _f("log.color", "LOG_COLOR", BOOL, False, LOG, "Color the log output in terminal format"),
    _f("log.pid", "LOG_PID", BOOL, False, LOG, "Show pid in the log"),
    # pprof
    _f("pprof.enabled", "PPROF_ENABLED", BOOL, False, PPROF, "Enable the pprof server", no_effect=True),
    _f("pprof.addr", "PPROF_ADDR", TEXT, "0.0.0.0", PPROF, "pprof listening address", no_effect=True),
    _f("pprof.port", "PPROF_PORT", INT, 6060, PPROF, "pprof listening port", no_effect=True),
    _f("pprof.path", "PPROF_PATH", TEXT, "", PPROF, "pprof profile output path", no_effect=True),
    _f("pprof.type", "PPROF_TYPE", TEXT, "", PPROF, "pprof profile type", no_effect=True),
    # p2p (op-node/flags/p2p_flags.go)
    _f("p2p.disable", "P2P_DISABLE", BOOL, False, P2P, "Completely disable the P2P stack"),
    _f("p2p.gossip.timestamp.threshold", "P2P_GOSSIP_TIMESTAMP_THRESHOLD", DURATION, 60.0, P2P,
       "Reject gossiped blocks whose timestamp is older than this"),
    _f("p2p.no-discovery", "P2P_NO_DISCOVERY", BOOL, False, P2P, "Disable Discv5 (node discovery)"),
    _f("p2p.scoring", "P2P_PEER_SCORING", Choice(("light", "none")), "light", P2P,
       "Peer scoring: light (gossip score: invalid blocks lower it) or none"),
    _f("p2p.ban.peers", "P2P_PEER_BANNING", BOOL, True, P2P,
       "Disconnect and ban peers whose score falls below the threshold"),
    _f("p2p.ban.threshold", "P2P_PEER_BANNING_THRESHOLD", FLOAT, -100.0, P2P, "Score below which peers are banned"),
    _f("p2p.ban.duration", "P2P_PEER_BANNING_DURATION", DURATION, 3600.0, P2P, "Duration of a peer ban"),
    _f("p2p.priv.path", "P2P_PRIV_PATH", TEXT, "opnode_p2p_priv.txt", P2P,
       "File holding the hex secp256k1 private key of the P2P identity (created if missing)"),
    _f("p2p.priv.raw", "P2P_PRIV_RAW", TEXT, "", P2P, "The P2P private key as hex (overrides --p2p.priv.path)",
       hidden=True),
    _f("p2p.listen.ip", "P2P_LISTEN_IP", TEXT, "0.0.0.0", P2P, "IP to bind LibP2P and Discv5 to"),
    _f("p2p.listen.tcp", "P2P_LISTEN_TCP_PORT", UINT, 9222, P2P, "TCP port to bind LibP2P to; 0 picks a free port"),
    _f("p2p.listen.udp", "P2P_LISTEN_UDP_PORT", UINT, 0, P2P, "UDP port to bind Discv5 to; 0 uses the TCP port",
       no_effect=True),
    _f("p2p.advertise.ip", "P2P_ADVERTISE_IP", TEXT, "", P2P, "IP to advertise in Discv5"),
    _f("p2p.advertise.tcp", "P2P_ADVERTISE_TCP", UINT, 0, P2P, "TCP port to advertise; 0 uses the listen port"),
    _f("p2p.advertise.udp", "P2P_ADVERTISE_UDP", UINT, 0, P2P, "UDP port to advertise; 0 uses the listen port",
       no_effect=True),
    _f("p2p.bootnodes", "P2P_BOOTNODES", LIST, (), P2P, "Comma-separated ENR/enode URLs to bootstrap discovery"),
    _f("p2p.static", "P2P_STATIC", LIST, (), P2P, "Comma-separated multiaddrs of peers to stay connected to"),
    _f("p2p.netrestrict", "P2P_NETRESTRICT", LIST, (), P2P,
       "Comma-separated CIDRs peers must be in: others are neither dialed nor accepted"),
    _f("p2p.nat", "P2P_NAT", BOOL, False, P2P, "Use NAT port mapping",
       no_effect=True),
    _f("p2p.peers.lo", "P2P_PEERS_LO", UINT, 20, P2P, "Low-water mark of peer count"),
    _f("p2p.peers.hi", "P2P_PEERS_HI", UINT, 30, P2P, "High-water mark of peer count"),
    _f("p2p.peers.grace", "P2P_PEERS_GRACE", DURATION, 30.0, P2P, "Grace period of new peers before pruning"),
    _f("p2p.peerstore.path", "P2P_PEERSTORE_PATH", TEXT, "opnode_peerstore_db", P2P,
       "Peerstore database (sqlite: known peers, scores, bans); 'memory' keeps it in memory"),
    _f("p2p.discovery.path", "P2P_DISCOVERY_PATH", TEXT, "opnode_discovery_db", P2P,
       "Discovery database location; 'memory' keeps it in memory",
       no_effect=True),
    _f("p2p.sequencer.key", "P2P_SEQUENCER_KEY", TEXT, "", P2P, "Hex private key for signing sequenced blocks"),
    _f("p2p.sync.req-resp", "P2P_SYNC_REQ_RESP", BOOL, True, P2P, "Serve and request blocks by number from peers",
       no_effect=True),
    _f("p2p.sync.onlyreqtostatic", "P2P_SYNC_ONLYREQTOSTATIC", BOOL, False, P2P,
       "Send block requests only to static peers",
       no_effect=True),
    _f("p2p.gossip.mesh.d", "P2P_GOSSIP_MESH_D", UINT, 8, P2P, "GossipSub topic stable mesh target count",
       hidden=True),
    _f("p2p.gossip.mesh.lo", "P2P_GOSSIP_MESH_DLO", UINT, 6, P2P, "GossipSub topic stable mesh low watermark",
       hidden=True),
    _f("p2p.gossip.mesh.dhi", "P2P_GOSSIP_MESH_DHI", UINT, 12, P2P, "GossipSub topic stable mesh high watermark",
       hidden=True),
    _f("p2p.gossip.mesh.dlazy", "P2P_GOSSIP_MESH_DLAZY", UINT, 6, P2P, "GossipSub gossip target", hidden=True,
       no_effect=True),
    _f("p2p.gossip.mesh.floodpublish", "P2P_GOSSIP_FLOOD_PUBLISH", BOOL, False, P2P,
       "Publish messages to all known peers on the topic", hidden=True),
    _f("p2p.mux", "P2P_MUX", TEXT, "yamux,mplex", P2P, "Stream multiplexers, in order of preference",
       hidden=True,
       no_effect=True),
    _f("p2p.security", "P2P_SECURITY", TEXT, "noise", P2P, "Transport security protocols", hidden=True,
       no_effect=True),
    _f("p2p.useragent", "P2P_AGENT", TEXT, "optimism", P2P, "User agent in the identify protocol", hidden=True,
       no_effect=True),
    _f("p2p.timeout.negotiation", "P2P_TIMEOUT_NEGOTIATION", DURATION, 10.0, P2P, "Negotiation timeout",
       hidden=True,
       no_effect=True),
    _f("p2p.timeout.accept", "P2P_TIMEOUT_ACCEPT", DURATION, 10.0, P2P, "Accept timeout", hidden=True,
       no_effect=True),
    _f("p2p.timeout.dial", "P2P_TIMEOUT_DIAL", DURATION, 10.0, P2P, "Dial timeout", hidden=True,
       no_effect=True),
    _f("p2p.ping", "P2P_PING", BOOL, True, P2P, "Ping peers periodically", hidden=True,
       no_effect=True),
    # remote signer (op-service/signer, op-service/tls): opnode signs only with --p2p.sequencer.key
    _f("signer.endpoint", "SIGNER_ENDPOINT", TEXT, "", SIGNER, "Remote signer endpoint (not supported)",
       refuse="a remote signer is not supported: give the key with --p2p.sequencer.key"),
    _f("signer.address", "SIGNER_ADDRESS", TEXT, "", SIGNER, "Address the remote signer signs for (accepted; no "
       "effect)", no_effect=True),
    _f("signer.header", "SIGNER_HEADER", LIST, (), SIGNER, "Headers sent to the remote signer (accepted; no effect)",
       no_effect=True),
    _f("signer.tls.enabled", "SIGNER_TLS_ENABLED", BOOL, True, SIGNER, "TLS to the remote signer (accepted; no "
       "effect)", no_effect=True),
    _f("signer.tls.ca", "SIGNER_TLS_CA", TEXT, "tls/ca.crt", SIGNER, "Remote signer TLS CA (accepted; no effect)",
       no_effect=True),
    _f("signer.tls.cert", "SIGNER_TLS_CERT", TEXT, "tls/tls.crt", SIGNER, "Remote signer TLS certificate (accepted; "
       "no effect)", no_effect=True),
    _f("signer.tls.key", "SIGNER_TLS_KEY", TEXT, "tls/tls.key", SIGNER, "Remote signer TLS key (accepted; no "
       "effect)", no_effect=True),
    # alt-DA (op-alt-da/cli.go)
    _f("altda.enabled", "ALTDA_ENABLED", BOOL, False, ALTDA, "Enable Alt-DA mode (not supported)",
       refuse="Alt-DA is not supported by opnode: it would derive a different chain"),
    _f("altda.da-server", "ALTDA_DA_SERVER", TEXT, "", ALTDA, "HTTP address of a DA server (accepted; no effect)",
       no_effect=True),
    _f("altda.verify-on-read", "ALTDA_VERIFY_ON_READ", BOOL, True, ALTDA, "Verify input data (accepted; no effect)",
       no_effect=True),
    _f("altda.da-service", "ALTDA_DA_SERVICE", BOOL, False, ALTDA, "Use a DA service (accepted; no effect)",
       no_effect=True),
    _f("altda.put-timeout", "ALTDA_PUT_TIMEOUT", DURATION, 0.0, ALTDA, "DA put timeout (accepted; no effect)",
       no_effect=True),
    _f("altda.get-timeout", "ALTDA_GET_TIMEOUT", DURATION, 0.0, ALTDA, "DA get timeout (accepted; no effect)",
       no_effect=True),
    _f("altda.max-concurrent-da-requests", "ALTDA_MAX_CONCURRENT_DA_REQUESTS", UINT, 1, ALTDA,
       "Maximum concurrent DA requests (accepted; no effect)", no_effect=True),
    # interop supervisor RPC (op-node/flags/flags.go, experimental)
    _f("interop.rpc.addr", "INTEROP_RPC_ADDR", TEXT, "", INTEROP, "Supervisor RPC address (not supported)",
       refuse="the interop supervisor RPC is not supported by opnode"),
    _f("interop.rpc.port", "INTEROP_RPC_PORT", INT, 9645, INTEROP, "Supervisor RPC port (accepted; no effect)",
       no_effect=True),
    _f("interop.jwt-secret", "INTEROP_JWT_SECRET", TEXT, "", INTEROP, "Supervisor RPC JWT secret (accepted; no "
       "effect)", no_effect=True),
    # removed from op-node in 2026 (ethereum-optimism/optimism #20311 and earlier); kept so old command lines start
    _f("rollup.halt", "ROLLUP_HALT", Choice(HALT_LEVELS, fold=True), None, DEPRECATED,
       "Removed from op-node (protocol versions are not tracked); accepted, no effect", hidden=True, no_effect=True),
    _f("rollup.load-protocol-versions", "ROLLUP_LOAD_PROTOCOL_VERSIONS", BOOL, False, DEPRECATED,
       "Removed from op-node; accepted, no effect", hidden=True, no_effect=True),
    _f("supervisor", "SUPERVISOR", TEXT, None, DEPRECATED, "Removed from op-node; accepted, no effect", hidden=True,
       no_effect=True),
    # deprecated, hidden, no effect
    _f("snapshotlog.file", "SNAPSHOT_LOG", TEXT, None, DEPRECATED, "Deprecated, no effect", hidden=True,
       no_effect=True),
    _f("heartbeat.enabled", "HEARTBEAT_ENABLED", BOOL, None, DEPRECATED, "Deprecated, no effect", hidden=True,
       no_effect=True),
    _f("heartbeat.moniker", "HEARTBEAT_MONIKER", TEXT, None, DEPRECATED, "Deprecated, no effect", hidden=True,
       no_effect=True),
    _f("heartbeat.url", "HEARTBEAT_URL", TEXT, None, DEPRECATED, "Deprecated, no effect", hidden=True,
       no_effect=True),
    _f("l2.engine-sync", "L2_ENGINE_SYNC_ENABLED", BOOL, None, DEPRECATED,
       "Deprecated: use --syncmode=execution-layer", hidden=True),
    _f("l2.skip-sync-start-check", "L2_SKIP_SYNC_START_CHECK", BOOL, None, DEPRECATED, "Deprecated, no effect",
       hidden=True, no_effect=True),
    _f("beta.extra-networks", "BETA_EXTRA_NETWORKS", BOOL, None, DEPRECATED, "Deprecated, no effect",
       hidden=True, no_effect=True),
    _f("l2.backup-unsafe-sync-rpc", "L2_BACKUP_UNSAFE_SYNC_RPC", TEXT, None, DEPRECATED, "Deprecated, no effect",
       hidden=True, no_effect=True),
    _f("l2.backup-unsafe-sync-rpc.trustrpc", "L2_BACKUP_UNSAFE_SYNC_RPC_TRUST_RPC", TEXT, None, DEPRECATED,
       "Deprecated, no effect", hidden=True, no_effect=True),
    _f("p2p.scoring.peers", (), TEXT, None, DEPRECATED, "Deprecated: use --p2p.scoring", hidden=True,
       no_effect=True),
    _f("p2p.score.bands", (), TEXT, None, DEPRECATED, "Deprecated, no effect", hidden=True, no_effect=True),
    _f("p2p.scoring.topics", (), TEXT, None, DEPRECATED, "Deprecated: use --p2p.scoring", hidden=True,
       no_effect=True),
)

BY_NAME = {f.name: f for f in FLAGS}
BY_DEST = {f.dest: f for f in FLAGS}
REQUIRED = ("l1", "l2", "l2.jwt-secret")


def unknown_env_vars(environ) -> list[str]:
    """op-service ``ValidateEnvVars`` (okx/optimism@7573e762 op-service/util.go; called by op-node/cmd/main.go at
    start): every ``KEY=VALUE`` of the environment whose key starts with ``OP_NODE`` and is no flag's variable. The
    node logs each as ``WARN "Unknown env var" prefix=OP_NODE env_var=KEY=VALUE``, as op-node does."""
    known = {e for f in FLAGS for e in f.envvars}
    return [f"{k}={v}" for k, v in environ.items() if k.startswith(ENV_PREFIX.rstrip("_")) and k not in known]


def flag_label(name: str) -> str:
    """``--l1.max-concurrency`` (or its env var ``OP_NODE_L1_MAX_CONCURRENCY``), for messages."""
    f = BY_NAME[name]
    return f"--{name}" + (f" / {f.envvars[0]}" if f.envvars else "")
