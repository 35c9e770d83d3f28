#!/usr/bin/env python3
"""Radius weights in PyTorch and Keras, and back: does the twin model compute what
`radius predict` computes? A dev tool: Radius never depends on Python.

    /usr/bin/python3 scripts/check_twins.py torch IMAGES [--spec models/tiny.spec]   # Debian's python3-torch
    build-dev-venv/bin/python scripts/check_twins.py keras IMAGES                  # pip install tensorflow-cpu pillow

For the framework named, it builds the twin of SPEC (one module or layer per Radius
layer, in order; "same" convolutions pad as TensorFlow does), then checks both ways
on up to 32 images of IMAGES (PNG first), preparing each image as radius predict
does (decode, resize with nearest, rescale 1/255):
  1. framework -> Radius: the twin's own random weights, saved as safetensors in the
     framework's layout, `radius import`ed; radius predict's scores vs the twin's;
  2. Radius -> framework: `radius export --torch/--keras` of those Radius weights (or
     of --weights), loaded into a fresh twin; its scores vs radius predict's.
It prints the largest difference of each; exit status 0 when both are <= 1e-5.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import check_common
from check_common import ROOT, images_under, prepare


def fail(msg):
    check_common.fail("check_twins", msg)


try:
    import numpy as np
    from PIL import Image  # noqa: F401 (check_common.prepare needs it)
except ImportError as e:
    fail(f"{e.name} is missing (numpy and pillow are needed)")


# ---- safetensors, F32 only (the format: 8-byte header length, JSON header, raw data) ----
def read_safetensors(path):
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
        data = f.read()
    header.pop("__metadata__", None)
    return {k: np.frombuffer(data[v["data_offsets"][0]:v["data_offsets"][1]], dtype="<f4").reshape(v["shape"]).copy()
            for k, v in header.items()}


def write_safetensors(path, tensors, metadata):
    header, offset, blobs = {"__metadata__": metadata}, 0, []
    for name, a in tensors.items():
        b = np.ascontiguousarray(a, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(len(h).to_bytes(8, "little") + h + b"".join(blobs))


# ---- the spec (models/README.md), as Radius reads it: one layer per line, activation= adds one ----
def parse_spec(path):
    layers, shape = [], None
    for raw in open(path):
        words = raw.split("#")[0].split()
        if not words:
            continue
        kw, args = words[0], dict(w.split("=", 1) for w in words[1:])
        if kw == "input":
            shape = (int(args["channels"]), int(args["height"]), int(args["width"]))
            continue
        act = args.pop("activation", "linear")
        layers.append((kw, args))
        if act != "linear":
            layers.append((act, {}))
    return shape, layers


def pair(text):
    a = text.split("x")
    return (int(a[0]), int(a[-1]))


def same_pads(size, kernel, stride):
    """TensorFlow's "same": out = ceil(size / stride), the odd padding at the end."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


# ---- images, as radius predict prepares them --------------------------------------
def radius_scores(radius, weights, images, tmp):
    return check_common.radius_scores("check_twins", radius, weights, images, tmp)


# ---- PyTorch ------------------------------------------------------------------------
class Torch:
    name = "torch"

    def __init__(self, shape, layers, seed):
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
        torch.manual_seed(seed)

        class SameConv2d(nn.Conv2d):  # TensorFlow's "same", any stride; the keys stay "i.weight"
            def forward(self, x):
                t, b = same_pads(x.shape[2], self.kernel_size[0], self.stride[0])
                l, r = same_pads(x.shape[3], self.kernel_size[1], self.stride[1])
                return super().forward(F.pad(x, (l, r, t, b)))

        mods, c, x = [], shape[0], torch.zeros((1,) + shape)
        for kw, a in layers:
            if kw == "conv2d":
                conv = SameConv2d if a.get("padding", "valid") == "same" else nn.Conv2d
                m = conv(x.shape[1], int(a["filters"]), pair(a["kernel"]), int(a.get("stride", 1)),
                         bias=a.get("bias", "true") == "true")
            elif kw in ("maxpool2d", "avgpool2d"):
                k = pair(a["pool"])
                m = (nn.MaxPool2d if kw == "maxpool2d" else nn.AvgPool2d)(k, int(a.get("stride", k[0])))
            elif kw == "dense":
                m = nn.Linear(x.shape[1], int(a["units"]), bias=a.get("bias", "true") == "true")
            elif kw == "batchnorm2d":
                m = nn.BatchNorm2d(x.shape[1], eps=float(a.get("epsilon", 1e-3)), momentum=1 - float(a.get("momentum", 0.99)))
            else:
                m = {"flatten": nn.Flatten, "relu": nn.ReLU, "sigmoid": nn.Sigmoid,
                     "dropout": lambda: nn.Dropout(float(a["rate"]))}[kw]()
            mods.append(m)
            x = m.eval()(x)
        self.torch, self.model = torch, nn.Sequential(*mods).eval()
        with torch.no_grad():  # running statistics that are not 0 and 1, so they are tested too
            for m in self.model:
                if isinstance(m, nn.BatchNorm2d):
                    m.running_mean.uniform_(-0.5, 0.5)
                    m.running_var.uniform_(0.5, 2.0)
                    m.weight.uniform_(0.5, 1.5)
                    m.bias.uniform_(-0.5, 0.5)

    def weights(self):  # float tensors only: num_batches_tracked (int64) is not Radius's
        return {k: v.numpy() for k, v in self.model.state_dict().items() if v.is_floating_point()}

    def load(self, tensors):
        missing, unexpected = self.model.load_state_dict({k: self.torch.from_numpy(v) for k, v in tensors.items()},
                                                         strict=False)
        if unexpected or any(not k.endswith("num_batches_tracked") for k in missing):
            fail(f"torch: missing {missing}, unexpected {unexpected}")

    def predict(self, batch):  # NCHW
        with self.torch.no_grad():
            return self.model(self.torch.from_numpy(batch)).numpy()[:, 0]


