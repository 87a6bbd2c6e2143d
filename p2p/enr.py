"""Node records for ``--p2p.bootnodes``: ENRs (EIP-778, "v4" identity scheme) and ``enode://`` URLs.

Without discv5 (see :mod:`p2p.service`) bootnodes are dialed directly over libp2p TCP: a record gives the IPv4
address, the TCP port and the secp256k1 key, from which the libp2p peer id follows. An ENR's ``opstack`` entry is
the RLP byte string ``uvarint(chain_id) ‖ uvarint(version)`` (rollup-node-p2p.md §Consensus Layer Structure);
op-node only dials records whose entry matches its chain id with version 0 (``FilterEnodes``). Records are at most
300 bytes; the signature is verified against the record's own key, and a high-``s`` signature is refused as
geth's ``VerifySignature`` does.
"""

from __future__ import annotations

import base64
import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from coincurve import PrivateKey, PublicKey
from coincurve.ecdsa import cdata_to_der, deserialize_compact

from derivation.protocol import rlp
from derivation.protocol.crypto import keccak256
from derivation.protocol.errors import ParseError
from derivation.protocol.varint import put_uvarint, read_uvarint

MAX_RECORD_SIZE = 300
OPSTACK_KEY = b"opstack"


class RecordError(ParseError):
    """A node record that does not parse, verify or fit."""


@dataclass(frozen=True, slots=True)
class NodeRecord:
    public_key: bytes  # 33-byte compressed secp256k1
    ip: str | None
    tcp: int | None
    udp: int | None
    seq: int = 0
    opstack: tuple[int, int] | None = None  # (chain id, version)
    text: str = ""  # as given

    @property
    def node_id(self) -> bytes:
        """The discovery node id: keccak256 of the uncompressed public key without its prefix byte."""
        return keccak256(PublicKey(self.public_key).format(compressed=False)[1:])

    def matches_chain(self, chain_id: int) -> bool:
        """op-node ``FilterEnodes``: an ``opstack`` entry with this chain id and version 0. ``enode://`` URLs
        carry no entry and are trusted as configured."""
        if self.text.startswith("enode://"):
            return True
        return self.opstack == (chain_id, 0)


def parse_record(text: str) -> NodeRecord:
    t = text.strip()
    if t.startswith("enr:"):
        return _parse_enr(t)
    if t.startswith("enode://"):
        return _parse_enode(t)
    raise RecordError(f"not an ENR or enode URL: {t[:40]!r}")


def parse_bootnodes(value: str) -> list[NodeRecord]:
    """The comma-separated ``--p2p.bootnodes`` list; empty entries are skipped, as op-node does."""
    records = []
    items = value.split(",")
    for i, item in enumerate(items):
        if item.strip():
            try:
                records.append(parse_record(item))
            except RecordError as e:
                raise RecordError(f"bootnode record {i} (of {len(items)}) is invalid: {e}") from None
    return records


