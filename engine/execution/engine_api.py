"""The Engine API methods (authrpc), with op-geth's version rules and statuses.

Version rules (execution-apis src/engine; specs: exec-engine.md §Engine API; op-geth ``eth/catalyst/api.go``):
- ``forkchoiceUpdatedV1``: attributes without withdrawals or beacon root, only before Canyon (Shanghai); V2: before
  Ecotone (Cancun), withdrawals present exactly from Canyon, no beacon root; V3: Ecotone and later, withdrawals and
  beacon root required. A payload of the wrong fork gets -38005 (unsupported fork); malformed attributes -38003.
- OP attributes: ``gasLimit`` is required; ``eip1559Params`` is 8 bytes from Holocene and absent before (a zero
  denominator only with a zero elasticity); ``minBaseFee`` is required from Jovian and absent before.
- ``getPayloadV2`` serves payloads built by FCU V1/V2, ``V3`` Ecotone…Holocene payloads, ``V4`` Isthmus and later.
- ``newPayloadV2`` before Ecotone, ``V3`` Ecotone…Holocene (empty ``expectedBlobVersionedHashes``, beacon root),
  ``V4`` Isthmus and later (``withdrawalsRoot`` in the payload, ``executionRequests`` empty).
- Statuses: VALID (latestValidHash = the block), INVALID (latestValidHash = last valid ancestor, validationError),
  SYNCING (unknown parent or head: the block is kept and fetched from ``--sync.peers`` when configured).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass

from derivation.protocol.attributes import PayloadAttributes
from derivation.protocol.errors import ParseError
from derivation.protocol.forks import Fork
from derivation.protocol.hexutil import from_hex, quantity, to_hex
from derivation.protocol.payload import ExecutionPayloadEnvelope
from derivation.protocol.transactions import decode
from engine.execution.chain import Chain, InvalidBlock, UnknownBlock
from engine.execution.evm.outcome import InvalidTransaction
from engine.execution.payload import (
    INVALID_FORKCHOICE_STATE,
    INVALID_PAYLOAD_ATTRIBUTES,
    PAYLOAD_V1,
    PAYLOAD_V2,
    PAYLOAD_V3,
    UNKNOWN_PAYLOAD,
    UNSUPPORTED_FORK,
    RpcError,
    attributes_from_json,
    block_attributes,
    envelope_of,
    forkchoice_state_from_json,
    hex_list_from_json,
    invalid_params,
    payload_from_json,
    payload_header,
    payload_id,
    status,
)
from engine.execution.txpool import TxPool

log = logging.getLogger("opnode.engine")

CAPABILITIES = [
    "engine_exchangeCapabilities", "engine_forkchoiceUpdatedV1", "engine_forkchoiceUpdatedV2",
    "engine_forkchoiceUpdatedV3", "engine_getPayloadV2", "engine_getPayloadV3", "engine_getPayloadV4",
    "engine_getPayloadV5", "engine_newPayloadV2", "engine_newPayloadV3", "engine_newPayloadV4",
    "engine_getClientVersionV1", "engine_signalSuperchainV1",
]
MAX_KEPT_PAYLOADS = 64
MAX_KEPT_INVALID = 1024


@dataclass(frozen=True, slots=True)
class BuiltPayload:
    """A payload the engine built, kept for ``getPayload``: the shared envelope, the fees the block pays its
    builder (``blockValue``) and the payload version of the forkchoiceUpdated that started it."""

    envelope: ExecutionPayloadEnvelope
    block_value: int
    version: int


class EngineAPI:
    """``sdm_post_exec_opt_in``: the sequencer produces SDM refunds and the post-exec transaction in the blocks it
    builds from its pool (off by default, like op-reth's ``sdm_post_exec_opt_in``); derived blocks carrying one are
    verified either way."""

    def __init__(self, chain: Chain, txpool: TxPool | None = None, syncer=None, sdm_post_exec_opt_in: bool = False):
        self.chain = chain
        self.spec = chain.spec
        self.txpool = txpool if txpool is not None else TxPool(chain.spec.chain_id)
        self.syncer = syncer
        self.sdm_post_exec_opt_in = sdm_post_exec_opt_in
        self.payloads: dict[bytes, BuiltPayload] = {}
        self.invalid: OrderedDict[bytes, bytes] = OrderedDict()  # bad block -> its last valid ancestor
        self.lock = threading.RLock()

    # ------------------------------------------------------------------------------------------------ helpers

    def _fork(self, t: int) -> Fork:
        return self.spec.fork_at(t)

    def _check_attributes(self, a: PayloadAttributes, version: int) -> None:
        spec, t = self.spec, a.timestamp
        canyon, ecotone = spec.is_active(Fork.CANYON, t), spec.is_active(Fork.ECOTONE, t)
        if version == 1:
            if a.withdrawals is not None or a.parent_beacon_block_root is not None:
                raise invalid_params("withdrawals and beacon root not supported in V1")
            if canyon:
                raise invalid_params("forkChoiceUpdateV1 called post-shanghai")
        elif version == 2:
            if ecotone:
                raise RpcError(UNSUPPORTED_FORK, "forkchoiceUpdatedV2 must only be called for pre-Ecotone payloads")
            if a.parent_beacon_block_root is not None:
                raise RpcError(INVALID_PAYLOAD_ATTRIBUTES, "unexpected beacon root")
            if canyon and a.withdrawals is None:
                raise RpcError(INVALID_PAYLOAD_ATTRIBUTES, "missing withdrawals")
            if not canyon and a.withdrawals is not None:
                raise RpcError(INVALID_PAYLOAD_ATTRIBUTES, "withdrawals before Canyon (shanghai)")
        else:
            if a.withdrawals is None:
                raise RpcError(INVALID_PAYLOAD_ATTRIBUTES, "missing withdrawals")
            if a.parent_beacon_block_root is None:
                raise RpcError(INVALID_PAYLOAD_ATTRIBUTES, "missing beacon root")
            if not ecotone:
                raise RpcError(UNSUPPORTED_FORK, "forkchoiceUpdatedV3 must only be called for Ecotone and later payloads")
        if a.withdrawals:
            raise RpcError(INVALID_PAYLOAD_ATTRIBUTES, "withdrawals must be empty on OP Stack chains")
        if a.gas_limit is None:
            raise RpcError(INVALID_PAYLOAD_ATTRIBUTES, "gasLimit parameter is required")
        if a.gas_limit == 0:
            raise RpcError(INVALID_PAYLOAD_ATTRIBUTES, "gasLimit must be positive")
        if spec.is_active(Fork.HOLOCENE, t):
            p = a.eip1559_params
            if p is None or len(p) != 8:
                raise RpcError(INVALID_PAYLOAD_ATTRIBUTES, "holocene eip-1559 params must be 8 bytes")
            if int.from_bytes(p[:4], "big") == 0 and int.from_bytes(p[4:], "big") != 0:
                raise RpcError(INVALID_PAYLOAD_ATTRIBUTES,
                               "holocene params cannot have a 0 denominator unless elasticity is also 0")
        elif a.eip1559_params is not None:
            raise RpcError(INVALID_PAYLOAD_ATTRIBUTES, "eip1559Params must be null before Holocene")
        if spec.is_active(Fork.JOVIAN, t):
            if a.min_base_fee is None:
                raise RpcError(INVALID_PAYLOAD_ATTRIBUTES, "minBaseFee is required from Jovian")
        elif a.min_base_fee is not None:
            raise RpcError(INVALID_PAYLOAD_ATTRIBUTES, "minBaseFee must be null before Jovian")

    def _remember_invalid(self, block_hash: bytes, latest_valid: bytes) -> None:
        self.invalid[block_hash] = latest_valid
        while len(self.invalid) > MAX_KEPT_INVALID:
            self.invalid.popitem(last=False)

    # ------------------------------------------------------------------------------------------------ methods

    def exchange_capabilities(self, theirs=None) -> list[str]:
        return list(CAPABILITIES)

    def client_version(self, _theirs=None) -> list[dict]:
        return [{"code": "PY", "name": "opnode-engine", "version": "0.1.0", "commit": "00000000"}]

    def signal_superchain(self, _signal=None) -> str:
        return "0x" + "00" * 32

    def forkchoice_updated(self, version: int, state: dict, attrs_json: dict | None) -> dict:
        if not isinstance(state, dict):
            raise invalid_params("forkchoiceState must be an object")
        head, safe, finalized = forkchoice_state_from_json(state)
        attrs = None if attrs_json is None else attributes_from_json(attrs_json)
        if attrs is not None:
            self._check_attributes(attrs, version)
        with self.lock:
            if head == bytes(32):
                return {"payloadStatus": status("INVALID", None, "forkchoice requested update to zero hash"),
                        "payloadId": None}
            if head in self.invalid:
                return {"payloadStatus": status("INVALID", self.invalid[head], "links to a previously rejected block"),
                        "payloadId": None}
            head_header = self.chain.header(head)
            if head_header is None:
                if self.syncer is not None:
                    self.syncer.request(head)
                return {"payloadStatus": status("SYNCING"), "payloadId": None}
            for name, h in (("safe", safe), ("finalized", finalized)):
                if h == bytes(32):
                    continue
                hh = self.chain.header(h)
                if hh is None or hh.number > head_header.number or self._ancestor_at(head_header, hh.number) != h:
                    raise RpcError(INVALID_FORKCHOICE_STATE, f"{name} block not in canonical chain")
            self.chain.set_forkchoice(head, safe, finalized)
            pid = None
            if attrs is not None:
                if attrs.timestamp <= head_header.timestamp:
                    raise RpcError(INVALID_PAYLOAD_ATTRIBUTES,
                                   f"invalid timestamp: {attrs.timestamp} not after parent's {head_header.timestamp}")
                pid = payload_id(head, attrs, {1: PAYLOAD_V1, 2: PAYLOAD_V2}.get(version, PAYLOAD_V3))
                if pid not in self.payloads:
                    self.payloads[pid] = self._build(head, attrs, pid[0])
                    while len(self.payloads) > MAX_KEPT_PAYLOADS:
                        self.payloads.pop(next(iter(self.payloads)))
            return {"payloadStatus": status("VALID", head), "payloadId": None if pid is None else to_hex(pid)}

    def _ancestor_at(self, header, number: int) -> bytes | None:
        """The hash of ``header``'s ancestor at ``number``. The walk back stops at the first canonical block: the
        canonical index then answers (it holds one chain, up to the head: set_forkchoice deletes above it). A
        safe or finalized label far behind the head (a sequencer without a batcher) cost one header read per block
        of the distance on every forkchoice update, past the header cache from the store."""
        h, block_hash = header, header.hash
        while h.number > number:
            if self.chain.canonical_hash(h.number) == block_hash:
                return self.chain.canonical_hash(number)
            block_hash = h.parent_hash
            h = self.chain.header(block_hash)
            if h is None:
                return None
        return block_hash

    def _build(self, parent: bytes, a: PayloadAttributes, version: int) -> BuiltPayload:
        try:
            forced = [decode(raw) for raw in a.transactions]
        except ParseError as e:
            raise RpcError(INVALID_PAYLOAD_ATTRIBUTES, f"invalid transaction in attributes: {e}") from None
        battrs = block_attributes(a)
        pool = None
        if not a.no_tx_pool:
            parent_header = self.chain.header(parent)
            adb = self.chain.account_db(parent_header)
            pool = self.txpool.pending(adb.get_nonce)
        try:
            block = self.chain.build(parent, battrs, forced, pool, self.sdm_post_exec_opt_in)
        except InvalidTransaction as e:
            raise RpcError(INVALID_PAYLOAD_ATTRIBUTES, f"could not build the payload: {e}") from None
        base_fee = block.header.base_fee
        value = sum(r.gas_used * (r.extra.get("effectiveGasPrice", base_fee) - base_fee) for r in block.results)
        env = envelope_of(self.spec, block.header, [t.raw for t in block.transactions], block.withdrawals is not None)
        return BuiltPayload(env, max(value, 0), version)

    def get_payload(self, version: int, pid_hex: str) -> dict:
        try:
            pid = from_hex(pid_hex, 8)
        except ParseError as e:
            raise invalid_params(f"payloadId: {e}") from None
        with self.lock:
            built = self.payloads.get(pid)
        if built is None:
            raise RpcError(UNKNOWN_PAYLOAD, "Unknown payload")
        t = built.envelope.timestamp
        ecotone, isthmus = self.spec.is_active(Fork.ECOTONE, t), self.spec.is_active(Fork.ISTHMUS, t)
        karst = self.spec.is_active(Fork.KARST, t)
        if version == 2 and (built.version not in (PAYLOAD_V1, PAYLOAD_V2) or ecotone):
            raise RpcError(UNSUPPORTED_FORK, "getPayloadV2 must only be called for pre-Ecotone payloads")
        if version == 3 and (built.version != PAYLOAD_V3 or not ecotone or isthmus):
            raise RpcError(UNSUPPORTED_FORK, "getPayloadV3 must only be called for Ecotone…Holocene payloads")
        # reth validate_payload_timestamp: getPayloadV4 rejects Osaka (Karst) payloads, V5 requires them
        # (paradigmxyz/reth crates/payload/primitives, 2026; op-node calls V5 from Karst, optimism #21337).
        if version == 4 and (built.version != PAYLOAD_V3 or not isthmus or karst):
            raise RpcError(UNSUPPORTED_FORK, "getPayloadV4 must only be called for Isthmus and Jovian payloads")
        if version == 5 and (built.version != PAYLOAD_V3 or not karst):
            raise RpcError(UNSUPPORTED_FORK, "getPayloadV5 must only be called for Karst and later payloads")
        out = {"executionPayload": built.envelope.payload.to_json(), "blockValue": quantity(built.block_value)}
        if version >= 3:
            out.update(blobsBundle={"commitments": [], "proofs": [], "blobs": []}, shouldOverrideBuilder=False,
                       parentBeaconBlockRoot=to_hex(built.envelope.parent_beacon_block_root or bytes(32)))
        if version >= 4:
            out["executionRequests"] = []
        return out

    def new_payload(self, version: int, payload_json: dict, hashes=None, beacon_root=None, requests=None) -> dict:
        p = payload_from_json(payload_json)
        if hashes is not None:  # decoded with the parameters, before any rule, as Go's JSON-RPC server does
            hashes = hex_list_from_json(hashes, "expectedBlobVersionedHashes", 32)
        if requests is not None:
            requests = hex_list_from_json(requests, "executionRequests")
        root = None
        t = p.timestamp
        spec = self.spec
        ecotone, isthmus, canyon = (spec.is_active(Fork.ECOTONE, t), spec.is_active(Fork.ISTHMUS, t),
                                    spec.is_active(Fork.CANYON, t))
        if version == 2:
            if ecotone:
                raise RpcError(UNSUPPORTED_FORK, "newPayloadV2 must only be called for pre-Ecotone payloads")
            if canyon and p.withdrawals is None:
                raise invalid_params("nil withdrawals post-shanghai")
            if not canyon and p.withdrawals is not None:
                raise invalid_params("non-nil withdrawals pre-shanghai")
            if p.blob_gas_used is not None or p.excess_blob_gas is not None:
                raise invalid_params("non-nil blobGasUsed/excessBlobGas pre-cancun")
        else:
            if p.withdrawals is None:
                raise invalid_params("nil withdrawals post-shanghai")
            if p.blob_gas_used is None or p.excess_blob_gas is None:
                raise invalid_params("nil blobGasUsed or excessBlobGas post-cancun")
            if hashes is None:
                raise invalid_params("nil versionedHashes post-cancun")

            if beacon_root is None:
                raise invalid_params("nil beaconRoot post-cancun")
            if version == 3 and (not ecotone or isthmus):
                raise RpcError(UNSUPPORTED_FORK, "newPayloadV3 must only be called for Ecotone…Holocene payloads")
            if version == 4:
                if not isthmus:
                    raise RpcError(UNSUPPORTED_FORK, "newPayloadV4 must only be called for Isthmus and later payloads")
                if requests is None:
                    raise invalid_params("nil executionRequests post-prague")
                if requests:
                    raise invalid_params("executionRequests must be empty on OP Stack chains")
                if p.withdrawals_root is None:
                    raise invalid_params("nil withdrawalsRoot post-isthmus")
            if hashes:
                return status("INVALID", None, "blob transactions are not supported: versionedHashes must be empty")
            try:
                root = from_hex(beacon_root, 32)
            except ParseError as e:
                raise invalid_params(f"parentBeaconBlockRoot: {e}") from None
        if version < 4 and p.withdrawals_root is not None:
            raise invalid_params("withdrawalsRoot is only part of the payload from V4")
        return self.import_payload(ExecutionPayloadEnvelope(p, root))

    def import_payload(self, env: ExecutionPayloadEnvelope) -> dict:
        # The hash is recomputed from the payload's fields before anything else, as op-geth's
        # ExecutableDataToBlock: a known blockHash with a tampered field is INVALID (latestValidHash null), and
        # the hash is not remembered as bad, since it names a good block.
        p = env.payload
        computed = payload_header(self.spec, env).hash
        if computed != p.block_hash:
            return status("INVALID", None, f"blockhash mismatch: computed 0x{computed.hex()}, payload says "
                                           f"0x{p.block_hash.hex()}")
        with self.lock:
            if self.chain.has_block(p.block_hash):
                return status("VALID", p.block_hash)
            if p.block_hash in self.invalid:
                return status("INVALID", self.invalid[p.block_hash], "block was previously rejected")
            if p.parent_hash in self.invalid:
                self._remember_invalid(p.block_hash, self.invalid[p.parent_hash])
                return status("INVALID", self.invalid[p.parent_hash], "links to a previously rejected block")
            if not self.chain.has_block(p.parent_hash):
                if self.syncer is not None:
                    self.syncer.stash(env)
                return status("SYNCING")
            try:
                self.chain.import_payload(env)
            except InvalidBlock as e:
                log.warning("invalid payload 0x%s: %s", p.block_hash.hex(), e)
                self._remember_invalid(p.block_hash, p.parent_hash)
                return status("INVALID", p.parent_hash, str(e))
            except UnknownBlock:
                return status("SYNCING")
            return status("VALID", p.block_hash)
