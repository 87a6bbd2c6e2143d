"""The node's JSON-RPC methods, with op-node's names, parameters, result shapes and error texts
(op-node/node/api.go, op-service/rpc/api.go, op-node/p2p/rpc_server.go).

- ``optimism_syncStatus()`` → SyncStatus; ``optimism_rollupConfig()`` → rollup.json; ``optimism_version()`` → text;
- ``optimism_outputAtBlock(QUANTITY)`` → ``{version, outputRoot, blockRef, withdrawalStorageRoot, stateRoot,
  syncStatus}``; the block is the engine's canonical block at that number, the status a snapshot taken first
  (op-node ``BlockRefWithStatus``);
- ``optimism_safeHeadAtL1Block(QUANTITY)`` → ``{l1Block, safeHead}`` (BlockIDs); op-node's errors: "not found"
  before the first entry, "failed to get safe head at l1 block 0x…: safe head database not enabled" without
  ``--safedb.path`` (op-node wraps every error but ``safedb.ErrNotFound``, op-node/node/api.go);
- ``optimism_dependencySet()`` → op-node's dependency-set JSON, "not found" when the chain has none;
- ``superroot_atTimestamp(QUANTITY)`` → op-supernode's response over this one chain (:mod:`.superroot`);
- ``health_status()`` → the version (op-service/rpc ``healthzAPI``, registered on every op-service RPC server);
- ``rpc_modules()`` → ``{namespace: "1.0"}`` of the namespaces served (go-ethereum's built-in ``rpc`` service);
- ``opp2p_peerStats()`` → op-node's PeerStats, zeros while there is no P2P (proxyd's consensus poller reads
  ``connected``; op-node registers ``opp2p`` only with P2P on, we always do so proxyd can tell "no peers");
- ``admin_*`` only with ``--rpc.enable-admin``: ``resetDerivationPipeline``, ``startSequencer(hash)``,
  ``stopSequencer() → hash``, ``sequencerActive() → bool``, ``postUnsafePayload(envelope)``, ``setLogLevel(level)``,
  ``setRecoverMode(bool)``, ``overrideLeader()`` (no op-conductor: nothing to override; "sequencer is not enabled"
  on a node that does not sequence), ``conductorEnabled() → false``.

Versions followed: op-node/node/api.go and op-service/rpc/handler.go at okx/optimism@7573e762 (2026-06-30, synced
from upstream op-node v1.17.0).

Parameters are decoded as go-ethereum decodes ``hexutil.Uint64`` and ``common.Hash`` (0x prefix required, no
leading zeros, at most 64 bits) with its "invalid argument N: …" messages.
"""

from __future__ import annotations

from derivation.interop.dependency_set import dependency_set_json
from derivation.protocol.errors import ParseError
from derivation.protocol.hexutil import from_hex, parse_quantity, to_hex
from derivation.protocol.l2_refs import block_ref
from derivation.protocol.output_root import OUTPUT_VERSION_V0
from derivation.protocol.payload import ExecutionPayloadEnvelope
from derivation.protocol.tx_json import tx_from_json
from derivation.protocol.types import L2BlockRef
from opnode import __version__
from opnode.jsonrpc.errors import SERVER_ERROR, InvalidParams, RpcError, TransportError
from opnode.jsonrpc.server import Method
from opnode.node import logs
from opnode.node.l2_reader import BlockNotFound
from opnode.node.rpc.api import NodeAPI
from opnode.node.rpc.superroot import superroot_at_timestamp
from opnode.node.safedb import SafeDBError, SafeHeadNotFound

VERSION = f"v{__version__}-opnode"
PEER_STATS_KEYS = ("connected", "table", "blocksTopic", "blocksTopicV2", "blocksTopicV3", "blocksTopicV4", "banned",
                   "known")
ADMIN_METHODS = ("admin_resetDerivationPipeline", "admin_startSequencer", "admin_stopSequencer",
                 "admin_sequencerActive", "admin_postUnsafePayload", "admin_setLogLevel", "admin_setRecoverMode",
                 "admin_overrideLeader", "admin_conductorEnabled")

# ------------------------------------------------------------------------------------------------ parameters


def uint64_param(v, index: int) -> int:
    """go-ethereum ``hexutil.Uint64`` from JSON."""
    if not isinstance(v, str):
        raise InvalidParams(f"invalid argument {index}: json: cannot unmarshal non-string into Go value of type "
                            "hexutil.Uint64")
    if v == "":
        raise InvalidParams(f"invalid argument {index}: empty hex string")
    if v[:2] not in ("0x", "0X"):
        raise InvalidParams(f"invalid argument {index}: hex string without 0x prefix")
    digits = v[2:]
    if not digits:
        raise InvalidParams(f"invalid argument {index}: hex string \"0x\"")
    if len(digits) > 1 and digits[0] == "0":
        raise InvalidParams(f"invalid argument {index}: hex number with leading zero digits")
    if len(digits) > 16:
        raise InvalidParams(f"invalid argument {index}: hex number > 64 bits")
    try:
        return int(digits, 16)
    except ValueError:
        raise InvalidParams(f"invalid argument {index}: invalid hex string") from None


