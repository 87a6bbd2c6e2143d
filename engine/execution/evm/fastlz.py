"""The FastLZ compressed length of a transaction, as op-geth's ``FlzCompressLen`` computes it (Fjord L1 cost and the
Jovian DA footprint; specs: fjord/exec-engine.md §FastLZ Implementation).

Only the output length is needed, so nothing is written: the function walks the input like FastLZ level 1 with an
8192-entry hash table and counts literal runs and matches. Arithmetic is uint32 as in Go.
"""

_MASK32 = 0xFFFFFFFF


def flz_compress_len(ib: bytes) -> int:
    n = 0
    ht = [0] * 8192
    size = len(ib)

    def u24(i: int) -> int:
        return ib[i] | (ib[i + 1] << 8) | (ib[i + 2] << 16)

    def literals(r: int) -> int:
        out = 0x21 * (r // 0x20)
        r %= 0x20
        if r:
            out += r + 1
        return out

    def match_len(l_: int) -> int:
        l_ -= 1
        return 3 * (l_ // 262) + (3 if l_ % 262 >= 6 else 2)

    a = 0
    ip_limit = size - 13 if size >= 13 else 0
    ip = a + 2
    while ip < ip_limit:
        r = 0
        while True:
            s = u24(ip)
            h = (((2654435769 * s) & _MASK32) >> 19) & 0x1FFF
            r = ht[h]
            ht[h] = ip
            d = ip - r
            if ip >= ip_limit:
                break
            ip += 1
            if d <= 0x1FFF and s == u24(r):
                break
        if ip >= ip_limit:
            break
        ip -= 1
        if ip > a:
            n += literals(ip - a)
        # Go's cmp(r+3, ip+3, ipLimit+9): count equal bytes, plus one for the first mismatch.
        p, q, e = r + 3, ip + 3, ip_limit + 9 - (ip + 3)
        length = 0
        while length < e:
            if ib[p + length] != ib[q + length]:
                e = 0
            length += 1
        n += match_len(length)
        ip += length
        for _ in range(2):
            ht[(((2654435769 * u24(ip)) & _MASK32) >> 19) & 0x1FFF] = ip
            ip += 1
        a = ip
    n += literals(size - a)
    return n
