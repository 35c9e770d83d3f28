"""What the dev-only checks against other runtimes share (scripts/check_onnx.py against onnxruntime,
scripts/check_twins.py against PyTorch and Keras twins): the images to score, each prepared as Keras'
load_img does and `radius predict` mirrors, and `radius predict`'s scores for them. Needs numpy and
Pillow (in the caller's virtualenv); Radius itself never depends on Python."""
import csv
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def fail(program, msg):
    print(f"{program}: {msg}", file=sys.stderr)
    sys.exit(2)


def images_under(folder, count):
    """Up to count PNG and JPEG files below folder, PNG first: lossless, so Pillow decodes them to the
    very bytes Radius does (a JPEG decoder may round differently)."""
    found = []
    for base, _, files in os.walk(folder):
        found += [os.path.join(base, f) for f in files if f.lower().endswith((".png", ".jpg", ".jpeg"))]
    found.sort()
    return ([f for f in found if f.lower().endswith(".png")] + [f for f in found if not f.lower().endswith(".png")])[:count]


def prepare(path, shape):
    """One image as the model's metadata says, in Pillow: decode, resize with nearest, rescale 1/255,
    channels first. shape: (channels, height, width)."""
    import numpy as np
    from PIL import Image
    c, h, w = shape
    img = Image.open(path).convert("L" if c == 1 else "RGB")
    if img.size != (w, h):
        img = img.resize((w, h), Image.NEAREST)
    a = np.asarray(img, dtype=np.float32) * np.float32(1.0 / 255.0)
    return a[None] if c == 1 else a.transpose(2, 0, 1)


def radius_scores(program, radius, model, images, tmp):
    """`radius predict MODEL IMAGES...`'s scores, in the order of images."""
    import numpy as np
    out = os.path.join(tmp, "predict.csv")
    subprocess.run([radius, "predict", model, *images, "--out", out, "-q"], check=True, stdout=subprocess.DEVNULL)
    with open(out, newline="") as f:
        by_path = {os.path.abspath(r["path"]): float(r["score"]) for r in csv.DictReader(f)}
    missing = [p for p in images if os.path.abspath(p) not in by_path]
    if missing:
        fail(program, f"radius predict gave no score for {missing[0]}")
    return np.array([by_path[os.path.abspath(p)] for p in images])
