"""The Radius training-step benchmark's twin in PyTorch (a dev tool: PyTorch is
not a dependency of Radius). Builds the model of a Radius spec file (the seed
paper's model by default) as an nn.Sequential with Keras' initialisation
(Glorot-uniform weights, zero biases), dropout on, BCE from the logit and Adam,
then times full training steps (zero_grad, forward, loss, backward, step) and
batch inference, and prints one JSON object.

    python3 bench/pytorch_step.py --threads 2 --batch 32

Run by scripts/compare_pytorch.py; any python with torch installed works.
"""
import json
import re
import resource
import sys

import torch
from torch import nn

from step_common import parse_spec, size2, step_arguments, time_calls  # bench/, beside this file


def build_model(spec):
    """nn.Sequential of the spec; the sigmoid head is left off (training uses the logit)."""
    (kind, keys), body = spec[0], spec[1:]
    assert kind == "input", "a spec starts with its input line"
    c, h, w = int(keys["channels"]), int(keys["height"]), int(keys["width"])
    mods, shape = [], (c, h, w)
    for kind, keys in body:
        act = keys.get("activation", "linear")
        bias = keys.get("bias", "true") == "true"
        if kind == "conv2d":
            k, s = size2(keys["kernel"]), int(keys.get("stride", 1))
            pad = "same" if keys.get("padding", "valid") == "same" else 0
            mods.append(nn.Conv2d(shape[0], int(keys["filters"]), k, s, padding=pad, bias=bias))
        elif kind in ("maxpool2d", "avgpool2d"):
            p = size2(keys["pool"])
            s = int(keys.get("stride", p[0]))
            mods.append((nn.MaxPool2d if kind == "maxpool2d" else nn.AvgPool2d)(p, s))
        elif kind == "flatten":
            mods.append(nn.Flatten())
        elif kind == "dropout":
            mods.append(nn.Dropout(float(keys["rate"])))
        elif kind == "dense":
            mods.append(nn.Linear(shape[0], int(keys["units"]), bias=bias))
        elif kind in ("relu", "sigmoid"):
            act = kind
        else:
            raise ValueError(f"pytorch_step.py does not know the layer '{kind}'")
        if act == "relu":
            mods.append(nn.ReLU())
        elif act == "sigmoid":
            mods.append(nn.Sigmoid())
        with torch.no_grad():
            shape = nn.Sequential(*mods)(torch.zeros(1, c, h, w)).shape[1:]
    if isinstance(mods[-1], nn.Sigmoid):
        mods.pop()
    model = nn.Sequential(*mods)
    for m in model.modules():  # Keras defaults
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return model, (c, h, w)


def cpu_capability():
    """The SIMD level PyTorch dispatches to (2.x); 1.13 only says it in its config string."""
    cpu = getattr(torch.backends, "cpu", None)
    if cpu is not None and hasattr(cpu, "get_cpu_capability"):
        return cpu.get_cpu_capability()
    m = re.search(r"CPU capability usage: (\S+)", torch.__config__.show())
    return m[1] if m else "?"


def main():
    args = step_arguments(__doc__)

    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    model, (c, h, w) = build_model(parse_spec(args.spec))
    x = torch.rand(args.batch, c, h, w)
    y = (torch.rand(args.batch, 1) < 0.5).float()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = nn.BCEWithLogitsLoss()

    def step():
        opt.zero_grad(set_to_none=False)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    model.train()
    step_s, step_cpu_s = time_calls(step, args.warmup, args.steps)
    rss_train_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    model.eval()

    def infer():
        with torch.no_grad():
            model(x)

    infer_s, _ = time_calls(infer, 1, args.steps)
    print(json.dumps({
        "framework": "pytorch", "version": torch.__version__, "python": sys.version.split()[0],
        "threads": args.threads, "batch": args.batch,
        "step_ms": 1e3 * step_s, "images_per_s": args.batch / step_s, "cpu_s_per_step": step_cpu_s,
        "inference_images_per_s": args.batch / infer_s,
        "peak_rss_train_mb": rss_train_mb,
        "mkldnn": torch.backends.mkldnn.is_available(),
        "cpu_capability": cpu_capability(),
    }))


if __name__ == "__main__":
    main()
