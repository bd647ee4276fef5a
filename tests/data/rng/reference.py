#!/usr/bin/env python3
"""An independent implementation of kaieval's random streams (core/rng.h):
key = SHA-256("kaieval-rng-v1" NUL, seed as 8 bytes LE, criterion NUL, purpose NUL,
replicate as 8 bytes LE); x = first 8 digest bytes LE; state = 4 x splitmix64(x);
outputs = xoshiro256**.  Run: python3 reference.py > reference.txt"""
import hashlib
import struct

M = (1 << 64) - 1


def splitmix64(x):
    x = (x + 0x9E3779B97F4A7C15) & M
    z = x
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
    return x, z ^ (z >> 31)


def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & M


def stream(seed, criterion, purpose, replicate):
    key = (b"kaieval-rng-v1\0" + struct.pack("<Q", seed) + criterion.encode() + b"\0"
           + purpose.encode() + b"\0" + struct.pack("<Q", replicate))
    x = struct.unpack("<Q", hashlib.sha256(key).digest()[:8])[0]
    s = []
    for _ in range(4):
        x, z = splitmix64(x)
        s.append(z)
    while True:
        result = (rotl((s[1] * 5) & M, 7) * 9) & M
        t = (s[1] << 17) & M
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        yield result


for seed, crit, purpose, rep in [(20260115, "users", "bootstrap", 0),
                                 (20260115, "users", "bootstrap", 1),
                                 (7, "experts", "", 42)]:
    g = stream(seed, crit, purpose, rep)
    outs = " ".join(str(next(g)) for _ in range(5))
    print(f"{seed} {crit} {purpose or '-'} {rep} {outs}")
