#!/usr/bin/env python3
"""Reads a safetensors file independently of Radius and prints what it holds.

A development cross-check (not run by the test suite): it parses the format with
the Python standard library alone -- 8-byte little-endian header length, JSON
header, raw little-endian F32 data -- and checks the same invariants Radius
does (offsets tile the data section, sizes match shapes). With numpy installed,
the tensors are also loaded as arrays and summarised.

    scripts/check_safetensors.py weights.safetensors
"""
import array
import json
import struct
import sys


def main(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + n].decode("utf-8"))
    data = blob[8 + n :]
    print(f"{path}: header {n} bytes (padded to 8: {n % 8 == 0}), data {len(data)} bytes")
    for key, value in header.pop("__metadata__", {}).items():
        print(f"  metadata {key} = {value!r}")

    pos = 0
    for name, t in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"]):
        assert t["dtype"] == "F32", f"{name}: dtype {t['dtype']}"
        begin, end = t["data_offsets"]
        numel = 1
        for d in t["shape"]:
            numel *= d
        assert begin == pos, f"{name}: begins at {begin}, expected {pos}"
        assert end - begin == 4 * numel, f"{name}: {end - begin} bytes for shape {t['shape']}"
        pos = end
        values = array.array("f")
        values.frombytes(data[begin:end])
        if sys.byteorder != "little":
            values.byteswap()
        stats = ""
        if numel:
            mean = sum(values) / numel
            stats = f"min {min(values):+.4f} max {max(values):+.4f} mean {mean:+.5f}"
        print(f"  {name:<12} {str(t['shape']):<18} {stats}")
    assert pos == len(data), f"tensors cover {pos} of {len(data)} data bytes"

    try:
        import numpy as np
    except ImportError:
        return
    for name, t in header.items():
        begin, end = t["data_offsets"]
        a = np.frombuffer(data[begin:end], dtype="<f4").reshape(t["shape"])
        print(f"  numpy {name}: {a.dtype} {a.shape} sum {a.sum(dtype=np.float64):+.6f}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
    print("ok")
