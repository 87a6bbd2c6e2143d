"""Preimage stores as fault-proof hosts leave them on disk, read without changing them.

- kona-host's file-per-key directory (kona's ``DiskKeyValueStore`` before September 2024 and kailua's test data):
  ``data/<64-hex key>.bin``, the file holding the raw preimage (``PATH`` may be the directory holding ``data/`` or
  ``data/`` itself).
- kona-host's RocksDB directory (kona ``bin/host/src/kv/disk.rs`` since kona@54eb6bfb, 2024-09-05): keys are the
  32-byte preimage keys. kona's executor test fixtures keep a RocksDB ``kv/`` keyed by the plain keccak256 hash
  instead (kona ``crates/proof/executor/src/test_utils.rs``): such a store is opened with ``raw_keccak``.
- op-program's disk stores (optimism ``op-program/host/kvstore``: ``format.go``, ``file.go``, ``directory.go``): a
  ``kvformat`` file names the format; ``file`` keeps ``0x<64-hex key>.txt``, ``directory`` keeps
  ``<hex 0..4>/<hex 4..64>.txt``, both holding the preimage hex-encoded. ``pebble`` (a Go LSM database) is refused.
- A ``.tar.zst``, ``.tar.gz`` or ``.tar`` archive of any of these: file layouts are read in one streaming pass into
  memory (nothing written to disk); a RocksDB inside an archive is unpacked into a temporary directory, as RocksDB
  needs files.

Nothing here checks a value against its key: :mod:`.oracle` does that when the run reads it.
"""

from __future__ import annotations

import os
import re
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

from derivation.protocol.errors import ParseError

_HEX64 = re.compile(r"(?:0x)?([0-9a-fA-F]{64})")
_ROCKS_MARKERS = ("CURRENT", "IDENTITY")


class StoreError(ParseError):
    """The path is not a preimage store this module can read."""


class PreimageStore:
    """Read access by the 32-byte key as stored. ``raw_keccak``: keccak preimages are keyed by the plain hash."""

    raw_keccak = False
    description = ""

    def get(self, key: bytes) -> bytes | None:
        raise NotImplementedError

    def get_keccak(self, h: bytes) -> bytes | None:
        """The keccak256 preimage of the full hash ``h``."""
        return self.get(h if self.raw_keccak else bytes((2,)) + h[1:])

    def keys(self) -> Iterator[bytes]:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class MemoryStore(PreimageStore):
    def __init__(self, items: dict[bytes, bytes] | None = None, description: str = "memory"):
        self.items = dict(items or {})
        self.description = description

    def get(self, key: bytes) -> bytes | None:
        return self.items.get(key)

    def keys(self) -> Iterator[bytes]:
        return iter(list(self.items))


class KonaFileStore(PreimageStore):
    """kona's ``<key hex>.bin`` files in one directory, read when asked for."""

    def __init__(self, directory: Path):
        self.dir = directory
        self.description = f"kona file-per-key store {directory}"

    def get(self, key: bytes) -> bytes | None:
        try:
            return (self.dir / f"{key.hex()}.bin").read_bytes()
        except FileNotFoundError:
            return None

    def keys(self) -> Iterator[bytes]:
        for name in sorted(os.listdir(self.dir)):
            m = _HEX64.fullmatch(name.removesuffix(".bin"))
            if m and name.endswith(".bin"):
                yield bytes.fromhex(m.group(1))


class OpProgramStore(PreimageStore):
    """op-program's ``file`` (``0x<key>.txt``) or ``directory`` (``<key[0:4]>/<key[4:]>.txt``) formats, hex text."""

    def __init__(self, directory: Path, nested: bool):
        self.dir = directory
        self.nested = nested
        self.description = f"op-program {'directory' if nested else 'file'} store {directory}"

    def _path(self, key: bytes) -> Path:
        h = key.hex()
        return self.dir / h[:4] / f"{h[4:]}.txt" if self.nested else self.dir / f"0x{h}.txt"

    def get(self, key: bytes) -> bytes | None:
        try:
            text = self._path(key).read_text().strip()
        except FileNotFoundError:
            return None
        try:
            return bytes.fromhex(text)
        except ValueError:
            return b"\x00not hex: " + text[:16].encode()  # fails its key check, naming the key

    def keys(self) -> Iterator[bytes]:
        if not self.nested:
            for name in sorted(os.listdir(self.dir)):
                m = _HEX64.fullmatch(name.removesuffix(".txt"))
                if m and name.endswith(".txt"):
                    yield bytes.fromhex(m.group(1))
            return
        for sub in sorted(os.listdir(self.dir)):
            if len(sub) == 4 and (self.dir / sub).is_dir():
                for name in sorted(os.listdir(self.dir / sub)):
                    m = _HEX64.fullmatch(sub + name.removesuffix(".txt"))
                    if m:
                        yield bytes.fromhex(m.group(1))


