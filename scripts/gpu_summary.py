#!/usr/bin/env python3
"""Summary table of a GPU check run (scripts/gpu_check.sh), printed last.

Reads, from the OUT folder: bench_kernels.json and bench_train_step.json
(Google Benchmark), torch_step.json (scripts/torch_step.py), playground.txt
(the SGEMM playground's table), sanitizer.log (compute-sanitizer reports, one
"### tool" section each), and the step status file given with --steps.

A file that is missing is said to be missing; a file that is broken (a
benchmark that threw leaves its JSON cut off mid-way) is named as broken, the
complete entries before the break are still used, and every other figure is
printed as usual: one bad file never hides the rest.

Benchmarks are named "<op>/<impl>"; each op with "ours" and a baseline (cublas,
cudnn, copy) becomes one row: ours, the baseline, and ours as a percentage of
the baseline's speed (baseline time / ours: > 100 % means ours is faster).

  python3 scripts/gpu_summary.py OUT [--steps steps.tsv] [--write OUT/summary.txt]
"""
import argparse
import json
import os
import re
import sys

# scripts/gpu_check.sh appends the op playgrounds to playground.txt after this line.
OP_PLAYGROUNDS_MARKER = "### op playgrounds"

UNIT_MS = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}
BASELINES = ("cublas", "cudnn", "copy")
RULE = "-" * 100


def load_json(path):
    """(document or None, problem or None). A broken Google Benchmark file keeps its
    context and every complete entry of its "benchmarks" list."""
    name = os.path.basename(path)
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return None, f"{name}: missing"
    try:
        return json.loads(text), None
    except ValueError as e:
        error = f"{e.msg} at line {e.lineno}, column {e.colno}" if isinstance(e, json.JSONDecodeError) else str(e)
    decoder = json.JSONDecoder()
    doc = {}
    m = re.search(r'"context"\s*:\s*', text)
    if m:
        try:
            doc["context"], _ = decoder.raw_decode(text, m.end())
        except ValueError:
            pass
    m = re.search(r'"benchmarks"\s*:\s*\[', text)
    if m:
        doc["benchmarks"] = []
        pos = m.end()
        while True:
            while pos < len(text) and text[pos] in " \t\r\n,":
                pos += 1
            if pos >= len(text) or text[pos] == "]":
                break
            try:
                entry, pos = decoder.raw_decode(text, pos)
            except ValueError:
                break
            doc["benchmarks"].append(entry)
    kept = len(doc.get("benchmarks", []))
    problem = f"{name}: BROKEN ({error}); " + (
        f"the {kept} complete benchmark entries before the break are used" if kept else "nothing in it could be used")
    return (doc or None), problem


def bench_results(doc):
    """({(op, impl): (ms, counters)}, [errors]) from a Google Benchmark document
    (the median aggregate when there are repetitions)."""
    out, errors = {}, []
    if not doc:
        return out, errors
    rows = [r for r in doc.get("benchmarks", []) if isinstance(r, dict)]
    has_aggregates = any(r.get("run_type") == "aggregate" for r in rows)
    for r in rows:
        name = re.sub(r"/(manual_time|real_time)$", "", r.get("run_name", r.get("name", "")))
        if r.get("error_occurred"):
            errors.append(f"{name}: {r.get('error_message', 'error')}")
            continue
        if has_aggregates and r.get("aggregate_name") != "median":
            continue
        if "/" not in name or "real_time" not in r:
            continue
        op, impl = name.rsplit("/", 1)
        ms = r["real_time"] * UNIT_MS.get(r.get("time_unit", "ns"), 1e-6)
        out[(op, impl)] = (ms, {k: v for k, v in r.items() if isinstance(v, (int, float))})
    return out, errors


def sanitizer_sections(text):
    """[(tool, verdict)] from sanitizer.log: one '### tool' section per run."""
    out = []
    for m in re.finditer(r"^### (\S+)\n(.*?)(?=^### |\Z)", text, re.S | re.M):
        tool, body = m.group(1), m.group(2)
        race = re.search(r"RACECHECK SUMMARY: (\d+) hazards? displayed \((\d+) errors?, (\d+) warnings?\)", body)
        err = re.search(r"ERROR SUMMARY: (\d+) errors?", body)
        if race:
            verdict = f"{race.group(1)} hazards ({race.group(2)} errors, {race.group(3)} warnings)"
        elif err:
            verdict = f"{err.group(1)} errors"
        else:
            verdict = "no summary line (did the run finish?)"
        out.append((tool, verdict))
    return out


def fmt_time(ms):
    return f"{ms * 1e3:.1f} us" if ms < 1 else f"{ms:.3f} ms"


def speed(ms, counters):
    """GFLOP/s for compute ops, GB/s for bandwidth ops, else the time."""
    if counters.get("TFLOP/s"):
        return f"{counters['TFLOP/s'] * 1e3:.0f} GFLOP/s"
    if counters.get("GB/s"):
        return f"{counters['GB/s']:.0f} GB/s"
    return fmt_time(ms)


