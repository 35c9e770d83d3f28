#!/usr/bin/python3
"""Radius vs PyTorch vs Keras/TensorFlow on this CPU, in one command: the seed
paper's model (models/paper.spec: 150x150x3, 4 conv + 4 max-pool, dropout 0.5,
dense 512, dense 1, BCE from the logit, Adam), batch 32, one training step and
batch inference (eval mode), at the same thread counts. A dev tool: none of
the Python frameworks is a dependency of Radius.

    /usr/bin/python3 scripts/compare_frameworks.py --install-keras   # once: makes build-keras-venv/ (~1.6 GB)
    /usr/bin/python3 scripts/compare_frameworks.py                   # ~1.5-2 min per repetition, 3 by default
    /usr/bin/python3 scripts/compare_frameworks.py --reps 1 --steps 3 --frameworks radius,keras   # < 1 min

Contenders, one table column each:
  Radius         build-dev/bench_train_step (built when missing, as compare_pytorch.py does);
  PyTorch 1.13   Debian's python3-torch, running bench/pytorch_step.py;
  PyTorch 2.x    the torch in build-torch2-venv/ (compare_pytorch.py --install-torch2 makes it);
  Keras 2 on TF  tf_keras + tensorflow-cpu in build-keras-venv/ (--install-keras makes it), running
                 bench/keras_step.py (`train_on_batch`, `predict_on_batch`).
A missing contender keeps its column, says why, and the others still run.

How it measures: for each repetition, for each thread count, every contender runs in its own process, the
order rotating by one place from one repetition to the next (no contender always runs first or last).
Threads are fixed per process (OMP_NUM_THREADS and friends; torch.set_num_threads; TensorFlow's intra-op pool
= threads, inter-op pool = 1). Peak RSS is the whole process's, from the kernel (wait4), the same way for all.
Prints images/s per repetition, the medians, and Radius / each; writes the table, the machine and the
versions to bench/results/<date>-cpu-<cpu model>-frameworks.txt and .json.
"""
import argparse
import datetime
import json
import os
import re
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare_pytorch as cp  # noqa: E402 (the machine, the builds, the torches, wait4_run: shared)

ROOT = cp.ROOT
KERAS_VENV = os.path.join(ROOT, "build-keras-venv")
BATCH = 32  # bench_train_step registers batch 32 only
COLUMNS = {  # key -> column title, in table order
    "radius": "Radius (bench_train_step)",
    "torch1": "PyTorch 1.13 (Debian)",
    "torch2": "PyTorch 2.x (PyPI venv)",
    "keras": "Keras 2 on TF (tf_keras)",
}
FRAMEWORK_CHOICES = {"radius": ["radius"], "torch": ["torch1", "torch2"], "keras": ["keras"]}
log = cp.log


def thread_env(threads):
    """The environment every contender runs in: one thread count for every pool a library may start,
    and no GPU (a CPU comparison: PyPI's tensorflow and torch would otherwise take one)."""
    n = str(threads)
    return dict(os.environ, OMP_NUM_THREADS=n, MKL_NUM_THREADS=n, OPENBLAS_NUM_THREADS=n,
                TF_NUM_INTRAOP_THREADS=n, TF_NUM_INTEROP_THREADS="1", CUDA_VISIBLE_DEVICES="",
                TF_CPP_MIN_LOG_LEVEL="2")


# ---- Keras: the venv ------------------------------------------------------------------
def keras_versions(python):
    """{'tensorflow', 'tf_keras', 'wheel'} as that python sees them, or None when they do not import."""
    probe = ("import json, importlib.metadata as m, tensorflow as tf, tf_keras\n"
             "def has(d):\n"
             "    try:\n"
             "        return bool(m.version(d))\n"
             "    except m.PackageNotFoundError:\n"
             "        return False\n"
             "wheel = next((d for d in ('tensorflow-cpu', 'tensorflow') if has(d)), '?')\n"
             "print(json.dumps({'tensorflow': tf.__version__, 'tf_keras': tf_keras.__version__, 'wheel': wheel}))")
    r = subprocess.run([python, "-c", probe], capture_output=True, text=True, env=thread_env(1))
    return json.loads(r.stdout.strip().splitlines()[-1]) if r.returncode == 0 and r.stdout.strip() else None


