"""Generator of ``spec-vectors/p2p_gossip_cases.json``: signed block gossip messages made with a fixed key, one
per validation outcome, and the expected verdict of each (op-node's rules, cited per case).

Run ``python -m tests.p2p.gossip_vectors`` to rewrite the file; ``test_gossip_vectors.py`` checks the file is what
this generator produces and that the validator reaches every expected verdict. Inputs are deterministic: the key
is keccak256 of ``KEY_SEED``, signatures are RFC 6979 (libsecp256k1), the v4 block is a real Unichain Sepolia block
(from ``p2p_external.json``) and the other payloads reuse its transactions.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from derivation.protocol.crypto import keccak256, sha256
from derivation.protocol.hexutil import to_hex
from derivation.protocol.payload import ExecutionPayload, ExecutionPayloadEnvelope, Withdrawal
from derivation.protocol.rollup_config import RollupConfig
from p2p.block_hash import compute_block_hash
from p2p.signing import LocalSigner
from p2p.ssz import encode_envelope
from p2p.topics import BlockVersion, blocks_topic
from p2p.wire import compress, decompress, encode_block_message, message_id
from tests.vectors import ROOT, load

KEY_SEED = b"opnode p2p gossip vectors"
OTHER_KEY_SEED = b"opnode p2p gossip vectors: not the sequencer"
OUT = ROOT / "p2p_gossip_cases.json"

OP_NODE = "ethereum-optimism/optimism"
OP_NODE_COMMIT = "d317e96c2add4a4e7fae72d6637ad241457f16c7"
KONA_COMMIT = "cdb9be247e4178741d152e475e523883a31c4dbe"
SPECS_COMMIT = "fd72cf797df6778fca67177c5335563bc602757c"


def _gossip(proves: str) -> dict:
    return {"repo": OP_NODE, "path": "op-node/p2p/gossip.go", "commit": OP_NODE_COMMIT, "proves": proves}


def _spec(proves: str) -> dict:
    return {"repo": "ethereum-optimism/specs", "path": "specs/protocol/rollup-node-p2p.md", "commit": SPECS_COMMIT,
            "proves": proves}


def chain(name: str) -> RollupConfig:
    return RollupConfig.from_json(load("rollup_configs.json")["chains"][name]["rollup_json"])


def real_v4_envelope() -> ExecutionPayloadEnvelope:
    block = load("p2p_external.json")["real_blocks"][0]
    return ExecutionPayloadEnvelope.from_json({"executionPayload": block["execution_payload"],
                                               "parentBeaconBlockRoot": block["parent_beacon_block_root"]})


def _h(label: str, n: int) -> bytes:
    return sha256(f"{label}/{n}".encode())


def synthetic(version: BlockVersion, number: int, timestamp: int, **overrides) -> ExecutionPayloadEnvelope:
    """A payload of ``version`` with a correct block hash; ``overrides`` replace payload fields before hashing."""
    txs = real_v4_envelope().payload.transactions
    p = ExecutionPayload(
        parent_hash=_h("parent", number), fee_recipient=bytes.fromhex("4200000000000000000000000000000000000011"),
        state_root=_h("state", number), receipts_root=_h("receipts", number), logs_bloom=bytes(256),
        prev_randao=_h("randao", number), block_number=number, gas_limit=30_000_000, gas_used=123_456,
        timestamp=timestamp, extra_data=b"" if version < BlockVersion.V3 else bytes.fromhex("000000003200000006"),
        base_fee_per_gas=1_000_252, block_hash=bytes(32), transactions=txs[: 2 + number % 3],
        withdrawals=() if version.has_withdrawals else None,
        blob_gas_used=0 if version.has_blob_properties else None,
        excess_blob_gas=0 if version.has_blob_properties else None,
        withdrawals_root=_h("withdrawals_root", number) if version.has_withdrawals_root else None)
    p = replace(p, **overrides)
    env = ExecutionPayloadEnvelope(p, _h("beacon", number) if version.has_parent_beacon_block_root else None)
    return rehash(env, version)


def rehash(env: ExecutionPayloadEnvelope, version: BlockVersion) -> ExecutionPayloadEnvelope:
    return replace(env, payload=replace(env.payload, block_hash=compute_block_hash(env, version)))


def _uvarint(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def build() -> dict:
    seq = LocalSigner(keccak256(KEY_SEED))
    other = LocalSigner(keccak256(OTHER_KEY_SEED))
    op_sepolia, unichain = chain("op-sepolia"), chain("unichain-sepolia")
    cases: list[dict] = []

    def case(name: str, chain_name: str, version: BlockVersion, data: bytes, now: int, expect: str, reason: str,
             provenance: list[dict], env: ExecutionPayloadEnvelope | None = None, signer: bytes | None = seq.address) -> None:
        cfg = op_sepolia if chain_name == "op-sepolia" else unichain
        topic = blocks_topic(cfg.l2_chain_id, version)
        cases.append({"name": name, "chain": chain_name, "topic": topic, "topic_version": int(version),
                      "data": to_hex(data), "now": now, "unsafe_signer": None if signer is None else to_hex(signer),
                      "expect": expect, "reason": reason, "message_id": to_hex(message_id(topic, data)),
                      "block_hash": None if env is None else to_hex(env.block_hash), "provenance": provenance})

    def signed(env: ExecutionPayloadEnvelope, version: BlockVersion, cfg: RollupConfig, signer: LocalSigner = seq) -> bytes:
        return encode_block_message(env, version, signer, cfg.l2_chain_id)

    v1 = synthetic(BlockVersion.V1, 1000, 1_699_900_000)
    v2 = synthetic(BlockVersion.V2, 2000, 1_703_000_000)
    v3 = synthetic(BlockVersion.V3, 3000, 1_740_000_000)
    v4_jovian = synthetic(BlockVersion.V4, 4000, 1_763_600_000, blob_gas_used=41_600)
    real = real_v4_envelope()
    v1t, v2t, v3t, v4t = (e.timestamp for e in (v1, v2, v3, real))

    ok = [_gossip("BuildBlocksValidator returns ValidationAccept when every check passes")]
    case("v1 block (Bedrock/Regolith)", "op-sepolia", BlockVersion.V1, signed(v1, BlockVersion.V1, op_sepolia), v1t,
         "ACCEPT", "accepted", ok, v1)
    case("v2 block (Canyon)", "op-sepolia", BlockVersion.V2, signed(v2, BlockVersion.V2, op_sepolia), v2t,
         "ACCEPT", "accepted", ok, v2)
    case("v3 envelope (Holocene)", "op-sepolia", BlockVersion.V3, signed(v3, BlockVersion.V3, op_sepolia), v3t,
         "ACCEPT", "accepted", ok, v3)
    case("v4 envelope: real Unichain Sepolia block 35535698 (Isthmus)", "unichain-sepolia", BlockVersion.V4,
         signed(real, BlockVersion.V4, unichain), v4t, "ACCEPT", "accepted",
         ok + [{"repo": "alloy-rs/op-alloy", "path": "crates/rpc-types-engine/src/envelope.rs",
                "commit": "a93a08a021e80db8133f5f7fdccbb5639bc68d45",
                "proves": "the payload fields and block hash of Unichain Sepolia block 35535698"}], real)
    case("v4 envelope after Jovian with non-zero blobGasUsed (DA footprint)", "op-sepolia", BlockVersion.V4,
         signed(v4_jovian, BlockVersion.V4, op_sepolia), v4_jovian.timestamp, "ACCEPT", "accepted",
         [{"repo": "op-rs/kona", "path": "crates/node/gossip/src/block_validity.rs", "commit": KONA_COMMIT,
           "proves": "validate_v3 allows blob_gas_used != 0 once Jovian is active (op-node PR #17940 likewise)"}],
         v4_jovian)
    case("timestamp exactly 60 s old", "op-sepolia", BlockVersion.V3, signed(v3, BlockVersion.V3, op_sepolia),
         v3t + 60, "ACCEPT", "accepted", [_gossip("REJECT only if payload.Timestamp < now-60")], v3)
    case("timestamp exactly 5 s ahead", "op-sepolia", BlockVersion.V3, signed(v3, BlockVersion.V3, op_sepolia),
         v3t - 5, "ACCEPT", "accepted", [_gossip("REJECT only if payload.Timestamp > now+5")], v3)

    # --- compression and size
    case("snappy header is not a 32-bit varint", "op-sepolia", BlockVersion.V3, b"\xff\xff\xff\xff\xff\x01", v3t,
         "REJECT", "snappy_header", [_gossip("snappy.DecodedLen error: ValidationReject")])
    case("snappy header claims 10 MiB + 1", "op-sepolia", BlockVersion.V3,
         _uvarint(10 * (1 << 20) + 1) + b"\x00" * 16, v3t, "REJECT", "too_large",
         [_gossip("outLen > maxGossipSize (10 MiB): ValidationReject, before decompressing")])
    case("decompresses to 65 bytes", "op-sepolia", BlockVersion.V3, compress(bytes(65)), v3t, "REJECT", "too_small",
         [_gossip("outLen < minGossipSize (66): ValidationReject")])
    case("corrupt snappy body", "op-sepolia", BlockVersion.V3, _uvarint(100) + b"\xfe\xff\xff\x00" * 4, v3t,
         "REJECT", "snappy", [_gossip("snappy.Decode error: ValidationReject")])

    # --- signature
    good = signed(v3, BlockVersion.V3, op_sepolia)
    raw = decompress(good)
    case("r = 0 does not recover", "op-sepolia", BlockVersion.V3, compress(bytes(32) + raw[32:]), v3t, "REJECT",
         "signature", [_gossip("crypto.SigToPub error: ValidationReject")])
    case("y_parity 27 (Ethereum v) is not a recovery id", "op-sepolia", BlockVersion.V3,
         compress(raw[:64] + bytes((raw[64] + 27,)) + raw[65:]), v3t, "REJECT", "signature",
         [_gossip("crypto.SigToPub rejects recovery ids >= 4"), _spec("y_parity must be 0 or 1")])
    case("signed by another key", "op-sepolia", BlockVersion.V3, signed(v3, BlockVersion.V3, op_sepolia, other),
         v3t, "REJECT", "wrong_signer", [_gossip("addr != P2PSequencerAddress(): ValidationReject")], v3)
    case("signed for another chain id", "unichain-sepolia", BlockVersion.V3,
         signed(v3, BlockVersion.V3, op_sepolia), v3t, "REJECT", "wrong_signer",
         [_gossip("the chain id is part of the signing hash (BlockSigningHash), so another address recovers")], v3)
    case("no unsafe block signer known", "op-sepolia", BlockVersion.V3, good, v3t, "IGNORE", "no_signer",
         [_gossip("P2PSequencerAddress() == zero address: ValidationIgnore")], v3, signer=None)

    # --- encoding and topic
    case("v3 envelope on the v1 topic", "op-sepolia", BlockVersion.V1, good, v3t, "REJECT", "encoding",
         [_gossip("UnmarshalSSZ(BlockV1) fails: extra data offset is not 508")])
    case("v1 payload on the v3 topic", "op-sepolia", BlockVersion.V3, signed(v1, BlockVersion.V1, op_sepolia), v1t,
         "REJECT", "encoding", [_gossip("envelope.UnmarshalSSZ(BlockV3) fails: extra data offset is not 528")])
    case("Canyon block sent as v1 on the v1 topic", "op-sepolia", BlockVersion.V1,
         _canyon_as_v1(v2, seq, op_sepolia), v2t, "REJECT", "block_hash",
         [_gossip("CheckBlockHash: without the withdrawals root the header hashes differently")])

    # --- time window
    case("timestamp 61 s old", "op-sepolia", BlockVersion.V3, good, v3t + 61, "REJECT", "too_old",
         [_gossip("payload.Timestamp < now-60: ValidationReject")], v3)
    case("timestamp 6 s ahead", "op-sepolia", BlockVersion.V3, good, v3t - 6, "REJECT", "too_new",
         [_gossip("payload.Timestamp > now+5: ValidationReject")], v3)

    # --- block hash and version fields
    tampered = ExecutionPayloadEnvelope(replace(v3.payload, gas_used=v3.payload.gas_used + 1), v3.parent_beacon_block_root)
    case("gas_used changed after sealing", "op-sepolia", BlockVersion.V3, signed(tampered, BlockVersion.V3,
                                                                                   op_sepolia),
         v3t, "REJECT", "block_hash", [_gossip("CheckBlockHash mismatch: ValidationReject")], tampered)
    root_tampered = ExecutionPayloadEnvelope(v3.payload, _h("other beacon root", 0))
    case("parent beacon root changed after sealing", "op-sepolia", BlockVersion.V3,
         signed(root_tampered, BlockVersion.V3, op_sepolia), v3t, "REJECT", "block_hash",
         [_gossip("the parent beacon block root is part of the recomputed header")], root_tampered)
    w = Withdrawal(index=1, validator_index=2, address=bytes.fromhex("00" * 19 + "01"), amount=3)
    v2w = synthetic(BlockVersion.V2, 2001, v2t, withdrawals=(w,))
    case("Canyon block with a withdrawal", "op-sepolia", BlockVersion.V2, signed(v2w, BlockVersion.V2, op_sepolia),
         v2t, "REJECT", "non_empty_withdrawals",
         [_gossip("len(*payload.Withdrawals) != 0 on a >= V2 topic: ValidationReject")], v2w)
    v3b = synthetic(BlockVersion.V3, 3001, v3t, blob_gas_used=131072)
    case("Holocene block with blobGasUsed != 0", "op-sepolia", BlockVersion.V3, signed(v3b, BlockVersion.V3,
                                                                                        op_sepolia),
         v3t, "REJECT", "blob_gas_used", [_gossip("*payload.BlobGasUsed != 0 on a >= V3 topic before Jovian")], v3b)
    v3e = synthetic(BlockVersion.V3, 3002, v3t, excess_blob_gas=1)
    case("Holocene block with excessBlobGas != 0", "op-sepolia", BlockVersion.V3, signed(v3e, BlockVersion.V3,
                                                                                          op_sepolia),
         v3t, "REJECT", "excess_blob_gas", [_gossip("*payload.ExcessBlobGas != 0 on a >= V3 topic")], v3e)
    v4e = synthetic(BlockVersion.V4, 4001, 1_763_600_000, excess_blob_gas=7)
    case("Jovian block with excessBlobGas != 0", "op-sepolia", BlockVersion.V4, signed(v4e, BlockVersion.V4,
                                                                                        op_sepolia),
         v4e.timestamp, "REJECT", "excess_blob_gas",
         [{"repo": "op-rs/kona", "path": "crates/node/gossip/src/block_validity.rs", "commit": KONA_COMMIT,
           "proves": "excess_blob_gas must stay 0 after Jovian"}], v4e)

    sequences = [_height_sequence(seq, op_sepolia), _replay_sequence(seq, op_sepolia)]
    return {
        "description": "Block gossip messages (snappy of signature ‖ payload bytes) and the verdict op-node's block "
                       "validator gives each: one case per reachable accept/ignore/reject reason. Each case names "
                       "its chain (a rollup_configs.json entry), topic, the validator's clock ('now', Unix "
                       "seconds) and the unsafe block signer; 'sequences' run on one validator in order.",
        "generator": "tests/p2p/gossip_vectors.py; key = keccak256(KEY_SEED), KEY_SEED = "
                     f"{KEY_SEED.decode()!r}; another signer uses {OTHER_KEY_SEED.decode()!r}",
        "signer_address": to_hex(seq.address),
        "notes": ["Reasons that no message can reach (v1 with withdrawals, a v2+ payload without a withdrawals "
                  "list, blob fields or a beacon root on v1/v2, a v3+ block without them, a v4 block without "
                  "withdrawalsRoot) are impossible after SSZ decoding by topic version; tests reach them through "
                  "p2p.validation.check_version_fields with constructed envelopes.",
                  "Signatures are checked before decoding, as op-node does (the spec lists the signature last)."],
        "cases": cases,
        "sequences": sequences,
    }


def _canyon_as_v1(v2: ExecutionPayloadEnvelope, signer: LocalSigner, cfg: RollupConfig) -> bytes:
    """The Canyon payload with its (correct v2) hash, but encoded and signed as a v1 payload."""
    as_v1 = ExecutionPayloadEnvelope(replace(v2.payload, withdrawals=None))
    payload_bytes = encode_envelope(as_v1, BlockVersion.V1)
    return compress(signer.sign(cfg.l2_chain_id, payload_bytes) + payload_bytes)


def _height_sequence(seq: LocalSigner, cfg: RollupConfig) -> dict:
    base = 1_740_000_100
    blocks = [synthetic(BlockVersion.V3, 5000, base, state_root=_h("fork", i)) for i in range(8)]
    topic = blocks_topic(cfg.l2_chain_id, BlockVersion.V3)
    steps = []
    for i, env in enumerate(blocks[:7]):
        expect, reason = ("ACCEPT", "accepted") if i < 6 else ("REJECT", "too_many_blocks")
        data = encode_block_message(env, BlockVersion.V3, seq, cfg.l2_chain_id)
        steps.append({"data": to_hex(data), "block_hash": to_hex(env.block_hash), "expect": expect, "reason": reason,
                      "message_id": to_hex(message_id(topic, data))})
    first = encode_block_message(blocks[0], BlockVersion.V3, seq, cfg.l2_chain_id)
    steps.append({"data": to_hex(first), "block_hash": to_hex(blocks[0].block_hash), "expect": "REJECT",
                  "reason": "too_many_blocks", "message_id": to_hex(message_id(topic, first))})
    return {"name": "seven distinct blocks at one height, then the first again", "chain": "op-sepolia",
            "topic": topic, "topic_version": int(BlockVersion.V3), "now": base, "unsafe_signer": to_hex(seq.address),
            "steps": steps,
            "provenance": [_gossip("count > 5 blocks seen at the height: ValidationReject, checked before the "
                                   "already-seen test"), _spec("REJECT if more than 5 different blocks have been "
                                                               "seen with the same block height")]}


def _replay_sequence(seq: LocalSigner, cfg: RollupConfig) -> dict:
    base = 1_740_000_200
    env = synthetic(BlockVersion.V3, 5100, base)
    topic = blocks_topic(cfg.l2_chain_id, BlockVersion.V3)
    data = encode_block_message(env, BlockVersion.V3, seq, cfg.l2_chain_id)
    step = {"data": to_hex(data), "block_hash": to_hex(env.block_hash), "message_id": to_hex(message_id(topic, data))}
    return {"name": "the same block twice", "chain": "op-sepolia", "topic": topic,
            "topic_version": int(BlockVersion.V3), "now": base, "unsafe_signer": to_hex(seq.address),
            "steps": [dict(step, expect="ACCEPT", reason="accepted"), dict(step, expect="IGNORE", reason="seen")],
            "provenance": [_gossip("hasSeen(payload.BlockHash): ValidationIgnore")]}


def render() -> str:
    return json.dumps(build(), indent=1) + "\n"


if __name__ == "__main__":
    Path(OUT).write_text(render())
    print(f"wrote {OUT}")