def _parse_enr(text: str) -> NodeRecord:
    body = text[4:]
    try:
        raw = base64.b64decode(body + "=" * (-len(body) % 4), altchars=b"-_", validate=True)
    except ValueError:
        raise RecordError("ENR is not base64url") from None
    if len(raw) > MAX_RECORD_SIZE:
        raise RecordError(f"ENR is {len(raw)} bytes, more than {MAX_RECORD_SIZE}")
    try:
        items = rlp.decode_list(raw)
    except ParseError as e:
        raise RecordError(f"ENR is not an RLP list: {e}") from None
    if len(items) < 2 or len(items) % 2:
        raise RecordError("ENR must hold a signature, a sequence number and key/value pairs")
    signature, seq_raw, rest = items[0], items[1], items[2:]
    pairs: dict[bytes, object] = {}
    previous = None
    for k, v in zip(rest[::2], rest[1::2], strict=True):
        if not isinstance(k, bytes):
            raise RecordError("ENR keys must be byte strings")
        if previous is not None and k <= previous:
            raise RecordError("ENR keys must be sorted and unique")
        pairs[k] = v
        previous = k
    if pairs.get(b"id") != b"v4":
        raise RecordError("only the v4 identity scheme is supported")
    pub = pairs.get(b"secp256k1")
    if not isinstance(pub, bytes) or len(pub) != 33 or not isinstance(signature, bytes) or len(signature) != 64:
        raise RecordError("v4 ENR needs a 33-byte secp256k1 key and a 64-byte signature")
    content = rlp.encode([seq_raw, *rest])
    try:
        der = cdata_to_der(deserialize_compact(signature))
        valid = PublicKey(pub).verify(der, keccak256(content), hasher=None)
    except (ValueError, TypeError):
        valid = False
    if not valid:
        raise RecordError("ENR signature does not verify")
    try:
        seq = rlp.decode_uint(seq_raw, 64)
        ip = str(ipaddress.IPv4Address(pairs[b"ip"])) if b"ip" in pairs else None
        tcp = rlp.decode_uint(pairs[b"tcp"], 16) if b"tcp" in pairs else None
        udp = rlp.decode_uint(pairs[b"udp"], 16) if b"udp" in pairs else None
    except (ParseError, ValueError, TypeError) as e:
        raise RecordError(f"bad ENR field: {e}") from None
    opstack = _decode_opstack(pairs[OPSTACK_KEY]) if OPSTACK_KEY in pairs else None
    return NodeRecord(public_key=pub, ip=ip, tcp=tcp, udp=udp, seq=seq, opstack=opstack, text=text)


def _decode_opstack(value) -> tuple[int, int] | None:
    """(chain id, version), or None when the entry does not parse (op-node then skips the node)."""
    if not isinstance(value, bytes):
        return None
    try:
        chain_id, pos = read_uvarint(value, 0, "opstack chain id")
        version, _ = read_uvarint(value, pos, "opstack version")  # later bytes: reserved
    except ParseError:
        return None
    return chain_id, version


def _parse_enode(text: str) -> NodeRecord:
    try:
        u = urlsplit(text)  # raises ValueError on a broken IPv6 host ("enode://[")
        pub = bytes.fromhex(u.username or "")
        if len(pub) != 64:
            raise ValueError
        compressed = PublicKey(b"\x04" + pub).format(compressed=True)
        ip = str(ipaddress.IPv4Address(u.hostname or ""))
        tcp = u.port
    except ValueError:
        raise RecordError("enode URL needs a 64-byte hex key, an IPv4 address and a port") from None
    udp = tcp
    for part in (u.query or "").split("&"):
        if part.startswith("discport="):
            try:
                udp = int(part[len("discport="):])
            except ValueError:
                raise RecordError("bad discport in enode URL") from None
    return NodeRecord(public_key=compressed, ip=ip, tcp=tcp, udp=udp, text=text)


def encode_record(private_key: bytes, *, ip: str | None, tcp: int | None, udp: int | None, chain_id: int,
                  seq: int = 1) -> str:
    """This node's ENR with the ``opstack`` entry, for others' ``--p2p.bootnodes`` and ``opp2p_self``."""
    key = PrivateKey(private_key)
    pairs: dict[bytes, object] = {b"id": b"v4", b"secp256k1": key.public_key.format(compressed=True),
                                  OPSTACK_KEY: put_uvarint(chain_id) + put_uvarint(0)}
    if ip is not None:
        pairs[b"ip"] = ipaddress.IPv4Address(ip).packed
    if tcp:
        pairs[b"tcp"] = tcp
    if udp:
        pairs[b"udp"] = udp
    content = [seq]
    for k in sorted(pairs):
        content += [k, pairs[k]]
    sig = key.sign_recoverable(keccak256(rlp.encode(content)), hasher=None)[:64]
    raw = rlp.encode([sig, *content])
    return "enr:" + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