def pip_install(python, packages):
    """`pip install packages` under nice 19 (other builds share the machine); (ok, the output's tail)."""
    cmd = ["nice", "-n", "19", python, "-m", "pip", "install", "--disable-pip-version-check", *packages]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=cp.PIP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return False, f"`pip install {' '.join(packages)}` did not finish in {cp.PIP_TIMEOUT_S} s"
    return r.returncode == 0, (r.stderr.strip() or r.stdout.strip())[-300:]


def install_keras(venv):
    """Makes venv with tensorflow-cpu (or tensorflow where no -cpu wheel fits this Python) and the tf_keras
    of the same minor version. Returns why it failed, or None."""
    python = os.path.join(venv, "bin", "python")
    log(f"creating {venv}: tensorflow-cpu + tf_keras from PyPI (~1.6 GB installed)")
    r = subprocess.run([sys.executable, "-m", "venv", venv], capture_output=True, text=True)
    if r.returncode != 0:
        return f"cannot create a venv: {r.stderr.strip()[-300:]}"
    ok, out = pip_install(python, ["tensorflow-cpu"])
    if not ok:
        log(f"tensorflow-cpu failed ({out[-120:]}); trying tensorflow")
        ok, out = pip_install(python, ["tensorflow"])
        if not ok:
            return "pip install tensorflow failed: " + out
    tf = subprocess.run([python, "-c", "import tensorflow as tf; print(tf.__version__)"], capture_output=True,
                        text=True, env=thread_env(1)).stdout.strip()
    if not re.match(r"\d+\.\d+", tf):
        return "tensorflow installed but does not import"
    minor = ".".join(tf.split(".")[:2])
    # --no-deps: tf_keras requires the distribution named `tensorflow`; next to tensorflow-cpu pip would
    # install that one too (the full wheel, the same import package written over the -cpu one).
    ok, out = pip_install(python, ["--no-deps", f"tf_keras~={minor}.0"])
    if not ok:
        return f"pip install tf_keras~={minor}.0 failed: " + out
    return None


def ensure_keras(venv, allow_install):
    python = os.path.join(venv, "bin", "python")
    if os.path.exists(python) and keras_versions(python):
        return python, None
    if not allow_install:
        return None, (f"no tensorflow + tf_keras in {os.path.relpath(venv, ROOT)}/ "
                      "(--install-keras makes it: ~1.6 GB from PyPI)")
    why = install_keras(venv)
    if why:
        return None, why
    return (python, None) if keras_versions(python) else (None, "tensorflow and tf_keras installed but do not import")


# ---- the contenders ------------------------------------------------------------------
def radius_parameters(build_dir, spec="models/paper.spec"):
    """The model's parameter count as Radius counts it (`radius summary`), or None without the CLI."""
    exe = os.path.join(build_dir, "radius")
    if not os.path.exists(exe):
        return None
    out = subprocess.run([exe, "summary", spec], capture_output=True, text=True, cwd=ROOT).stdout
    m = re.search(r"total parameters: (\d+)", out)
    return int(m[1]) if m else None


def git_head():
    return subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"], capture_output=True,
                          text=True).stdout.strip()


def ensure_radius(build_dir):
    """(bench_train_step, None, version) once built; (None, why, None) when the build fails."""
    try:
        exe = cp.ensure_radius(build_dir, ("bench_train_step", "radius"))
    except (subprocess.CalledProcessError, OSError) as e:
        return None, f"building {build_dir} failed: {e}", None
    return exe, None, f"git {git_head()}, {os.path.relpath(exe, ROOT)}"


