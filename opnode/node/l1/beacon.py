"""The L1 beacon (consensus-layer) client: blobs for an L1 block, each checked against its versioned hash.

Spec: ecotone/derivation.md §Ecotone: Blob Retrieval. The slot of an L1 block is ``(time - genesis_time) //
SECONDS_PER_SLOT`` (``/eth/v1/beacon/genesis``, ``/eth/v1/config/spec``). Blobs come from
``/eth/v1/beacon/blobs/{slot}?versioned_hashes=…`` (what op-node uses since Fusaka; the commitment is recomputed
from each blob) or, when that fails, ``/eth/v1/beacon/blob_sidecars/{slot}?indices=…`` (sidecars carry commitment
and proof; the proof is verified). The primary endpoint and then ``--l1.beacon-fallbacks`` are tried in order for
the blobs still missing or bad; when none has them, :class:`BlobUnavailableError` names the slot, the block and
every versioned hash still missing, with what each endpoint said. A blob is never returned unverified.
"""

from __future__ import annotations

import logging
import random

import httpx
import trio

from derivation.protocol import kzg
from derivation.protocol.errors import ParseError
from derivation.protocol.hexutil import from_hex, to_hex
from derivation.protocol.jsonutil import loads_bounded
from derivation.protocol.types import L1BlockRef
from derivation.providers import IndexedBlobHash
from opnode.jsonrpc.client import RpcStats
from opnode.node.l1.config import BeaconConfig
from opnode.node.l1.errors import BlobUnavailableError
from opnode.node.metrics import Metrics

__all__ = ["BeaconClient", "IndexedBlobHash"]

log = logging.getLogger("opnode.beacon")

MAX_RESPONSE_BYTES = 64 * 1024 * 1024


class BeaconHTTPError(Exception):
    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class _Endpoint:
    def __init__(self, url: str, cfg: BeaconConfig, header: tuple[str, str] | None):
        self.url = url.rstrip("/")
        headers = {"accept": "application/json"}
        if header:
            headers[header[0]] = header[1]
        self.http = httpx.AsyncClient(timeout=httpx.Timeout(cfg.request_timeout), headers=headers)


