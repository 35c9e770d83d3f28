#!/usr/bin/env python3
"""PyTorch eager reference for the GPU check: the paper model's training step.

The model of a Radius spec file (models/paper.spec by default), built by
bench/pytorch_step.py's spec reader, the CPU comparison's twin, so both
PyTorch baselines time the model Radius times: glorot init, the sigmoid head
left off, BCE from logits, Adam (Keras epsilon 1e-7), batch 32, on the GPU. Each step ends with
loss.item(), as Radius' Trainer ends with its one loss copy, so both include
launch overhead and one host sync per step. cudnn.benchmark is on (cuDNN picks
its fastest algorithms, like our cuDNN baseline's search).

Runs twice: TF32 off (the FP32 comparison) and TF32 on (reported separately).

  python3 scripts/torch_step.py --out torch_step.json [--spec models/paper.spec] [--steps 50] [--warmup 10]
"""
import argparse
import json
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def spec_model(spec):
    """(nn.Sequential, (C, H, W)) of a Radius spec, on the CPU; imports torch."""
    sys.path.insert(0, os.path.join(ROOT, "bench"))
    import pytorch_step  # noqa: E402 (imported late: torch may be missing, which main() reports)
    return pytorch_step.build_model(pytorch_step.parse_spec(spec))


def time_steps(torch, spec, tf32, batch, steps, warmup):
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    torch.backends.cudnn.benchmark = True
    torch.manual_seed(0)
    dev = torch.device("cuda")
    model, (c, h, w) = spec_model(spec)
    model = model.to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    x = torch.rand(batch, c, h, w, device=dev)  # random, never zeros
    y = (torch.rand(batch, 1, device=dev) > 0.5).float()
    times = []
    for i in range(warmup + steps):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=False)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        loss.item()  # the one host sync per step
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    ms = statistics.median(times) * 1e3
    return {"median_ms": ms, "images_per_s": batch / (ms / 1e3), "steps": steps,
            "min_ms": min(times) * 1e3, "max_ms": max(times) * 1e3}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--spec", default=os.path.join(ROOT, "models", "paper.spec"))
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=10)
    args = ap.parse_args()
    try:
        import torch
    except ImportError as e:
        print(f"torch_step: PyTorch is not importable ({e}); no reference measured")
        json.dump({"error": f"no torch: {e}"}, open(args.out, "w"))
        return 0
    if not torch.cuda.is_available():
        print("torch_step: PyTorch sees no CUDA device; no reference measured")
        json.dump({"error": "no CUDA device", "torch": torch.__version__}, open(args.out, "w"))
        return 0
    result = {"torch": torch.__version__, "cuda": torch.version.cuda, "cudnn": torch.backends.cudnn.version(),
              "device": torch.cuda.get_device_name(0), "batch": args.batch,
              "spec": os.path.relpath(args.spec, ROOT)}
    for name, tf32 in (("fp32", False), ("tf32", True)):
        result[name] = time_steps(torch, args.spec, tf32, args.batch, args.steps, args.warmup)
        r = result[name]
        print(f"torch eager {name}: {r['median_ms']:.3f} ms/step, {r['images_per_s']:.0f} images/s")
    json.dump(result, open(args.out, "w"), indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
