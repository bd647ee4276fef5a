#!/usr/bin/env python3
"""A straightforward numpy scan of a safetensors model: the baseline that
bench/forensics/fp_bench is compared with (not part of kaieval).

    /usr/bin/python3 bench/forensics/numpy_scan.py MODEL_DIR [REPEATS]

Per tensor, what `kaieval fingerprint` computes, the obvious way: read the
bytes, SHA-256 them (hashlib), widen BF16/F16/F32 to float64 and take the
sum, sum of squares, min and max.  Prints GB/s (GB = 10^9 bytes), best of
REPEATS (default 3), wall clock and per CPU-second."""
import hashlib
import json
import os
import struct
import sys
import time

import numpy as np


def values(raw, dtype):
    if dtype == "BF16":
        return (np.frombuffer(raw, np.uint16).astype(np.uint32) << 16).view(np.float32)
    if dtype == "F16":
        return np.frombuffer(raw, np.float16)
    if dtype == "F32":
        return np.frombuffer(raw, np.float32)
    return None


def scan_file(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        start = 8 + n
        for name, entry in header.items():
            if name == "__metadata__":
                continue
            begin, end = entry["data_offsets"]
            f.seek(start + begin)
            raw = f.read(end - begin)
            hashlib.sha256(raw).hexdigest()
            x = values(raw, entry["dtype"])
            if x is not None and x.size:
                x64 = x.astype(np.float64)
                x64.sum(), np.dot(x64, x64), x.min(), x.max()
    return os.path.getsize(path)


def main():
    model = sys.argv[1]
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    files = sorted(os.path.join(model, f) for f in os.listdir(model) if f.endswith(".safetensors"))
    best_wall = best_cpu = float("inf")
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        total = sum(scan_file(p) for p in files)
        best_wall = min(best_wall, time.perf_counter() - w0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    print(f"numpy scan: {total / best_wall / 1e9:.3f} GB/s wall, {total / best_cpu / 1e9:.3f} GB per "
          f"CPU-second ({best_wall:.2f} s, {best_cpu:.2f} CPU-s) over {total / 1e9:.2f} GB")


if __name__ == "__main__":
    main()