def hash_param(v, index: int) -> bytes:
    """go-ethereum ``common.Hash`` from JSON."""
    if not isinstance(v, str):
        raise InvalidParams(f"invalid argument {index}: json: cannot unmarshal non-string into Go value of type "
                            "common.Hash")
    if v[:2] not in ("0x", "0X"):
        raise InvalidParams(f"invalid argument {index}: json: cannot unmarshal hex string without 0x prefix into Go "
                            "value of type common.Hash")
    if len(v) - 2 != 64:
        raise InvalidParams(f"invalid argument {index}: hex string has length {len(v) - 2}, want 64 for common.Hash")
    try:
        return bytes.fromhex(v[2:])
    except ValueError:
        raise InvalidParams(f"invalid argument {index}: invalid hex string") from None


def bool_param(v, index: int) -> bool:
    if not isinstance(v, bool):
        raise InvalidParams(f"invalid argument {index}: json: cannot unmarshal {_json_kind(v)} into Go value of type "
                            "bool")
    return v


def _json_kind(v) -> str:
    return {str: "string", int: "number", float: "number", list: "array", dict: "object"}.get(type(v), "null")


def envelope_param(v, index: int) -> ExecutionPayloadEnvelope:
    """op-node ``eth.ExecutionPayloadEnvelope``: ``{"executionPayload": {...}, "parentBeaconBlockRoot": hash?}``."""
    try:
        return ExecutionPayloadEnvelope.from_json(v)
    except ParseError as e:
        raise InvalidParams(f"invalid argument {index}: {e}") from None


# ------------------------------------------------------------------------------------------------ handlers


class NodeMethods:
    """The handlers over one :class:`NodeAPI`."""

    def __init__(self, api: NodeAPI, version: str = VERSION):
        self.api = api
        self.version = version

    async def sync_status(self):
        return self.api.sync_status().to_json()

    async def rollup_config(self):
        return self.api.rollup_config.to_json()

    async def optimism_version(self):
        return self.version

    async def output_at_block(self, number):
        n = uint64_param(number, 0)
        status = self.api.sync_status()
        cfg = self.api.rollup_config
        try:
            block = await self.api.l2_eth.block_by_number(n, True)
            ref = _ref(cfg, block)
        except BlockNotFound:
            raise RpcError(SERVER_ERROR, "failed to get L2 block ref with sync status: not found") from None
        except (TransportError, RpcError, ParseError) as e:
            raise RpcError(SERVER_ERROR, f"failed to get L2 block ref with sync status: {e}") from None
        try:
            out = await self.api.l2_eth.output_v0_at_block(
                cfg, ref.hash, fetch_from_state=getattr(self.api, "fetch_withdrawal_root_from_state", False))
        except BlockNotFound:
            raise RpcError(SERVER_ERROR, f"failed to get L2 output at block {_ref_text(ref)}: not found") from None
        except (TransportError, RpcError, ParseError) as e:
            raise RpcError(SERVER_ERROR, f"failed to get L2 output at block {_ref_text(ref)}: {e}") from None
        return {"version": to_hex(OUTPUT_VERSION_V0), "outputRoot": to_hex(out.root()), "blockRef": ref.to_json(),
                "withdrawalStorageRoot": to_hex(out.message_passer_storage_root),
                "stateRoot": to_hex(out.state_root), "syncStatus": status.to_json()}

    async def superroot_at_timestamp(self, ts):
        cfg = self.api.rollup_config

        async def ref_at(n: int) -> L2BlockRef:  # op-node BlockRefWithStatus
            try:
                return _ref(cfg, await self.api.l2_eth.block_by_number(n, True))
            except BlockNotFound:
                raise RpcError(SERVER_ERROR, f"blockRefWithStatus@{n}: not found") from None
            except (TransportError, RpcError, ParseError) as e:
                raise RpcError(SERVER_ERROR, f"blockRefWithStatus@{n}: {e}") from None

        return await superroot_at_timestamp(self.api, uint64_param(ts, 0), ref_at)

    async def safe_head_at_l1_block(self, number):
        n = uint64_param(number, 0)
        db = self.api.safedb
        if db is None:
            raise RpcError(SERVER_ERROR, f"failed to get safe head at l1 block {hex(n)}: safe head database not "
                                         "enabled")
        try:
            return db.safe_head_at(n).to_json()
        except SafeHeadNotFound:
            raise RpcError(SERVER_ERROR, "not found") from None
        except SafeDBError as e:
            raise RpcError(SERVER_ERROR, f"failed to get safe head at l1 block {hex(n)}: {e}") from None

    async def dependency_set(self):
        ds = getattr(self.api, "dependency_set", None)
        if ds is None:
            raise RpcError(SERVER_ERROR, "not found")  # op-node: ethereum.NotFound
        return dependency_set_json(ds)

    async def health_status(self):
        return self.version

    async def peer_stats(self):
        p2p = self.api.p2p
        stats = p2p.peer_stats() if p2p is not None else {}
        return {k: int(stats.get(k, 0)) for k in PEER_STATS_KEYS}

    # admin

    async def reset_derivation_pipeline(self):
        await self.api.reset_derivation_pipeline()
        return None

    async def start_sequencer(self, block_hash):
        await self.api.start_sequencer(hash_param(block_hash, 0))
        return None

    async def stop_sequencer(self):
        return to_hex(await self.api.stop_sequencer())

    async def sequencer_active(self):
        return bool(await self.api.sequencer_active())

    async def post_unsafe_payload(self, envelope):
        await self.api.post_unsafe_payload(envelope_param(envelope, 0))
        return None

    async def set_recover_mode(self, mode):
        await self.api.set_recover_mode(bool_param(mode, 0))
        return None

    async def override_leader(self):
        await self.api.override_leader()
        return None

    async def conductor_enabled(self):
        return bool(await self.api.conductor_enabled())

    async def set_log_level(self, level):
        if not isinstance(level, str):
            raise InvalidParams("invalid argument 0: json: cannot unmarshal non-string into Go value of type string")
        try:
            logs.set_level(level)
        except logs.LogLevelError as e:
            raise RpcError(SERVER_ERROR, str(e)) from None
        return None


