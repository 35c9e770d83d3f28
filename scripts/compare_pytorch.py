#!/usr/bin/python3
"""Radius vs PyTorch on this CPU: the seed paper's model (models/paper.spec),
150x150x3, batch 32, Adam, dropout on, one training step, at 1 and 2 threads,
run back to back. A dev tool: PyTorch is not a dependency of Radius.

    /usr/bin/python3 scripts/compare_pytorch.py            # ~3-6 minutes

What it does, fully automatically:
  1. builds build-dev/bench_train_step (CPU-only, as the README says) if missing;
  2. PyTorch 1.13 = Debian's python3-torch (apt-get installs it when missing);
     PyTorch 2.x = the torch in build-torch2-venv/; with --install-torch2 it is
     first `pip install`ed there (PyPI's wheel pulls ~3 GB of CUDA wheels: at
     most 10 minutes, not counted in the ~6); if missing, the table says why;
  3. per thread count: Radius's step and inference benchmarks, then
     bench/pytorch_step.py under each PyTorch, each in its own process, peak RSS
     taken from the kernel (wait4) the same way for every process;
  4. prints a table of ratios (the Eigen SGEMM rate is measured inside Radius's
     step benchmark, same run) and writes it with the machine, flags and versions
     to bench/results/<date>-cpu-<cpu model>.txt and .json.
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's, where python3-torch lives
TORCH2_VENV = os.path.join(ROOT, "build-torch2-venv")
PIP_TIMEOUT_S = 600


def log(msg):
    print(f"[compare] {msg}", file=sys.stderr, flush=True)


def write_result_files(out_dir, cpu_model, suffix, text, payload):
    """out_dir/<UTC date>-cpu-<cpu model><suffix>.txt (the table) and .json (payload)."""
    os.makedirs(out_dir, exist_ok=True)
    slug = re.sub(r"[^a-z0-9]+", "-", cpu_model.lower()).strip("-")
    base = os.path.join(out_dir, f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d}-cpu-{slug}{suffix}")
    with open(base + ".txt", "w") as f:
        f.write(text + "\n")
    with open(base + ".json", "w") as f:
        json.dump(payload, f, indent=1)
    log(f"wrote {base}.txt and .json")


def wait4_run(cmd, env=None, timeout=600):
    """Runs cmd in ROOT; returns (rc, stdout, stderr, the child's own peak RSS in MB from wait4)."""
    with tempfile.TemporaryFile("w+") as fo, tempfile.TemporaryFile("w+") as fe:
        p = subprocess.Popen(cmd, stdout=fo, stderr=fe, text=True, cwd=ROOT, env=env)
        deadline = time.time() + timeout
        while True:
            pid, status, usage = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.time() > deadline:
                p.kill()
                pid, status, usage = os.wait4(p.pid, 0)
                break
            time.sleep(0.05)
        p.returncode = os.waitstatus_to_exitcode(status)
        fo.seek(0), fe.seek(0)
        return p.returncode, fo.read(), fe.read(), usage.ru_maxrss / 1024.0


# ---- the machine -----------------------------------------------------------------
def machine_info(build_dir):
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    field = lambda name: (re.search(rf"^{name}:\s*(.+)$", lscpu, re.M) or [None, "?"])[1].strip()
    flags = field("Flags").split()
    march = subprocess.run("gcc -march=native -Q --help=target | grep -E '^\\s+-march='", shell=True,
                           capture_output=True, text=True).stdout.split()
    cache = open(os.path.join(build_dir, "CMakeCache.txt")).read() if os.path.exists(
        os.path.join(build_dir, "CMakeCache.txt")) else ""
    opt = lambda key: (re.search(rf"^{key}:\w+=(.*)$", cache, re.M) or [None, "?"])[1]
    eigen = open("/usr/include/eigen3/Eigen/src/Core/util/Macros.h").read()
    ev = ".".join(re.search(rf"#define EIGEN_{k}_VERSION (\d+)", eigen)[1] for k in ("WORLD", "MAJOR", "MINOR"))
    gcc = subprocess.run(["gcc", "-dumpfullversion"], capture_output=True, text=True).stdout.strip()
    return {
        "cpu_model": field("Model name"), "cpu_family_model": f"family {field('CPU family')} model {field('Model')}",
        "cpus": os.cpu_count(), "threads_per_core": field("Thread\\(s\\) per core"),
        "avx2": "avx2" in flags, "avx512f": "avx512f" in flags, "fma": "fma" in flags,
        "hypervisor": field("Hypervisor vendor"), "l2": field("L2 cache"), "l3": field("L3 cache"),
        "kernel": platform.release(), "gcc": gcc, "eigen": ev,
        "radius_flags": f"-O3 (CMAKE_BUILD_TYPE={opt('CMAKE_BUILD_TYPE')}) "
                        f"{'-march=native' if opt('RADIUS_NATIVE') != 'OFF' else ''} -fopenmp"
                        f" ({''.join(march) if march else 'march ?'})",
        "radius_git": subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                                     text=True).stdout.strip(),
    }


