#!/usr/bin/env python3
"""Summary table of a GPU check run (scripts/gpu_check.sh), printed last.

Reads, from the OUT folder: bench_kernels.json and bench_train_step.json
(Google Benchmark), torch_step.json (scripts/torch_step.py), playground.txt
(the SGEMM playground's table), and the step status file given with --steps.
Benchmarks are named "<op>/<impl>"; each op with "ours" and a baseline
(cublas, cudnn, copy) becomes one row: ours, baseline, and the ratio
baseline_time / ours_time (> 100 % means ours is faster). Then the issue's
targets, each marked met or missed.

  python3 scripts/gpu_summary.py OUT [--steps steps.tsv] [--write OUT/summary.txt]
"""
import argparse
import json
import os
import re
import sys

UNIT_MS = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def bench_medians(doc):
    """{(op, impl): (ms, counters)} from a Google Benchmark JSON (median aggregates if present)."""
    out = {}
    if not doc:
        return out
    rows = doc.get("benchmarks", [])
    has_aggregates = any(r.get("run_type") == "aggregate" for r in rows)
    for r in rows:
        if has_aggregates and r.get("aggregate_name") != "median":
            continue
        if r.get("error_occurred"):
            continue
        name = r.get("run_name", r.get("name", ""))
        name = re.sub(r"/(manual_time|real_time)$", "", name)
        if "/" not in name:
            continue
        op, impl = name.rsplit("/", 1)
        ms = r["real_time"] * UNIT_MS.get(r.get("time_unit", "ns"), 1e-6)
        out[(op, impl)] = (ms, {k: v for k, v in r.items() if isinstance(v, (int, float))})
    return out


def fmt_time(ms):
    return f"{ms * 1e3:.1f} us" if ms < 1 else f"{ms:.3f} ms"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--steps")
    ap.add_argument("--write")
    args = ap.parse_args()
    lines = []
    say = lines.append

    say("=" * 96)
    say("GPU CHECK SUMMARY")
    kernels = load_json(os.path.join(args.out, "bench_kernels.json"))
    if kernels:
        ctx = kernels.get("context", {})
        say(f"card: {ctx.get('gpu', '?')} ({ctx.get('gpu_sms', '?')} SMs), CUDA runtime {ctx.get('cuda_runtime', '?')}, "
            f"cuDNN {ctx.get('cudnn', 'n/a')}, date {ctx.get('date', '?')}")
    if args.steps and os.path.exists(args.steps):
        say("-" * 96)
        say(f"{'step':<34} {'status':<10} {'seconds':>8}  note")
        for line in open(args.steps):
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 3:
                say(f"{parts[0]:<34} {parts[1]:<10} {parts[2]:>8}  {parts[3] if len(parts) > 3 else ''}")

    results = bench_medians(kernels)
    results.update(bench_medians(load_json(os.path.join(args.out, "bench_train_step.json"))))
    targets = []  # (what, value, goal, met)
    say("-" * 96)
    say(f"{'op':<46} {'ours':>12} {'baseline':>20} {'ratio':>8}   (ratio = baseline time / ours: >100% = ours faster)")
    ops = sorted({op for op, _ in results}, key=lambda o: (o.startswith("bw "), o.startswith("conv"), o))
    conv_pairs = {}
    for op in ops:
        if (op, "ours") not in results:
            continue
        ours_ms, ours_c = results[(op, "ours")]
        for impl in ("cublas", "cudnn", "copy"):
            if (op, impl) not in results:
                continue
            base_ms, _ = results[(op, impl)]
            ratio = base_ms / ours_ms if ours_ms > 0 else float("nan")
            if impl == "copy":
                gbs = ours_c.get("GB/s", 0)  # the counter is already in GB/s
                ours_s = f"{gbs:.0f} GB/s" if gbs else fmt_time(ours_ms)
                base_s = f"copy {fmt_time(base_ms)}"
                targets.append((f"{op} vs copy", ratio, 0.70, ratio >= 0.70))
            else:
                ours_s, base_s = fmt_time(ours_ms), f"{impl} {fmt_time(base_ms)}"
                if op.startswith("sgemm 4096"):
                    targets.append(("sgemm 4096^3 vs cuBLAS", ratio, 0.80, ratio >= 0.80))
                m = re.match(r"(conv\d) (fwd|bwd-data|bwd-filter)", op)
                if m and impl == "cudnn":
                    conv_pairs.setdefault(m.group(1), [0.0, 0.0])
                    conv_pairs[m.group(1)][0] += ours_ms
                    conv_pairs[m.group(1)][1] += base_ms
            say(f"{op:<46} {ours_s:>12} {base_s:>20} {ratio * 100:>7.0f}%")
        if not any((op, i) in results for i in ("cublas", "cudnn", "copy")):
            extra = ""
            if "images/s" in ours_c:
                extra = f"{ours_c['images/s']:.0f} images/s"
            say(f"{op:<46} {fmt_time(ours_ms):>12} {extra:>20}")
    for conv, (ours_ms, base_ms) in sorted(conv_pairs.items()):
        targets.append((f"{conv} fwd+bwd vs cuDNN FP32", base_ms / ours_ms, 0.70, base_ms / ours_ms >= 0.70))

    torch = load_json(os.path.join(args.out, "torch_step.json"))
    step = results.get(("train step paper b32", "ours"))
    if torch and "fp32" in torch:
        say("-" * 96)
        say(f"PyTorch {torch.get('torch')} eager, cuDNN {torch.get('cudnn')}, batch {torch.get('batch')}:")
        for mode in ("fp32", "tf32"):
            t = torch[mode]
            line = f"  {mode}: {t['median_ms']:.3f} ms/step, {t['images_per_s']:.0f} images/s"
            if step:
                ratio = t["median_ms"] / step[0]
                line += f"   (Radius {step[0]:.3f} ms/step: {ratio:.2f}x torch's speed)"
                if mode == "fp32":
                    targets.append(("train step vs PyTorch eager FP32", ratio, 1.0, ratio > 1.0))
            say(line)
    elif torch:
        say(f"PyTorch reference: {torch.get('error', 'missing')}")

    pg = os.path.join(args.out, "playground.txt")
    if os.path.exists(pg):
        say("-" * 96)
        say("SGEMM playground (4096^3):")
        for line in open(pg):
            if re.match(r"^(v\d|cuBLAS|check|version)", line):
                say("  " + line.rstrip())

    say("-" * 96)
    say("targets (issue 3)")
    if not targets:
        say("  none measured (no GPU results)")
    for what, value, goal, met in targets:
        say(f"  {'met   ' if met else 'MISSED'} {what:<48} {value * 100:6.0f}%  (goal {goal * 100:.0f}%)")
    say("=" * 96)
    text = "\n".join(lines)
    print(text)
    if args.write:
        with open(args.write, "w") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