def _ref(cfg, block: dict) -> L2BlockRef:
    try:
        txs = block.get("transactions") or []
        first = tx_from_json(txs[0]).raw if txs else None
        return block_ref(cfg, from_hex(block["hash"], 32), parse_quantity(block["number"]),
                         from_hex(block["parentHash"], 32), parse_quantity(block["timestamp"]), first)
    except KeyError as e:
        raise ParseError(f"L2 block lacks {e.args[0]!r}") from None
    except (TypeError, AttributeError) as e:
        raise ParseError(f"L2 block has a field of the wrong type: {e}") from None


def _ref_text(ref: L2BlockRef) -> str:
    """op-node's ``L2BlockRef.String()``: ``0x<hash>:<number>``."""
    return f"{to_hex(ref.hash)}:{ref.number}"


def node_methods(api: NodeAPI, *, enable_admin: bool = False, version: str = VERSION,
                 extra: dict[str, Method] | None = None) -> dict[str, Method]:
    """Every method the node serves; ``extra`` adds more (e.g. the rest of ``opp2p_*`` from the P2P service)."""
    h = NodeMethods(api, version)
    methods = {
        "optimism_syncStatus": Method(h.sync_status),
        "optimism_outputAtBlock": Method(h.output_at_block, 1),
        "optimism_rollupConfig": Method(h.rollup_config),
        "optimism_version": Method(h.optimism_version),
        "optimism_safeHeadAtL1Block": Method(h.safe_head_at_l1_block, 1),
        "optimism_dependencySet": Method(h.dependency_set),
        "superroot_atTimestamp": Method(h.superroot_at_timestamp, 1),
        "opp2p_peerStats": Method(h.peer_stats),
        "health_status": Method(h.health_status),
    }
    if enable_admin:
        methods.update({
            "admin_resetDerivationPipeline": Method(h.reset_derivation_pipeline),
            "admin_startSequencer": Method(h.start_sequencer, 1),
            "admin_stopSequencer": Method(h.stop_sequencer),
            "admin_sequencerActive": Method(h.sequencer_active),
            "admin_postUnsafePayload": Method(h.post_unsafe_payload, 1),
            "admin_setLogLevel": Method(h.set_log_level, 1),
            "admin_setRecoverMode": Method(h.set_recover_mode, 1),
            "admin_overrideLeader": Method(h.override_leader),
            "admin_conductorEnabled": Method(h.conductor_enabled),
        })
    if extra:
        methods.update(extra)
    modules = {name.split("_", 1)[0]: "1.0" for name in (*methods, "rpc_modules")}

    async def rpc_modules():
        return dict(sorted(modules.items()))

    methods["rpc_modules"] = Method(rpc_modules)
    return methods