def prepare(args):
    """{key: {'label', 'command' or None, 'version', 'unavailable'}} for the chosen frameworks."""
    chosen = [k for name in args.frameworks.split(",") for k in FRAMEWORK_CHOICES[name.strip()]]
    found = {}
    if "radius" in chosen:
        found["radius"] = ensure_radius(args.build_dir)
    if "torch1" in chosen:
        python, why = cp.ensure_torch1(not args.no_install)
        found["torch1"] = (python, why, python and f"torch {cp.torch_version(python)}")
    if "torch2" in chosen:
        python, why = cp.ensure_torch2(args.install_torch2)
        found["torch2"] = (python, why, python and f"torch {cp.torch_version(python)}")
    if "keras" in chosen:
        python, why = ensure_keras(args.keras_venv, args.install_keras)
        v = python and keras_versions(python)
        found["keras"] = (python, why, v and f"tf_keras {v['tf_keras']}, {v['wheel']} {v['tensorflow']}")
    contenders = {}
    for key in COLUMNS:
        if key in found:
            command, why, version = found[key]
            contenders[key] = {"label": COLUMNS[key], "command": command, "unavailable": why, "version": version}
            log(f"{COLUMNS[key]}: {version or 'unavailable: ' + why}")
    return contenders


# ---- one run: one contender, one thread count, one process -----------------------------------
def run_radius(exe, threads, steps):
    """bench_train_step's Step and Inference benchmarks in one process (their times are the benchmark's
    own minimum times, 3 s and 2 s: `steps` does not shorten them)."""
    cmd = [exe, f"--benchmark_filter=^(Step|Inference)/threads:{threads}/", "--benchmark_format=json"]
    rc, out, err, rss = cp.wait4_run(cmd, env=thread_env(threads))
    if rc != 0:
        return {"error": f"bench_train_step failed ({rc}): {err.strip()[-300:]}"}
    benches = {b["name"].split("/")[0]: b for b in json.loads(out)["benchmarks"]} if out.strip() else {}
    if "Step" not in benches or "Inference" not in benches:
        return {"error": f"bench_train_step has no {threads}-thread case (it registers 1 and 2 threads)"}
    step, infer = benches["Step"], benches["Inference"]
    return {"images_per_s": step["images/s"], "step_ms": step["real_time"], "cpu_s_per_step": step["cpu_s/step"],
            "inference_images_per_s": infer["images/s"], "peak_rss_mb": rss, "gflop_per_s": step["GFLOP/s"],
            "sgemm_gflop_per_s": step["sgemm_GFLOP/s"], "pct_sgemm": step["%sgemm"]}


def run_twin(script, python, threads, steps):
    """bench/pytorch_step.py or bench/keras_step.py under python: their last stdout line is one JSON object."""
    cmd = [python, os.path.join("bench", script), "--threads", str(threads), "--batch", str(BATCH),
           "--steps", str(steps)]
    rc, out, err, rss = cp.wait4_run(cmd, env=thread_env(threads))
    if rc != 0 or not out.strip():
        return {"error": f"{script} failed ({rc}): {err.strip()[-300:]}"}
    r = json.loads(out.strip().splitlines()[-1])
    r["peak_rss_mb"] = rss
    return r


RUNNERS = {
    "radius": run_radius,
    "torch1": lambda python, threads, steps: run_twin("pytorch_step.py", python, threads, steps),
    "torch2": lambda python, threads, steps: run_twin("pytorch_step.py", python, threads, steps),
    "keras": lambda python, threads, steps: run_twin("keras_step.py", python, threads, steps),
}


def schedule(keys, thread_counts, reps):
    """(rep, threads, key) in run order. Each (rep, threads) round runs every key once; from one repetition
    to the next a thread count's order rotates by one place, so over len(keys) repetitions every contender
    runs once in every position (first, on a cooler machine; last, after the others warmed it)."""
    for rep in range(1, reps + 1):
        for i, threads in enumerate(thread_counts):
            shift = (rep - 1 + i) % len(keys)
            for key in keys[shift:] + keys[:shift]:
                yield rep, threads, key