# ---- Keras --------------------------------------------------------------------------
class Keras:
    name = "keras"

    def __init__(self, shape, layers, seed):
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import keras
        keras.utils.set_random_seed(seed)
        L = keras.layers
        c, h, w = shape
        x = inputs = keras.Input((h, w, c))
        self.layers = []
        for kw, a in layers:
            if kw == "conv2d":
                m = L.Conv2D(int(a["filters"]), pair(a["kernel"]), int(a.get("stride", 1)), padding=a.get("padding", "valid"),
                             use_bias=a.get("bias", "true") == "true")
            elif kw in ("maxpool2d", "avgpool2d"):
                k = pair(a["pool"])
                m = (L.MaxPooling2D if kw == "maxpool2d" else L.AveragePooling2D)(k, int(a.get("stride", k[0])))
            elif kw == "dense":
                m = L.Dense(int(a["units"]), use_bias=a.get("bias", "true") == "true")
            elif kw == "batchnorm2d":
                m = L.BatchNormalization(momentum=float(a.get("momentum", 0.99)), epsilon=float(a.get("epsilon", 1e-3)),
                                         beta_initializer="random_uniform", gamma_initializer="random_uniform",
                                         moving_mean_initializer="random_uniform",
                                         moving_variance_initializer=keras.initializers.RandomUniform(0.5, 2.0))
            else:
                m = {"flatten": L.Flatten, "relu": L.ReLU, "sigmoid": lambda: L.Activation("sigmoid"),
                     "dropout": lambda: L.Dropout(float(a["rate"]))}[kw]()
            x = m(x)
            self.layers.append(m)
        self.model = keras.Model(inputs, x)

    NAMES = {"Conv2D": ["kernel", "bias"], "Dense": ["kernel", "bias"],
             "BatchNormalization": ["gamma", "beta", "moving_mean", "moving_variance"]}

    def weights(self):
        out = {}
        for i, m in enumerate(self.layers):
            for name, value in zip(self.NAMES.get(type(m).__name__, []), m.get_weights()):
                out[f"{i}.{name}"] = value
        return out

    def load(self, tensors):
        for i, m in enumerate(self.layers):
            names = self.NAMES.get(type(m).__name__, [])[:len(m.get_weights())]
            if names:
                m.set_weights([tensors.pop(f"{i}.{n}") for n in names])
        if tensors:
            fail(f"keras: tensors left over: {sorted(tensors)}")

    def predict(self, batch):  # NCHW -> NHWC
        return np.asarray(self.model(batch.transpose(0, 2, 3, 1), training=False))[:, 0]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("framework", choices=["torch", "keras"])
    ap.add_argument("images", help="a folder of images (searched recursively)")
    ap.add_argument("--spec", default=os.path.join(ROOT, "models", "tiny.spec"))
    ap.add_argument("--weights", help="Radius weights for the Radius -> framework check (default: the imported ones)")
    ap.add_argument("--radius", default=os.path.join(ROOT, "build", "radius"))
    ap.add_argument("--count", type=int, default=32)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--tolerance", type=float, default=1e-5)
    a = ap.parse_args()
    try:
        twin_class = Torch if a.framework == "torch" else Keras
        shape, layers = parse_spec(a.spec)
        twin = twin_class(shape, layers, a.seed)
    except ImportError as e:
        fail(f"{e.name} cannot be imported: {a.framework} is not installed for {sys.executable} "
             "(torch: apt-get install python3-torch; keras: pip install tensorflow-cpu in a virtualenv). No result.")
    images = images_under(a.images, a.count)
    if not images:
        fail(f"{a.images}: no images")
    batch = np.stack([prepare(p, shape) for p in images])
    spec = os.path.abspath(a.spec)
    worst = []
    with tempfile.TemporaryDirectory() as tmp:
        # 1. framework -> Radius
        theirs, ours = os.path.join(tmp, "theirs.safetensors"), os.path.join(tmp, "ours.safetensors")
        write_safetensors(theirs, twin.weights(), {"layout": a.framework})
        subprocess.run([a.radius, "import", theirs, "--model", spec, "--out", ours, "-q"], check=True)
        d = np.abs(twin.predict(batch) - radius_scores(a.radius, ours, images, tmp)).max()
        print(f"{a.framework} -> radius: {len(images)} images, max |{a.framework} - radius predict| = {d:.3g}")
        worst.append(d)
        # 2. Radius -> framework, into a fresh twin
        weights = a.weights or ours
        back = os.path.join(tmp, "exported.safetensors")
        subprocess.run([a.radius, "export", weights, "--model", spec, f"--{a.framework}", back, "-q"], check=True)
        fresh = twin_class(shape, layers, a.seed + 1)
        fresh.load(read_safetensors(back))
        d = np.abs(fresh.predict(batch) - radius_scores(a.radius, weights, images, tmp)).max()
        print(f"radius -> {a.framework}: {len(images)} images, max |{a.framework} - radius predict| = {d:.3g}")
        worst.append(d)
    ok = max(worst) <= a.tolerance
    print("agree" if ok else f"DISAGREE: more than {a.tolerance:g}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