# ---- getting the contenders ready -----------------------------------------------------
def ensure_radius(build_dir, targets=("bench_train_step",)):
    """Configures build_dir (CPU only; through ccache when installed) if needed, builds targets."""
    exe = os.path.join(build_dir, "bench_train_step")
    if not os.path.exists(os.path.join(build_dir, "build.ninja")):
        ccache = ["-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"] if shutil.which("ccache") else []
        subprocess.run(["cmake", "-S", ROOT, "-B", build_dir, "-G", "Ninja", "-DRADIUS_CUDA=OFF"] + ccache,
                       check=True)
    log(f"building {', '.join(targets)} in {build_dir}")
    subprocess.run(["cmake", "--build", build_dir, "-j2", "--target", *targets], check=True)
    return exe


def torch_version(python):
    r = subprocess.run([python, "-c", "import torch; print(torch.__version__)"], capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else None


def ensure_torch1(allow_install):
    if torch_version(SYSTEM_PYTHON):
        return SYSTEM_PYTHON, None
    if not allow_install:
        return None, "python3-torch is not installed (--no-install)"
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return None, "python3-torch is not installed and apt-get needs root"
    log("installing Debian's python3-torch (dev only)")
    r = subprocess.run(["apt-get", "install", "-y", "python3-torch"], capture_output=True, text=True,
                       env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    if r.returncode != 0 or not torch_version(SYSTEM_PYTHON):
        return None, "apt-get install python3-torch failed: " + r.stderr.strip()[-300:]
    return SYSTEM_PYTHON, None


def ensure_torch2(allow_install):
    python = os.path.join(TORCH2_VENV, "bin", "python")
    if os.path.exists(python) and torch_version(python):
        return python, None
    if not allow_install:
        return None, ("no torch in build-torch2-venv/ (--install-torch2 tries `pip install torch numpy`: PyPI's "
                      "wheel pulls ~3 GB of CUDA libraries, 5.3 GB installed; about 2 minutes on 2026-12-08)")
    log(f"pip install torch into {TORCH2_VENV} (at most {PIP_TIMEOUT_S} s)")
    try:
        subprocess.run([sys.executable, "-m", "venv", TORCH2_VENV], check=True, capture_output=True)
        r = subprocess.run([python, "-m", "pip", "install", "torch", "numpy"], capture_output=True, text=True,
                           timeout=PIP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return None, f"pip install torch did not finish in {PIP_TIMEOUT_S} s"
    except subprocess.CalledProcessError as e:
        return None, f"cannot create a venv: {e.stderr.decode()[-300:]}"
    if r.returncode != 0:
        return None, "pip install torch failed: " + (r.stderr.strip() or r.stdout.strip())[-300:]
    if not torch_version(python):
        return None, "torch installed but does not import"
    return python, None


# ---- the runs -----------------------------------------------------------------------
def radius_bench(exe, name, threads):
    cmd = [exe, f"--benchmark_filter=^{name}/threads:{threads}/", "--benchmark_format=json"]
    rc, out, err, rss = wait4_run(cmd)
    if rc != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({rc}): {err[-500:]}")
    b = json.loads(out)["benchmarks"][0]
    b["process_peak_rss_mb"] = rss
    return b


def torch_bench(python, threads, batch):
    cmd = [python, os.path.join("bench", "pytorch_step.py"), "--threads", str(threads), "--batch", str(batch)]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    rc, out, err, rss = wait4_run(cmd, env=env)
    if rc != 0:
        return {"error": err.strip()[-300:]}
    r = json.loads(out.strip().splitlines()[-1])
    r["process_peak_rss_mb"] = rss
    return r


def loadavg():
    return os.getloadavg()[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build-dev"))
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--no-install", action="store_true", help="never apt-get install python3-torch")
    ap.add_argument("--install-torch2", action="store_true", help="pip install torch into build-torch2-venv/ first")
    ap.add_argument("--out-dir", default=os.path.join(ROOT, "bench", "results"))
    args = ap.parse_args()
    started = time.time()

    exe = ensure_radius(args.build_dir)
    torches = {}
    for label, ensure, install in (("pytorch-1.13 (Debian)", ensure_torch1, not args.no_install),
                                   ("pytorch-2.x (PyPI)", ensure_torch2, args.install_torch2)):
        python, why = ensure(install)
        torches[label] = {"python": python, "unavailable": why,
                          "version": torch_version(python) if python else None}
        log(f"{label}: {torches[label]['version'] or 'unavailable: ' + why}")

    info = machine_info(args.build_dir)
    info["load_before"] = loadavg()
    rows = []
    for threads in [int(t) for t in args.threads.split(",")]:
        log(f"{threads} thread(s): Radius step")
        step = radius_bench(exe, "Step", threads)
        log(f"{threads} thread(s): Radius inference")
        infer = radius_bench(exe, "Inference", threads)
        row = {"threads": threads, "radius": {
            "step_ms": step["real_time"], "images_per_s": step["images/s"], "gflop_per_s": step["GFLOP/s"],
            "sgemm_gflop_per_s": step["sgemm_GFLOP/s"], "pct_sgemm": step["%sgemm"],
            "cpu_s_per_step": step["cpu_s/step"], "peak_rss_mb": step["process_peak_rss_mb"],
            "inference_images_per_s": infer["images/s"]}, "torch": {}}
        for label, t in torches.items():
            if t["python"]:
                log(f"{threads} thread(s): {label}")
                row["torch"][label] = torch_bench(t["python"], threads, 32)
        rows.append(row)
    info["load_after"] = loadavg()
    report(info, torches, rows, args.out_dir, time.time() - started)


def fmt_ratio(a, b):
    return f"{a / b:.2f}x" if a and b else "-"


def report(info, torches, rows, out_dir, seconds):
    lines = [f"# Radius vs PyTorch, CPU training step: paper model 150x150x3, batch 32, Adam, dropout on",
             f"date: {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC   run time: {seconds:.0f} s",
             f"cpu: {info['cpu_model']}, {info['cpu_family_model']} ({info['cpus']} cpus, hypervisor {info['hypervisor']}, "
             f"avx2={info['avx2']} avx512f={info['avx512f']}, L2 {info['l2']}, L3 {info['l3']})",
             f"radius: git {info['radius_git']}, gcc {info['gcc']}, Eigen {info['eigen']}, {info['radius_flags']}",
             f"load average (1 min) before/after: {info['load_before']:.2f} / {info['load_after']:.2f}"
             + ("   WARNING: machine busy, timings unreliable" if max(info['load_before'], info['load_after']) > 1.5
                else "")]
    for label, t in torches.items():
        lines.append(f"{label}: " + (f"torch {t['version']} ({t['python']})" if t["python"]
                                     else f"UNAVAILABLE: {t['unavailable']}"))
    lines.append("")
    head = f"{'threads':>7} {'contender':<24} {'step ms':>9} {'img/s':>8} {'Radius x':>9} {'CPU s/step':>11} " \
           f"{'Radius x CPU':>13} {'peak RSS MB':>12} {'infer img/s':>12}"
    lines += [head, "-" * len(head)]
    for row in rows:
        r = row["radius"]
        lines.append(f"{row['threads']:>7} {'radius':<24} {r['step_ms']:>9.1f} {r['images_per_s']:>8.1f} "
                     f"{'':>9} {r['cpu_s_per_step']:>11.2f} {'':>13} {r['peak_rss_mb']:>12.0f} "
                     f"{r['inference_images_per_s']:>12.1f}")
        for label, t in row["torch"].items():
            if "error" in t:
                lines.append(f"{row['threads']:>7} {label:<24} failed: {t['error'][:80]}")
                continue
            lines.append(f"{row['threads']:>7} {label:<24} {t['step_ms']:>9.1f} {t['images_per_s']:>8.1f} "
                         f"{fmt_ratio(r['images_per_s'], t['images_per_s']):>9} {t['cpu_s_per_step']:>11.2f} "
                         f"{fmt_ratio(t['cpu_s_per_step'], r['cpu_s_per_step']):>13} "
                         f"{t['process_peak_rss_mb']:>12.0f} {t['inference_images_per_s']:>12.1f}")
        lines.append(f"{'':>7} radius model FLOP rate {r['gflop_per_s']:.1f} GFLOP/s = {r['pct_sgemm']:.0f} % of "
                     f"Eigen SGEMM 2048^3 ({r['sgemm_gflop_per_s']:.1f} GFLOP/s, same process); "
                     f"{r['cpu_s_per_step']:.2f} CPU s/step")
    lines.append("")
    lines.append("'Radius x' = Radius images/s over that PyTorch's, same threads, same run (wall time: the target). "
                 "'Radius x CPU' = the same from process CPU seconds per step (all threads): steadier on a busy "
                 "machine, blind to idle threads. Peak RSS: the whole process (kernel maxrss via wait4).")
    text = "\n".join(lines)
    print(text)
    write_result_files(out_dir, info["cpu_model"], "", text,
                       {"machine": info, "torch": {k: dict(v) for k, v in torches.items()}, "rows": rows,
                        "run_seconds": seconds})


if __name__ == "__main__":
    main()