def measure(contenders, thread_counts, reps, steps):
    """Every run as a dict: rep, threads, framework, position in its round, and the contender's result."""
    keys = [k for k, c in contenders.items() if c["command"]]
    runs, position = [], {}
    for rep, threads, key in schedule(keys, thread_counts, reps) if keys else ():
        position[(rep, threads)] = position.get((rep, threads), 0) + 1
        log(f"rep {rep}, {threads} thread(s): {contenders[key]['label']}")
        result = RUNNERS[key](contenders[key]["command"], threads, steps)
        if "error" in result:
            log(f"  failed: {result['error'][-200:]}")
        # Ours last: the twins' JSON has a "framework" of its own ("pytorch" for both torches).
        runs.append({**result, "rep": rep, "threads": threads, "framework": key,
                     "position": position[(rep, threads)], "load": cp.loadavg()})
    return runs


# ---- the report -----------------------------------------------------------------------
def values(runs, key, threads, metric):
    return [r[metric] for r in runs if r["framework"] == key and r["threads"] == threads and metric in r]


def median_or_none(xs):
    return statistics.median(xs) if xs else None


def cell(contender, value, fmt):
    if not contender["command"]:
        return "n/a"
    return "failed" if value is None else fmt.format(value)


def metric_table(title, metric, fmt, contenders, runs, thread_counts, reps, per_rep):
    """One block: per repetition (when per_rep), the median and Radius / each, for every thread count."""
    width = max(len(c["label"]) for c in contenders.values()) + 2
    head = f"{'threads':>7}  {'':<10}" + "".join(f"{c['label']:>{width}}" for c in contenders.values())
    lines = [title, head, "-" * len(head)]
    for threads in thread_counts:
        if per_rep:
            for rep in range(1, reps + 1):
                row = [next((r[metric] for r in runs if r["framework"] == k and r["threads"] == threads
                             and r["rep"] == rep and metric in r), None) for k in contenders]
                lines.append(f"{threads:>7}  {'rep ' + str(rep):<10}" + "".join(
                    f"{cell(c, v, fmt):>{width}}" for c, v in zip(contenders.values(), row)))
        medians = {k: median_or_none(values(runs, k, threads, metric)) for k in contenders}
        lines.append(f"{threads:>7}  {'median':<10}" + "".join(
            f"{cell(c, medians[k], fmt):>{width}}" for k, c in contenders.items()))
        radius = medians.get("radius")
        if radius:
            lines.append(f"{threads:>7}  {'Radius / x':<10}" + "".join(
                f"{cell(c, radius / medians[k] if medians[k] else None, '{:.2f}x'):>{width}}"
                for k, c in contenders.items()))
    return lines


def header_lines(info, contenders, runs, params, seconds, args):
    loads = [info["load_before"], info["load_after"]] + [r["load"] for r in runs]
    lines = [
        "# Radius vs PyTorch vs Keras/TensorFlow, CPU: paper model 150x150x3, batch 32, Adam, dropout on",
        f"date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC   run time: {seconds:.0f} s   "
        f"repetitions: {args.reps}   timed steps (PyTorch, Keras): {args.steps}",
        f"cpu: {info['cpu_model']}, {info['cpu_family_model']} ({info['cpus']} cpus, hypervisor "
        f"{info['hypervisor']}, avx2={info['avx2']} avx512f={info['avx512f']}, L2 {info['l2']}, L3 {info['l3']})",
        f"radius: gcc {info['gcc']}, Eigen {info['eigen']}, {info['radius_flags']}",
        f"load average (1 min): {info['load_before']:.2f} before, max {max(loads):.2f} during, "
        f"{info['load_after']:.2f} after" + ("   WARNING: machine busy, timings unreliable"
                                               if max(loads) > 1.5 else ""),
    ]
    for c in contenders.values():
        lines.append(f"{c['label']}: " + (c["version"] if c["command"] else f"UNAVAILABLE: {c['unavailable']}"))
    lines.append(parameter_line(params, runs))
    return lines


def parameter_line(params, runs):
    """Radius's parameter count next to Keras' own (model.count_params()): the check that both build one model."""
    line = (f"parameters: Radius {params:,} (radius summary)" if params
            else "parameters: Radius ? (the radius CLI is not built)")
    keras = sorted({r["parameters"] for r in runs if r["framework"] == "keras" and "parameters" in r})
    if keras:
        line += f", Keras {', '.join(f'{p:,}' for p in keras)} (count_params)"
        if params:
            line += " - the same model" if keras == [params] else "   WARNING: the models differ"
    return line


