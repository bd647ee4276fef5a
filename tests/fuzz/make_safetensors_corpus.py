#!/usr/bin/env python3
"""Write the seed corpus of fuzz_safetensors.c (tests/fuzz/corpus-safetensors):
small well-formed files (every natively read dtype, sub-byte and integer
dtypes, a scalar, an empty tensor, unaligned data, non-finite values), the
hostile cases of tests/test_forensics.c, and two index files.  Standard
library only; the same bytes on every run."""
import json
import os
import struct
import sys

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus-safetensors")


def st(entries, data, declared=None, pad=True):
    header = json.dumps(entries, separators=(",", ":")).encode()
    if pad:
        header += b" " * ((8 - len(header) % 8) % 8)
    n = len(header) if declared is None else declared
    return struct.pack("<Q", n) + header + data


def entry(dtype, shape, begin, end):
    return {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}


def bf16(values):
    return b"".join(struct.pack("<I", struct.unpack("<I", struct.pack("<f", v))[0])[2:] for v in values)


def f32(values):
    return b"".join(struct.pack("<f", v) for v in values)


SEEDS = {}
w = [((i * 37) % 23 - 11) / 16 for i in range(48)]
SEEDS["good-mixed"] = st({"__metadata__": {"format": "pt"},
                          "w": entry("BF16", [6, 8], 0, 96), "v": entry("F32", [4], 96, 112),
                          "h": entry("F16", [2], 112, 116), "ids": entry("I64", [2], 116, 132),
                          "s": entry("F64", [], 132, 140), "e": entry("BF16", [0, 3], 140, 140)},
                         bf16(w) + f32([1, -2, 0.5, 3]) + b"\x00\x3c\x00\xc1" + struct.pack("<qq", 0, 1)
                         + struct.pack("<d", 2.5))
SEEDS["good-unpadded-unaligned"] = st({"a": entry("U8", [3], 0, 3), "b": entry("F32", [2], 3, 11)},
                                      b"\x01\x02\x03" + f32([1.5, -0.25]), pad=False)
SEEDS["good-nonfinite"] = st({"x": entry("F32", [4], 0, 16)}, f32([float("inf"), float("nan"), -0.0, 1]))
SEEDS["good-subbyte"] = st({"q": entry("F4", [4], 0, 2), "r": entry("F8_E4M3", [2], 2, 4)}, b"\x12\x34\x56\x78")
SEEDS["good-long-bf16"] = st({"m": entry("BF16", [40, 40], 0, 3200)}, bf16([(i % 7) / 8 for i in range(1600)]))
SEEDS["good-empty"] = st({}, b"")
SEEDS["bad-header-past-eof"] = st({"a": entry("U8", [4], 0, 4)}, b"abcd", declared=1000)
SEEDS["bad-huge-header"] = st({}, b"", declared=2**64 - 1)
SEEDS["bad-overlap"] = st({"a": entry("F32", [6], 0, 24), "b": entry("F32", [6], 16, 40)}, bytes(40))
SEEDS["bad-gap"] = st({"a": entry("F32", [6], 0, 24), "b": entry("F32", [6], 28, 52)}, bytes(52))
SEEDS["bad-numel-overflow"] = st({"w": entry("U8", [2**32, 2**32, 16], 0, 1)}, bytes(1))
SEEDS["bad-not-object"] = struct.pack("<Q", 5) + b"[1,2]"
SEEDS["bad-duplicate"] = struct.pack("<Q", 105) + (b'{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},'
                                                  b'"a":{"dtype":"U8","shape":[4],"data_offsets":[4,8]}}') + bytes(8)
SEEDS["bad-dtype"] = st({"q": entry("F128", [2], 0, 32)}, bytes(32))
SEEDS["bad-truncated"] = st({"a": entry("F32", [6], 0, 24), "b": entry("F32", [6], 24, 48)}, bytes(34))
SEEDS["index-good"] = json.dumps({"metadata": {"total_size": 140}, "weight_map": {
    "w": "model-00001-of-00002.safetensors", "v": "model-00001-of-00002.safetensors",
    "ids": "model-00002-of-00002.safetensors"}}).encode()
SEEDS["index-bad-path"] = b'{"weight_map": {"w": "../etc/passwd"}}'

os.makedirs(OUT, exist_ok=True)
for name, data in sorted(SEEDS.items()):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
print(f"{len(SEEDS)} seeds in {OUT}")
