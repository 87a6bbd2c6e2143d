"""A small seeded mutator for the bounded campaign inside ``make test`` (no libFuzzer there: atheris ends its
process when done). Not coverage-guided; it starts from the saved corpus, which is."""

from __future__ import annotations

import random

_INTERESTING = (b"\x00", b"\xff", b"\x7f", b"\x80", b"\x81", b"\xb8", b"\xc0", b"\xf8", b"\xff\xff\xff\xff",
                b"\x00\x00\x00\x00")


def mutate(rng: random.Random, data: bytes, pool: list[bytes], tokens: tuple[bytes, ...], max_len: int) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(8)
        pos = rng.randint(0, len(b))
        if op == 0 and b:  # flip a bit
            i = rng.randrange(len(b))
            b[i] ^= 1 << rng.randrange(8)
        elif op == 1 and b:  # set a byte
            b[rng.randrange(len(b))] = rng.randrange(256)
        elif op == 2:  # insert random bytes
            b[pos:pos] = rng.randbytes(rng.randint(1, 8))
        elif op == 3 and b:  # delete a range
            b[pos:pos + rng.randint(1, 16)] = b""
        elif op == 4 and b:  # duplicate a range
            start = rng.randrange(len(b))
            b[pos:pos] = b[start:start + rng.randint(1, 32)]
        elif op == 5 and pool:  # splice another input in
            other = rng.choice(pool)
            start = rng.randint(0, len(other))
            b[pos:] = other[start:start + rng.randint(0, 256)]
        elif op == 6:
            b[pos:pos] = rng.choice(tokens) if tokens else rng.choice(_INTERESTING)
        else:
            b[pos:pos + 1] = rng.choice(_INTERESTING)
    return bytes(b[:max_len])
