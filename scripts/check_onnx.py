#!/usr/bin/env python3
"""Does an exported ONNX model compute what `radius predict` computes? A dev tool:
Radius never depends on Python. Needs onnxruntime, numpy and Pillow in a virtualenv:

    python3 -m venv build-dev-venv
    build-dev-venv/bin/pip install onnxruntime numpy pillow
    build-dev-venv/bin/python scripts/check_onnx.py runs/main data-synth/main/test

It runs `radius export MODEL --onnx` and `radius predict MODEL` on up to 32 images
of IMAGES (PNG files first: lossless, so Pillow decodes them to the very bytes
Radius does; a JPEG decoder may round differently), prepares each image as the
model's metadata says (decode, resize with nearest, rescale 1/255, channels first),
runs the ONNX model in onnxruntime on one batch, and prints the largest difference
from predict's scores. Exit status 0 when it is at most --tolerance (1e-5).
"""
import argparse
import os
import subprocess
import sys
import tempfile

import check_common
from check_common import ROOT, images_under, prepare


def fail(msg):
    check_common.fail("check_onnx", msg)


try:
    import numpy as np
    import onnxruntime as ort
    from PIL import Image  # noqa: F401 (check_common.prepare needs it)
except ImportError as e:
    fail(f"{e.name} is missing: run it with a virtualenv holding onnxruntime, numpy and pillow "
         "(python3 -m venv build-dev-venv && build-dev-venv/bin/pip install onnxruntime numpy pillow)")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", help="a run folder or weights file, as radius predict takes it")
    ap.add_argument("images", help="a folder of images (searched recursively)")
    ap.add_argument("--radius", default=os.path.join(ROOT, "build", "radius"), help="the radius program")
    ap.add_argument("--count", type=int, default=32)
    ap.add_argument("--tolerance", type=float, default=1e-5)
    a = ap.parse_args()
    if not os.access(a.radius, os.X_OK):
        fail(f"{a.radius}: no radius program (build it, or give --radius)")
    images = images_under(a.images, a.count)
    if not images:
        fail(f"{a.images}: no PNG or JPEG images")

    with tempfile.TemporaryDirectory() as tmp:
        onnx_path = os.path.join(tmp, "model.onnx")
        subprocess.run([a.radius, "export", a.model, "--onnx", onnx_path, "-q"], check=True)
        ours = check_common.radius_scores("check_onnx", a.radius, a.model, images, tmp)

        session = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
        meta = session.get_modelmeta().custom_metadata_map
        inp, out = session.get_inputs()[0], session.get_outputs()[0]
        _, channels, height, width = inp.shape
        print(f"model: {a.model}; ONNX input {inp.name} {inp.shape}, output {out.name} {out.shape}")
        print(f"metadata preprocessing: {meta.get('preprocessing', '(none)')}")
        batch = np.stack([prepare(p, (channels, height, width)) for p in images])
        onnx_scores = session.run([out.name], {inp.name: batch})[0][:, 0]

    diffs = [(abs(float(score) - float(mine)), path) for path, score, mine in zip(images, onnx_scores, ours)]
    worst = max(diffs)
    pngs = sum(p.lower().endswith(".png") for p in images)
    print(f"{len(images)} images ({pngs} PNG) in one batch: max |onnxruntime - radius predict| = {worst[0]:.3g} "
          f"({os.path.basename(worst[1])}), mean {np.mean([d for d, _ in diffs]):.3g}")
    ok = worst[0] <= a.tolerance
    print("agree" if ok else f"DISAGREE: more than {a.tolerance:g}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
