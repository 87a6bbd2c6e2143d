"""Targets for p2p/: SSZ payloads and envelopes, whole gossip messages through the block validator (snappy, SSZ,
block hash, version rules), and node records (ENRs, enode URLs)."""

from __future__ import annotations

import base64

from derivation.protocol import rlp
from derivation.protocol.crypto import keccak256
from derivation.protocol.errors import ParseError
from derivation.protocol.payload import ExecutionPayloadEnvelope
from fuzz.targets import target
from fuzz.targets.config import CONFIG
from fuzz.vectors import vector
from p2p.block_hash import compute_block_hash
from p2p.enr import encode_record, parse_bootnodes, parse_record
from p2p.ssz import decode_envelope, encode_envelope
from p2p.topics import BlockVersion
from p2p.validation import BlockValidator, Verdict, check_version_fields
from p2p.wire import compress, decompress, message_id

VERSIONS = list(BlockVersion)
ENR_KEY = keccak256(b"opnode fuzz enr")


def _gossip_messages() -> list[tuple[int, bytes]]:
    return [(c["topic_version"], bytes.fromhex(c["data"][2:])) for c in vector("p2p_gossip_cases")["cases"]
            if isinstance(c.get("data"), str)] + [
        (m["topic_version"], bytes.fromhex(m["data"][2:])) for m in vector("p2p_external")["messages"]]


def _ssz_seeds():
    for version, msg in _gossip_messages():
        try:
            yield bytes((version,)) + decompress(msg)[65:]
        except ParseError:
            continue
    for b in vector("p2p_external")["real_blocks"]:
        env = ExecutionPayloadEnvelope.from_json({"executionPayload": b["execution_payload"],
                                        "parentBeaconBlockRoot": b["parent_beacon_block_root"]})
        yield bytes((BlockVersion.V4,)) + encode_envelope(env, BlockVersion.V4)


@target("ssz_payload", allowed=(ParseError,), seeds=_ssz_seeds, max_len=16384)
def ssz_target(data: bytes) -> None:
    """p2p/ssz.py: an SSZ payload or envelope of the version the first byte names; what decodes is hashed, checked
    against its version's field rules and re-encoded."""
    version = VERSIONS[data[0] % 4] if data else BlockVersion.V1
    env = decode_envelope(data[1:], version)
    compute_block_hash(env, version)
    check_version_fields(CONFIG, env, version)
    encode_envelope(env, version)


class _Unsigned(BlockValidator):
    """Every signature passes, so that random messages reach decoding and the checks after it."""

    def _check_signature(self, signature, payload_bytes):
        return None


def _gossip_seeds():
    for version, msg in _gossip_messages():
        yield bytes((version,)) + msg
        yield bytes((version | 4,)) + msg


@target("gossip", allowed=(), seeds=_gossip_seeds, max_len=16384)
def gossip_target(data: bytes) -> None:
    """p2p/validation.py and wire.py: a gossip message (snappy of signature ‖ payload) through the block validator,
    which must answer a verdict and never raise (the ``guarded`` wrapper must never be needed). First byte: topic
    version (bits 0-1), skip the signature check (bit 2) so that unsigned garbage reaches the SSZ decoder."""
    mode = data[0] if data else 0
    version = VERSIONS[mode & 3]
    cls = _Unsigned if mode & 4 else BlockValidator
    signer = bytes.fromhex(vector("p2p_gossip_cases")["signer_address"][2:])
    v = cls(CONFIG, lambda: signer, clock=lambda: 1_700_000_000).validate(version, data[1:])
    if not isinstance(v, Verdict):
        raise AssertionError("the validator did not return a verdict")
    message_id("/optimism/10/0/blocks", data[1:])


def _enr_seeds():
    recs = vector("p2p_external")["node_records"]
    texts = [recs["eip778_example"]["text"], *recs["op_node_default_bootnodes"].get("enr", [])]
    texts += recs["op_node_default_bootnodes"].get("enode", [])
    for t in texts:
        yield b"\x00" + t.encode()
    yield b"\x00" + ",".join(texts[:3]).encode()
    own = encode_record(ENR_KEY, ip="127.0.0.1", tcp=9222, udp=9222, chain_id=10)
    raw = base64.urlsafe_b64decode(own[4:] + "=" * (-len(own[4:]) % 4))
    yield b"\x01" + raw
    yield b"\x02" + rlp.encode(rlp.decode(raw)[1:])


def _signed_enr(content: bytes) -> str:
    """An ENR whose signature verifies over ``content`` (the RLP list [seq, k, v, ...]) with :data:`ENR_KEY`."""
    from coincurve import PrivateKey

    sig = PrivateKey(ENR_KEY).sign_recoverable(keccak256(content), hasher=None)[:64]
    try:
        _, start, _ = rlp.header(content)
        payload = content[start:]
    except ParseError:
        payload = content
    raw = rlp.encode_list_payload(rlp.encode_bytes(sig) + payload)
    return "enr:" + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@target("enr", allowed=(ParseError,), seeds=_enr_seeds, max_len=1024,
        tokens=(b"enr:", b"enode://", b"@127.0.0.1:30303", b"?discport=", b"secp256k1", b"opstack"))
def enr_target(data: bytes) -> None:
    """p2p/enr.py: ``--p2p.bootnodes`` text (mode 0), a raw ENR record (1), or record content signed here so that the
    fuzzer gets past the signature to the fields (2)."""
    mode, body = (data[0] % 3, data[1:]) if data else (0, b"")
    if mode == 0:
        for rec in parse_bootnodes(body.decode("utf-8", "replace")):
            rec.node_id  # noqa: B018
            rec.matches_chain(10)
    else:
        text = ("enr:" + base64.urlsafe_b64encode(body).rstrip(b"=").decode()) if mode == 1 else _signed_enr(body)
        rec = parse_record(text)
        rec.node_id  # noqa: B018


def _snappy_seeds():
    for _, msg in _gossip_messages()[:5]:
        yield msg
    yield compress(b"hello" * 100)


@target("snappy", allowed=(ParseError,), seeds=_snappy_seeds, max_len=8192)
def snappy_target(data: bytes) -> None:
    """p2p/wire.py: snappy block decompression under the 10 MiB gossip cap (the claimed size is checked first)."""
    decompress(data)
