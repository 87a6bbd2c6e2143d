"""OP blob data: the version-0 encoding of batcher data into an EIP-4844 blob, and its strict decoder.

Spec: ecotone/derivation.md §Blob Encoding. A blob is 4096 field elements of 32 bytes. The data stream
``version(1)=0x00 ‖ length(3, big-endian) ‖ payload ‖ zero padding`` is packed in rounds of 127 bytes into 4 field
elements each: every element carries 31 stream bytes in its low bytes, and the 4 remaining stream bytes of the
round (x, y, z = stream bytes 31, 63, 95 of the round) are split into 6-bit pieces stored in the elements' first
bytes, whose top two bits stay zero so that each element is below the BLS modulus.

Decoding rejects the whole blob on any failure (the retrieval stage then skips that blob only): a version other
than 0, a length above 130044, a field element (other than the first, see below) with either top bit set, a non-zero
decoded byte past ``length``, or a non-zero byte in the field elements after the last round that was read.

The first byte of the first field element is *not* checked for its top two bits: op-node (op-service/eth/blob.go
``ToData``) and kona (derive/src/sources/blob_data.rs) mask it with 0x3F and never test it, although the spec
text asks every field element's top bits to be zero. Live chains derive with those implementations, so a blob
whose byte 0 has bit 6 set (still a valid field element up to 0x73…) decodes here exactly as it does there.
"""

from __future__ import annotations

from derivation.protocol.errors import ParseError

BLOB_SIZE = 131072
FIELD_ELEMENTS_PER_BLOB = 4096
ROUNDS = 1024
ENCODING_VERSION = 0
MAX_BLOB_DATA_SIZE = (4 * 31 + 3) * ROUNDS - 4  # 130044: 1024 rounds of 127 bytes, minus the 4-byte header
_ROUND = 127


class BlobDecodeError(ParseError):
    """The blob is not valid version-0 OP blob data; the whole blob is ignored."""


class BlobEncodeError(ValueError):
    """The data cannot be put in one blob (batcher side; a programming error, not untrusted input)."""


def decode_blob(blob: bytes) -> bytes:
    """Recover the data a batcher put in ``blob`` (rules in the module docstring).

    Raises :class:`BlobDecodeError` with the first failing rule. Work is bounded by the rounds the stated length
    needs plus one scan of the rest of the blob.
    """
    blob = bytes(blob)
    if len(blob) != BLOB_SIZE:
        raise BlobDecodeError(f"a blob is {BLOB_SIZE} bytes, got {len(blob)}")
    if blob[1] != ENCODING_VERSION:
        raise BlobDecodeError(f"unsupported blob encoding version {blob[1]} (expected {ENCODING_VERSION})")
    length = int.from_bytes(blob[2:5], "big")
    if length > MAX_BLOB_DATA_SIZE:
        raise BlobDecodeError(f"blob data length {length} exceeds the maximum {MAX_BLOB_DATA_SIZE}")

    rounds = max(1, -(-(length + 4) // _ROUND))  # op-node always reads round 0, then rounds while output < length
    end = rounds * 128
    fe_heads = blob[0:end:32]
    for i in range(1, len(fe_heads)):
        if fe_heads[i] & 0xC0:
            raise BlobDecodeError(f"field element {i} has a top bit set (byte {i * 32} = 0x{fe_heads[i]:02x})")

    stream = bytearray(rounds * _ROUND)
    for r in range(rounds):
        h0, h1, h2, h3 = fe_heads[4 * r:4 * r + 4]
        x = (h0 & 0x3F) | ((h1 & 0x30) << 2)
        y = (h1 & 0x0F) | ((h3 & 0x0F) << 4)
        z = (h2 & 0x3F) | ((h3 & 0x30) << 2)
        i, o = 128 * r, _ROUND * r
        stream[o:o + 31] = blob[i + 1:i + 32]
        stream[o + 31] = x
        stream[o + 32:o + 63] = blob[i + 33:i + 64]
        stream[o + 63] = y
        stream[o + 64:o + 95] = blob[i + 65:i + 96]
        stream[o + 95] = z
        stream[o + 96:o + 127] = blob[i + 97:i + 128]

    data_end = 4 + length
    if stream.count(0, data_end) != len(stream) - data_end:
        pos = next(j for j in range(data_end, len(stream)) if stream[j])
        raise BlobDecodeError(f"non-zero byte at data offset {pos - 4} past the stated length {length}")
    if blob.count(0, end) != BLOB_SIZE - end:
        pos = next(j for j in range(end, BLOB_SIZE) if blob[j])
        raise BlobDecodeError(f"non-zero byte at blob offset {pos} after the last field element read")
    return bytes(stream[4:data_end])


def encode_blob(data: bytes) -> bytes:
    """Pack ``data`` (at most 130044 bytes) into a version-0 blob; the inverse of :func:`decode_blob`."""
    data = bytes(data)
    if len(data) > MAX_BLOB_DATA_SIZE:
        raise BlobEncodeError(f"{len(data)} bytes do not fit in a blob (maximum {MAX_BLOB_DATA_SIZE})")
    stream = bytes((ENCODING_VERSION,)) + len(data).to_bytes(3, "big") + data
    rounds = -(-len(stream) // _ROUND)
    stream += bytes(rounds * _ROUND - len(stream))
    out = bytearray(BLOB_SIZE)
    for r in range(rounds):
        s = stream[_ROUND * r:_ROUND * (r + 1)]
        x, y, z = s[31], s[63], s[95]
        i = 128 * r
        out[i] = x & 0x3F
        out[i + 1:i + 32] = s[0:31]
        out[i + 32] = (y & 0x0F) | ((x & 0xC0) >> 2)
        out[i + 33:i + 64] = s[32:63]
        out[i + 64] = z & 0x3F
        out[i + 65:i + 96] = s[64:95]
        out[i + 96] = ((z & 0xC0) >> 2) | ((y & 0xF0) >> 4)
        out[i + 97:i + 128] = s[96:127]
    return bytes(out)