class RocksStore(PreimageStore):
    """A RocksDB directory opened read-only through a private hard-linked (or copied) view, so that the store given
    is never written to (rocksdict adds a config file next to the database)."""

    def __init__(self, directory: Path, raw_keccak: bool = False):
        try:
            from rocksdict import AccessType, Options, Rdict
        except ImportError:  # pragma: no cover - pinned in pyproject
            raise StoreError("reading a RocksDB store needs the rocksdict package") from None
        self.raw_keccak = raw_keccak
        self.description = f"RocksDB store {directory}"
        self._tmp = tempfile.TemporaryDirectory(prefix="opnode-rocks-")
        view = Path(self._tmp.name) / "db"
        view.mkdir()
        for name in os.listdir(directory):
            src = directory / name
            if name.startswith("._") or not src.is_file() or name == "LOCK":
                continue
            try:
                os.link(src, view / name)
            except OSError:
                shutil.copy2(src, view / name)
        try:
            self.db = Rdict(str(view), Options(raw_mode=True), access_type=AccessType.read_only())
        except Exception as e:  # rocksdict raises bare Exceptions for corrupt or foreign databases
            self._tmp.cleanup()
            raise StoreError(f"{directory} is not a readable RocksDB store: {' '.join(str(e).split())}") from None

    def get(self, key: bytes) -> bytes | None:
        v = self.db.get(key)
        return None if v is None else bytes(v)

    def keys(self) -> Iterator[bytes]:
        return iter([bytes(k) for k in self.db.keys()])

    def close(self) -> None:
        if self._tmp is not None:
            self.db.close()
            self._tmp.cleanup()
            self._tmp = None


# ------------------------------------------------------------------------------------------------ opening


def _is_rocks(d: Path) -> bool:
    return all((d / m).is_file() for m in _ROCKS_MARKERS)


def open_directory(path: Path, raw_keccak: bool = False) -> PreimageStore:
    if _is_rocks(path):
        return RocksStore(path, raw_keccak)
    for sub in ("kv", "data"):
        if (path / sub).is_dir() and _is_rocks(path / sub):
            return RocksStore(path / sub, raw_keccak)
    fmt = path / "kvformat"
    if fmt.is_file():
        kind = fmt.read_text().strip()
        if kind == "file":
            return OpProgramStore(path, nested=False)
        if kind == "directory":
            return OpProgramStore(path, nested=True)
        raise StoreError(f"{path} is an op-program store in format {kind!r}; only 'file' and 'directory' are "
                         "readable here")
    data = path / "data" if (path / "data").is_dir() else path
    names = os.listdir(data)
    if any(n.endswith(".bin") and _HEX64.fullmatch(n[:-4]) for n in names):
        return KonaFileStore(data)
    if any(n.endswith(".txt") and _HEX64.fullmatch(n[:-4]) for n in names):
        return OpProgramStore(data, nested=False)
    raise StoreError(f"{path} holds no preimage store (kona data/<key>.bin files, an op-program kvformat, or a "
                     "RocksDB directory)")


def _tar_stream(raw, name: str):
    """A streaming tar reader over the binary file object ``raw``; ``name`` (the file's name) tells zstd apart,
    gzip and plain tars are told apart by their bytes (kona's fixtures are plain tars named .tar.gz)."""
    if name.lower().endswith((".tar.zst", ".tzst")):
        try:
            import zstandard
        except ImportError:  # pragma: no cover - pinned in pyproject
            raise StoreError("reading .tar.zst archives needs the zstandard package") from None
        stream = zstandard.ZstdDecompressor().stream_reader(raw, closefd=True)
        return tarfile.open(fileobj=stream, mode="r|")
    return tarfile.open(fileobj=raw, mode="r|*")