def failure_lines(contenders, runs):
    return [f"{contenders[r['framework']]['label']}, rep {r['rep']}, {r['threads']} thread(s) failed: "
            f"{r['error'][-200:]}" for r in runs if "error" in r]


TABLES = [  # (title, metric, format, a row per repetition)
    ("## Training step, images/s (higher is better)", "images_per_s", "{:.1f}", True),
    ("## Inference (eval mode, batch 32), images/s, median", "inference_images_per_s", "{:.1f}", False),
    ("## Peak RSS of the training process, MB (lower is better), median", "peak_rss_mb", "{:.0f}", False),
    ("## CPU seconds per training step, all threads (lower is better), median", "cpu_s_per_step", "{:.2f}", False),
]


def report(info, contenders, runs, params, seconds, args):
    thread_counts = [int(t) for t in args.threads.split(",")]
    blocks = [
        header_lines(info, contenders, runs, params, seconds, args),
        *(metric_table(title, metric, fmt, contenders, runs, thread_counts, args.reps, per_rep)
          for title, metric, fmt, per_rep in TABLES),
        failure_lines(contenders, runs),
        ["'Radius / x' = Radius's median over that contender's median, same threads, same run. Each cell is "
         "one process; a thread count's order of contenders rotates by one place per repetition. "
         "Peak RSS: the whole process (kernel maxrss via wait4). Radius's step and inference times are "
         "bench_train_step's own (at least 3 s and 2 s of steps); PyTorch's and Keras' the median of --steps "
         "steps after 2 warm-up steps."],
    ]
    return "\n\n".join("\n".join(b) for b in blocks if b)


def write_results(text, info, contenders, runs, params, seconds, out_dir):
    cp.write_result_files(out_dir, info["cpu_model"], "-frameworks", text,
                          {"machine": info, "contenders": contenders, "radius_parameters": params, "runs": runs,
                           "run_seconds": seconds})


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--frameworks", default="radius,torch,keras",
                    help="a subset of radius,torch,keras (torch = PyTorch 1.13 and 2.x)")
    ap.add_argument("--threads", default="1,2", help="thread counts (bench_train_step registers 1 and 2)")
    ap.add_argument("--reps", type=int, default=3, help="repetitions of every (threads, contender) run")
    ap.add_argument("--steps", type=int, default=6, help="timed training steps of PyTorch and Keras per run")
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build-dev"))
    ap.add_argument("--keras-venv", default=KERAS_VENV, help="a venv with tensorflow and tf_keras")
    ap.add_argument("--install-keras", action="store_true", help="pip install tensorflow-cpu + tf_keras there first")
    ap.add_argument("--install-torch2", action="store_true", help="pip install torch into build-torch2-venv/ first")
    ap.add_argument("--no-install", action="store_true", help="never apt-get install python3-torch")
    ap.add_argument("--out-dir", default=os.path.join(ROOT, "bench", "results"))
    args = ap.parse_args()
    unknown = set(n.strip() for n in args.frameworks.split(",")) - set(FRAMEWORK_CHOICES)
    if unknown:
        ap.error(f"unknown framework(s) {', '.join(sorted(unknown))}: choose from {', '.join(FRAMEWORK_CHOICES)}")
    if args.reps < 1 or args.steps < 1:
        ap.error("--reps and --steps must be at least 1")
    return args


def main():
    args = parse_args()
    started = time.time()
    contenders = prepare(args)
    params = radius_parameters(args.build_dir)
    info = cp.machine_info(args.build_dir)
    info["load_before"] = cp.loadavg()
    runs = measure(contenders, [int(t) for t in args.threads.split(",")], args.reps, args.steps)
    info["load_after"] = cp.loadavg()
    seconds = time.time() - started
    text = report(info, contenders, runs, params, seconds, args)
    print(text)
    write_results(text, info, contenders, runs, params, seconds, args.out_dir)


if __name__ == "__main__":
    main()