class BeaconClient:
    def __init__(self, cfg: BeaconConfig, *, metrics: Metrics | None = None, rng: random.Random | None = None):
        if not cfg.url:
            raise ValueError("--l1.beacon is required to read blobs")
        self.cfg = cfg
        self.metrics = metrics
        self.stats = RpcStats()
        header = cfg.header_pair()
        self.endpoints = [_Endpoint(u, cfg, header) for u in (cfg.url, *cfg.fallbacks)]
        self._limiter = trio.Semaphore(max(1, cfg.max_concurrency))
        self._rng = rng or random.Random()
        self._genesis_time: int | None = None
        self._seconds_per_slot: int | None = None
        self._init_lock = trio.Lock()

    async def aclose(self) -> None:
        for e in self.endpoints:
            await e.http.aclose()

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await self.aclose()

    # ------------------------------------------------------------------------------------------------ slots

    async def check(self) -> bool:
        """Start-up check of the primary endpoint (genesis and spec). With ``--l1.beacon.ignore`` a failure is
        logged and False returned; otherwise it is raised."""
        try:
            await self._slot_params()
            return True
        except Exception as e:
            if self.cfg.ignore:
                log.warning("beacon endpoint %s failed its check (ignored): %s", self.cfg.url, e)
                return False
            raise

    async def _slot_params(self) -> tuple[int, int]:
        async with self._init_lock:
            if self._genesis_time is None:
                primary = self.endpoints[0]
                genesis = await self._get_json(primary, "/eth/v1/beacon/genesis", None, "beacon_genesis")
                # op-node #20288 (--l1.beacon.slot-duration-override): a non-zero override skips the spec fetch
                spec = None
                if not self.cfg.slot_duration_override:
                    spec = await self._get_json(primary, "/eth/v1/config/spec", None, "beacon_config_spec")
                try:
                    gt = int(genesis["data"]["genesis_time"])
                    sps = self.cfg.slot_duration_override or int(spec["data"]["SECONDS_PER_SLOT"])
                except (KeyError, TypeError, ValueError) as e:
                    raise BeaconHTTPError(f"{primary.url}: malformed genesis/spec answer ({e})") from None
                if sps <= 0:
                    raise BeaconHTTPError(f"{primary.url}: bad SECONDS_PER_SLOT {sps}")
                self._genesis_time, self._seconds_per_slot = gt, sps
        return self._genesis_time, self._seconds_per_slot

    async def slot_for(self, timestamp: int) -> int:
        genesis, sps = await self._slot_params()
        if timestamp < genesis:
            raise BlobUnavailableError(f"L1 time {timestamp} precedes the beacon genesis time {genesis}")
        return (timestamp - genesis) // sps

    # ------------------------------------------------------------------------------------------------ blobs

    async def get_blobs(self, ref: L1BlockRef, hashes: list[IndexedBlobHash]) -> list[bytes]:
        """The blobs of ``ref`` with these indexed hashes, in the same order, each verified."""
        if not hashes:
            return []
        slot = await self.slot_for(ref.time)
        found: list[bytes | None] = [None] * len(hashes)
        problems: list[str] = []
        for ep in self.endpoints:
            missing = [i for i, b in enumerate(found) if b is None]
            if not missing:
                break
            for fetch in (self._from_blobs, self._from_sidecars):
                try:
                    await fetch(ep, slot, hashes, found, problems)
                except (BeaconHTTPError, ParseError) as e:
                    problems.append(f"{ep.url}: {e}")
                if all(b is not None for b in found):
                    break
        missing = [hashes[i] for i, b in enumerate(found) if b is None]
        if missing:
            names = ", ".join(f"#{h.index} {to_hex(h.hash)}" for h in missing)
            raise BlobUnavailableError(f"blobs of L1 block {ref.number} (slot {slot}) unavailable: {names}; "
                                       + "; ".join(problems[-2 * len(self.endpoints):]))
        if problems:
            log.info("blobs of L1 block %d (slot %d) needed a retry or fallback: %s", ref.number, slot,
                     "; ".join(problems))
        return found  # type: ignore[return-value]

    async def _from_blobs(self, ep: _Endpoint, slot: int, hashes, found: list, problems: list[str]) -> None:
        want = [h for i, h in enumerate(hashes) if found[i] is None]
        params = [("versioned_hashes", to_hex(h.hash)) for h in want]
        doc = await self._get_json(ep, f"/eth/v1/beacon/blobs/{slot}", params, "beacon_blobs")
        data = doc.get("data") if isinstance(doc, dict) else None
        if not isinstance(data, list):
            raise BeaconHTTPError("blobs answer has no data list")
        for item in data:
            blob = from_hex(item) if isinstance(item, str) else b""
            try:
                vh = kzg.blob_versioned_hash(blob)
            except ParseError as e:
                problems.append(f"{ep.url}: slot {slot}: a blob fails KZG ({e})")
                continue
            placed = False
            for i, h in enumerate(hashes):
                if found[i] is None and h.hash == vh:
                    found[i] = blob
                    placed = True
                    break
            if not placed:
                problems.append(f"{ep.url}: slot {slot}: a returned blob commits to {to_hex(vh)}, not a requested hash")
        for i, h in enumerate(hashes):
            if found[i] is None and h in want:
                problems.append(f"{ep.url}: slot {slot}: blob {to_hex(h.hash)} missing from /blobs")

    async def _from_sidecars(self, ep: _Endpoint, slot: int, hashes, found: list, problems: list[str]) -> None:
        want = [h for i, h in enumerate(hashes) if found[i] is None]
        params = None if self.cfg.fetch_all_sidecars else [("indices", str(h.index)) for h in want]
        doc = await self._get_json(ep, f"/eth/v1/beacon/blob_sidecars/{slot}", params, "beacon_blob_sidecars")
        data = doc.get("data") if isinstance(doc, dict) else None
        if not isinstance(data, list):
            raise BeaconHTTPError("blob_sidecars answer has no data list")
        by_index = {}
        for sc in data:
            try:
                by_index[int(sc["index"])] = sc
            except (KeyError, TypeError, ValueError):
                problems.append(f"{ep.url}: slot {slot}: malformed sidecar")
        for i, h in enumerate(hashes):
            if found[i] is not None:
                continue
            sc = by_index.get(h.index)
            if sc is None:
                problems.append(f"{ep.url}: slot {slot}: sidecar #{h.index} ({to_hex(h.hash)}) missing")
                continue
            try:
                blob = from_hex(sc["blob"])
                kzg.verify_blob(blob, h.hash, from_hex(sc["kzg_commitment"], 48), from_hex(sc["kzg_proof"], 48))
            except (ParseError, KeyError, TypeError) as e:
                problems.append(f"{ep.url}: slot {slot}: sidecar #{h.index} ({to_hex(h.hash)}) rejected: {e}")
                continue
            found[i] = blob

    # ------------------------------------------------------------------------------------------------ HTTP

    async def _get_json(self, ep: _Endpoint, path: str, params, label: str):
        policy = self.cfg.retry
        attempt = 0
        while True:
            try:
                return await self._get_once(ep, path, params, label)
            except _Transient as e:
                attempt += 1
                if attempt >= policy.attempts:
                    raise BeaconHTTPError(f"{path}: {e} (after {attempt} attempts)") from None
                self.stats.retries += 1
                await trio.sleep(self._rng.uniform(0, min(policy.max_delay, policy.base_delay * 2 ** (attempt - 1))))

    async def _get_once(self, ep: _Endpoint, path: str, params, label: str):
        async with self._limiter:
            start = trio.current_time()
            error = None
            try:
                try:
                    with trio.fail_after(self.cfg.request_timeout):
                        async with ep.http.stream("GET", ep.url + path, params=params) as resp:
                            chunks, size = [], 0
                            try:
                                async for chunk in resp.aiter_bytes():
                                    size += len(chunk)
                                    if size > MAX_RESPONSE_BYTES:
                                        raise _Transient(f"answer larger than {MAX_RESPONSE_BYTES} bytes")
                                    chunks.append(chunk)
                            finally:
                                self.stats.bytes_received += resp.num_bytes_downloaded
                            status = resp.status_code
                except trio.TooSlowError:
                    error = "<unknown>"
                    raise _Transient(f"no answer within {self.cfg.request_timeout}s") from None
                except httpx.HTTPError as e:
                    error = "<unknown>"
                    raise _Transient(f"{type(e).__name__}: {e}") from None
                body = b"".join(chunks)
                if status >= 500 or status == 429:
                    error = f"http_{status}"
                    raise _Transient(f"HTTP {status}")
                if status != 200:
                    error = "<not found>" if status == 404 else f"http_{status}"
                    raise BeaconHTTPError(f"{path}: HTTP {status}: {body[:160].decode(errors='replace')}", status)
                try:
                    return loads_bounded(body)
                except ValueError as e:
                    error = "<unknown>"
                    raise _Transient(f"answer is not JSON ({e})") from None
            finally:
                self.stats.http_requests += 1
                self.stats.calls[label] += 1
                elapsed = trio.current_time() - start
                self.stats.seconds[label] += elapsed
                if self.metrics is not None:
                    self.metrics.record_rpc_client("beacon", label, elapsed, error)


class _Transient(Exception):
    pass
