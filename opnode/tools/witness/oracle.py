"""The preimage oracle of the offline run: every value is checked against its key when it is read.

- keccak256 (type 2): ``keccak256(value)`` must be the hash asked for (all 32 bytes: the run asks by full hash);
- sha256 (type 4): ``sha256(value)`` must equal the key in bytes 1..32 (a blob's versioned hash → its commitment);
- blob (type 5): the 4096 field elements read for one blob must commit (KZG) to the commitment they were asked
  under, which itself matched the versioned hash; a single element cannot be checked alone;
- local (type 1): the run's own inputs, never read from the store.

A read that fails raises :class:`PreimageMissing` or :class:`PreimageMismatch`, naming the key, its type and what
the run wanted it for ("L1 header 6582945"). The oracle keeps every value it handed out (``touched``): that is
the witness an export writes, and the floor the bench compares a run with.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from derivation.protocol.crypto import keccak256, sha256
from derivation.protocol.errors import ParseError
from derivation.protocol.kzg import KZGError, blob_to_commitment, versioned_hash
from opnode.tools.witness.keys import FIELD_ELEMENTS_PER_BLOB, KeyType, blob_element_key, keccak_key, key_type, typed
from opnode.tools.witness.stores import PreimageStore


class PreimageError(Exception):
    """A preimage the run needed is missing or does not match its key."""

    def __init__(self, key: bytes, purpose: str, problem: str):
        kt = key_type(key)
        self.key, self.purpose = key, purpose
        super().__init__(f"preimage 0x{key.hex()} ({kt.label if kt else 'unknown type'}) for {purpose} {problem}")


class PreimageMissing(PreimageError):
    def __init__(self, key: bytes, purpose: str):
        super().__init__(key, purpose, "is not in the store")


class PreimageMismatch(PreimageError):
    def __init__(self, key: bytes, purpose: str, why: str = "does not match its key"):
        super().__init__(key, purpose, why)


@dataclass
class ReadStats:
    reads: int = 0
    bytes: int = 0
    seconds: float = 0.0  # store reads plus the checks against the keys
    by_type: dict = field(default_factory=dict)


class Oracle:
    def __init__(self, store: PreimageStore, local_inputs: dict[int, bytes] | None = None):
        self.store = store
        self.local_inputs = dict(local_inputs or {})
        self.touched: dict[bytes, bytes] = {}  # typed key -> value, in first-read order
        self.stats = ReadStats()

    def _fetch(self, key: bytes, purpose: str) -> bytes:
        v = self.store.get(key)
        if v is None:
            raise PreimageMissing(key, purpose)
        return v

    def _count(self, key: bytes, value: bytes, t0: float) -> None:
        s = self.stats
        s.seconds += time.perf_counter() - t0
        s.reads += 1
        s.bytes += len(value)
        kt = key[0]
        s.by_type[kt] = s.by_type.get(kt, 0) + 1

    def local(self, index: int) -> bytes:
        return self.local_inputs[index]

    def keccak(self, h: bytes, purpose: str) -> bytes:
        key = keccak_key(h)
        have = self.touched.get(key)
        if have is not None:
            return have
        t0 = time.perf_counter()
        v = self.store.get_keccak(h)
        if v is None:
            raise PreimageMissing(key, purpose)
        if keccak256(v) != h:
            raise PreimageMismatch(key, purpose, f"does not match its key (keccak256 of the value is "
                                                 f"0x{keccak256(v).hex()})")
        self._count(key, v, t0)
        self.touched[key] = v
        return v

    def keccak_if_held(self, h: bytes, purpose: str) -> bytes | None:
        """As :meth:`keccak`, but None when the store does not hold it (for a caller that names it later)."""
        try:
            return self.keccak(h, purpose)
        except PreimageMissing:
            return None

    def has_keccak(self, h: bytes) -> bool:
        return keccak_key(h) in self.touched or self.store.get_keccak(h) is not None

    def sha256(self, h: bytes, purpose: str) -> bytes:
        key = typed(KeyType.SHA256, h)
        have = self.touched.get(key)
        if have is not None:
            return have
        t0 = time.perf_counter()
        v = self._fetch(key, purpose)
        if sha256(v)[1:] != h[1:]:
            raise PreimageMismatch(key, purpose)
        self._count(key, v, t0)
        self.touched[key] = v
        return v

    def blob(self, vhash: bytes, purpose: str) -> bytes:
        """The blob with versioned hash ``vhash``: commitment by sha256 key, then its field elements under either
        key layout (see :mod:`.keys`), checked together against the commitment."""
        commitment = self.sha256(vhash, f"the KZG commitment of {purpose}")
        if len(commitment) != 48 or versioned_hash(commitment) != vhash:
            raise PreimageMismatch(typed(KeyType.SHA256, vhash), f"the KZG commitment of {purpose}",
                                   "is not a 48-byte commitment to that versioned hash")
        # The old layout's element 1 has the new layout's element 0 key (u64be(1) == ω_0 == 1), so tell them
        # apart by the old element 0 (32 zero bytes: never a root of unity).
        first_old = blob_element_key(commitment, 0, False)
        by_root = first_old not in self.touched and self.store.get(first_old) is None
        t0 = time.perf_counter()
        parts, keys = [], []
        for i in range(FIELD_ELEMENTS_PER_BLOB):
            key = blob_element_key(commitment, i, by_root)
            v = self.touched.get(key)
            if v is None:
                v = self._fetch(key, f"field element {i} of {purpose}")
            if len(v) != 32:
                raise PreimageMismatch(key, f"field element {i} of {purpose}", "is not 32 bytes")
            parts.append(v)
            keys.append(key)
        blob = b"".join(parts)
        try:
            ok = blob_to_commitment(blob) == commitment
        except (KZGError, ParseError):
            ok = False
        if not ok:
            raise PreimageMismatch(keys[0], f"{purpose} (field elements 0..4095 keyed under commitment "
                                            f"0x{commitment.hex()[:16]}…)",
                                   "and the other field elements of the blob do not commit to its KZG commitment")
        self.stats.seconds += time.perf_counter() - t0
        for key, v in zip(keys, parts, strict=True):
            if key not in self.touched:
                self.touched[key] = v
                self.stats.reads += 1
                self.stats.bytes += 32
                self.stats.by_type[KeyType.BLOB] = self.stats.by_type.get(KeyType.BLOB, 0) + 1
        return blob