def summarize(out_dir, steps_path=None):
    lines, problems = [], []
    say = lines.append

    def load(name):
        doc, problem = load_json(os.path.join(out_dir, name))
        if problem:
            problems.append(problem)
        return doc

    kernels = load("bench_kernels.json")
    train = load("bench_train_step.json")
    torch = load("torch_step.json")

    say("=" * 100)
    say("GPU CHECK SUMMARY")
    ctx = (kernels or {}).get("context") or (train or {}).get("context") or {}
    if ctx:
        say(f"card: {ctx.get('gpu', '?')} ({ctx.get('gpu_sms', '?')} SMs), CUDA runtime {ctx.get('cuda_runtime', '?')}, "
            f"cuBLAS {ctx.get('cublas', '?')}, cuDNN {ctx.get('cudnn', '?')}, date {ctx.get('date', '?')}")

    if steps_path and os.path.exists(steps_path):
        say(RULE)
        say(f"{'step':<28} {'status':<8} {'seconds':>7}  note")
        with open(steps_path) as f:
            for line in f:
                parts = line.rstrip("\n").split("\t")
                if len(parts) >= 3:
                    say(f"{parts[0]:<28} {parts[1]:<8} {parts[2]:>7}  {parts[3] if len(parts) > 3 else ''}")

    san = os.path.join(out_dir, "sanitizer.log")
    if os.path.exists(san):
        say(RULE)
        with open(san, errors="replace") as f:
            sections = sanitizer_sections(f.read())
        say("compute-sanitizer: " + ("; ".join(f"{t} {v}" for t, v in sections) if sections else "no report"))

    results, errors = bench_results(kernels)
    more, more_errors = bench_results(train)
    results.update(more)
    errors += more_errors
    say(RULE)
    say(f"{'op':<44} {'ours':>22} {'baseline':>30} {'of base':>8}")
    ops = sorted({op for op, _ in results}, key=lambda o: (o.startswith("bw "), o.startswith("conv"), o))
    targets = []  # (what, value, goal)
    conv_sums = {}
    for op in ops:
        if (op, "ours") not in results:
            continue
        ours_ms, ours_c = results[(op, "ours")]
        ours_s = f"{speed(ours_ms, ours_c)} {fmt_time(ours_ms):>10}"
        bases = [i for i in BASELINES if (op, i) in results]
        if not bases:
            extra = f"{ours_c['images/s']:.0f} images/s" if "images/s" in ours_c else "no baseline (absent)"
            say(f"{op:<44} {ours_s:>22} {extra:>30}")
            continue
        for impl in bases:
            base_ms, base_c = results[(op, impl)]
            ratio = base_ms / ours_ms if ours_ms > 0 else float("nan")
            say(f"{op:<44} {ours_s:>22} {impl + ' ' + speed(base_ms, base_c):>30} {ratio * 100:>7.0f}%")
            if impl == "copy":
                targets.append((f"{op} vs copy", ratio, 0.70))
            elif op.startswith("sgemm 4096"):
                targets.append(("sgemm 4096^3 vs cuBLAS", ratio, 0.80))
            m = re.match(r"(conv\d) (fwd|bwd-data|bwd-filter)", op)
            if m and impl == "cudnn":
                s = conv_sums.setdefault(m.group(1), [0.0, 0.0])
                s[0] += ours_ms
                s[1] += base_ms
    if not results:
        say("  no benchmark results")
    for conv, (ours_ms, base_ms) in sorted(conv_sums.items()):
        targets.append((f"{conv} fwd+bwd vs cuDNN FP32", base_ms / ours_ms, 0.70))
    for e in errors:
        say(f"  benchmark error: {e}")

    say(RULE)
    step = results.get(("train step paper b32", "ours"))
    if step:
        c = step[1]
        say(f"train step (paper model, batch 32): Radius {step[0]:.3f} ms/step"
            + (f", {c['images/s']:.0f} images/s" if "images/s" in c else ""))
    else:
        say("train step: no Radius measurement")
    if torch and isinstance(torch.get("fp32"), dict):
        say(f"PyTorch {torch.get('torch', '?')} eager, cuDNN {torch.get('cudnn', '?')}, batch {torch.get('batch', '?')}:")
        for mode, label in (("fp32", "TF32 off"), ("tf32", "TF32 on ")):
            t = torch.get(mode)
            if not isinstance(t, dict) or "median_ms" not in t:
                say(f"  {label}: not measured")
                continue
            line = f"  {label}: {t['median_ms']:.3f} ms/step"
            if step and step[0] > 0:
                ratio = t["median_ms"] / step[0]
                line += f"   Radius runs at {ratio * 100:.0f}% of its speed"
                if mode == "fp32":
                    targets.append(("train step vs PyTorch eager FP32", ratio, 1.0))
            say(line)
    elif torch:
        say(f"PyTorch reference: {torch.get('error', 'no fp32 figures')}")

    pg = os.path.join(out_dir, "playground.txt")
    if os.path.exists(pg):
        say(RULE)
        say("SGEMM playground (4096^3):")
        with open(pg, errors="replace") as f:
            text = f.read()
        # The op playgrounds' output (optional step) follows the SGEMM table after a marker.
        sgemm, _, ops = text.partition(OP_PLAYGROUNDS_MARKER)
        for line in sgemm.splitlines():
            if re.match(r"^(v\d|cuBLAS|check|version)", line):
                say("  " + line.rstrip())
        if ops:
            checks = re.findall(r"^check .* (ok|FAIL)$", ops, re.M)
            say(f"op playgrounds: {len(checks)} checks, {checks.count('FAIL')} FAIL; timings (% of the peak estimate):")
            for line in ops.splitlines():
                if line.startswith("###") or re.search(r"(GFLOP/s|GB/s) +[\d.]+%$", line):
                    say("  " + line.rstrip())

    say(RULE)
    say("targets")
    if not targets:
        say("  none measured (no GPU results)")
    for what, value, goal in targets:
        say(f"  {'met   ' if value >= goal else 'MISSED'} {what:<48} {value * 100:6.0f}%  (goal {goal * 100:.0f}%)")
    if problems:
        say(RULE)
        say("files: " + "; ".join(problems))
    say("=" * 100)
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--steps")
    ap.add_argument("--write")
    args = ap.parse_args()
    text = summarize(args.out, args.steps)
    print(text)
    if args.write:
        with open(args.write, "w") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