def _member_key(name: str) -> tuple[bytes, str] | None:
    """(key, encoding) of an archive member that is a preimage file, else None."""
    parts = [p for p in name.split("/") if p and p != "."]
    if not parts or parts[-1].startswith("._"):
        return None
    last = parts[-1]
    if last.endswith(".bin") and _HEX64.fullmatch(last[:-4]) and not last.startswith("0x"):
        return bytes.fromhex(last[:-4]), "raw"
    if last.endswith(".txt"):
        stem = last[:-4]
        if stem.startswith("0x") and _HEX64.fullmatch(stem):
            return bytes.fromhex(stem[2:]), "hex"
        if len(parts) >= 2 and len(parts[-2]) == 4 and _HEX64.fullmatch(parts[-2] + stem):
            return bytes.fromhex(parts[-2] + stem), "hex"
    return None


def open_archive(path: Path, raw_keccak: bool = False, extract: str | None = None) -> tuple[PreimageStore, dict]:
    """The store in an archive, and the archive's other small files by name (e.g. a fixture's ``fixture.json``).

    ``extract``: a top-level-relative folder name (``kv``) to unpack for RocksDB."""
    try:
        raw = open(path, "rb")  # noqa: SIM115 - closed below, once the stream is read
    except OSError as e:
        raise StoreError(f"cannot read archive {path}: {e}") from None
    with raw:
        return read_archive(raw, path, raw_keccak, extract)


def read_archive(raw, path: Path, raw_keccak: bool = False, extract: str | None = None) -> tuple[PreimageStore, dict]:
    """:func:`open_archive` over an open binary stream ``raw`` of the archive named ``path`` (the fuzz target reads
    archives from memory through here)."""
    items: dict[bytes, bytes] = {}
    others: dict[str, bytes] = {}
    tmp = None
    rocks_dir = None
    try:
        with _tar_stream(raw, Path(path).name) as tf:
            for m in tf:
                parts = [p for p in m.name.split("/") if p and p != "."]
                if not parts or parts[-1].startswith("._"):
                    continue
                if not m.isfile():
                    continue
                f = tf.extractfile(m)
                data = f.read() if f is not None else b""
                if extract is not None and extract in parts[:-1]:
                    if tmp is None:
                        tmp = tempfile.TemporaryDirectory(prefix="opnode-witness-")
                    i = parts.index(extract)
                    rocks_dir = Path(tmp.name, *parts[:i + 1])
                    rocks_dir.mkdir(parents=True, exist_ok=True)
                    (rocks_dir / parts[-1]).write_bytes(data)
                    continue
                k = _member_key(m.name)
                if k is None:
                    if m.size <= 1 << 20:
                        others[parts[-1]] = data
                    continue
                key, enc = k
                if enc == "hex":
                    try:
                        data = bytes.fromhex(data.decode().strip())
                    except (UnicodeDecodeError, ValueError):
                        data = b"\x00not hex"
                items[key] = data
    except (tarfile.TarError, OSError, EOFError) as e:
        if tmp is not None:
            tmp.cleanup()
        raise StoreError(f"cannot read archive {path}: {e}") from None
    except Exception as e:  # zstandard reports a corrupt frame as its own ZstdError
        if tmp is not None:
            tmp.cleanup()
        raise StoreError(f"cannot read archive {path}: {type(e).__name__}: {e}") from None
    if rocks_dir is not None:
        store = RocksStore(rocks_dir, raw_keccak)
        inner_close = store.close

        def close():
            inner_close()
            tmp.cleanup()

        store.close = close
        return store, others
    if not items:
        raise StoreError(f"archive {path} holds no preimage files")
    return MemoryStore(items, f"archive {path} ({len(items)} preimages)"), others


def open_store(path: str | Path, raw_keccak: bool = False) -> PreimageStore:
    p = Path(path)
    if p.is_dir():
        return open_directory(p, raw_keccak)
    if p.is_file():
        return open_archive(p, raw_keccak, extract="kv")[0]
    raise StoreError(f"{path}: no such file or directory")
