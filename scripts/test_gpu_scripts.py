#!/usr/bin/env python3
"""Tests of the GPU check's scripts that need no GPU (Python stdlib only, < 10 s):
  - gpu_summary.py on complete, broken (cut-off), partial and missing result files;
  - the plan (gpu_plan.tsv): caps within the budget, sanitizers before benchmarks,
    and gpu_lib.sh's plan_check refusing plans that break either rule;
  - gpu_lib.sh's run_step: the recorded status is the program's, timeouts and
    optional steps; sanitizer_clean on compute-sanitizer reports;
  - gpu_find_libs.py on fake directory trees laid out like the CUDA wheels;
  - gpu_check.sh end to end on a fake GPU machine (stub nvidia-smi, cmake,
    compute-sanitizer and programs): order, statuses, files, sanitizer flags.
Run by ctest ("gpu check scripts") and directly:  python3 scripts/test_gpu_scripts.py
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

SCRIPTS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(SCRIPTS)
sys.path.insert(0, SCRIPTS)
import gpu_summary  # noqa: E402

BUDGET = 450
RESERVE = 15


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def bench_doc(rows, context=None):
    return {"context": context or {"gpu": "NVIDIA H100 80GB HBM3", "gpu_sms": "132", "cuda_runtime": "13000",
                                   "cublas": "13", "cudnn": "91000", "date": "2026-12-07"},
            "benchmarks": rows}


def row(name, ms, **counters):
    r = {"name": name + "/manual_time", "run_name": name + "/manual_time", "run_type": "aggregate",
         "aggregate_name": "median", "real_time": ms, "time_unit": "ms"}
    r.update(counters)
    return r


KERNEL_ROWS = [
    row("sgemm 4096x4096x4096/ours", 3.0, **{"TFLOP/s": 45.8}),
    row("sgemm 4096x4096x4096/cublas", 2.4, **{"TFLOP/s": 57.3}),
    row("conv2 fwd b32/ours", 1.0, **{"TFLOP/s": 20.0}),
    row("conv2 fwd b32/cudnn", 0.8, **{"TFLOP/s": 25.0}),
    row("bw relu fwd/ours", 0.05, **{"GB/s": 2900.0}),
    row("bw relu fwd/copy", 0.045, **{"GB/s": 3200.0}),
]
TRAIN_ROWS = [dict(row("train step paper b32/ours", 12.0), **{"images/s": 2666.0})]
TORCH = {"torch": "2.9.0", "cudnn": 91000, "batch": 32,
         "fp32": {"median_ms": 15.0, "images_per_s": 2133.0}, "tf32": {"median_ms": 9.0, "images_per_s": 3555.0}}


class SummaryTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.out = self.dir.name
        self.steps = os.path.join(self.out, ".steps.tsv")
        write(self.steps, "configure\tOK\t6\t\nbuild tests\tOK\t80\t\ncuda tests\tOK\t12\t\n"
                          "memcheck\tFAILED\t30\texit 9\nsynccheck\tSKIPPED\t0\toptional, no spare time\n")

    def tearDown(self):
        self.dir.cleanup()

    def summary(self):
        return gpu_summary.summarize(self.out, self.steps)

    def write_all(self):
        write(os.path.join(self.out, "bench_kernels.json"), json.dumps(bench_doc(KERNEL_ROWS), indent=1))
        write(os.path.join(self.out, "bench_train_step.json"), json.dumps(bench_doc(TRAIN_ROWS), indent=1))
        write(os.path.join(self.out, "torch_step.json"), json.dumps(TORCH))

    def test_complete_results_give_every_figure(self):
        self.write_all()
        text = self.summary()
        self.assertIn("NVIDIA H100", text)
        self.assertRegex(text, r"memcheck +FAILED +30 +exit 9")
        self.assertRegex(text, r"synccheck +SKIPPED")
        self.assertRegex(text, r"sgemm 4096x4096x4096 +45800 GFLOP/s .* cublas 57300 GFLOP/s +80%")
        self.assertRegex(text, r"conv2 fwd b32 .*cudnn 25000 GFLOP/s +80%")
        self.assertRegex(text, r"bw relu fwd +2900 GB/s .* copy 3200 GB/s +90%")
        self.assertIn("Radius 12.000 ms/step, 2666 images/s", text)
        self.assertRegex(text, r"TF32 off: 15.000 ms/step +Radius runs at 125% of its speed")
        self.assertRegex(text, r"TF32 on : 9.000 ms/step +Radius runs at 75% of its speed")
        self.assertNotIn("BROKEN", text)

    def test_a_cut_off_benchmark_file_is_named_and_everything_else_still_printed(self):
        self.write_all()
        full = json.dumps(bench_doc(KERNEL_ROWS), indent=1)
        cut = full[: full.index('"conv2 fwd b32/cudnn')]  # the benchmark threw while writing its fourth entry
        write(os.path.join(self.out, "bench_kernels.json"), cut)
        text = self.summary()
        self.assertRegex(text, r"bench_kernels.json: BROKEN \(.*line \d+, column \d+\); the 3 complete benchmark entries")
        self.assertIn("NVIDIA H100", text)  # the context survives
        self.assertRegex(text, r"sgemm 4096x4096x4096 .*80%")  # the entries before the break
        self.assertRegex(text, r"conv2 fwd b32 +20000 GFLOP/s .*no baseline")  # its baseline was cut off
        self.assertIn("Radius 12.000 ms/step", text)  # the other files are untouched
        self.assertIn("TF32 off: 15.000 ms/step", text)

    def test_garbage_and_broken_torch_json_are_named_not_fatal(self):
        self.write_all()
        write(os.path.join(self.out, "bench_train_step.json"), "Segmentation fault\n")
        write(os.path.join(self.out, "torch_step.json"), '{"torch": "2.9.0", "fp32": {"median_ms": 1')
        text = self.summary()
        self.assertIn("bench_train_step.json: BROKEN", text)
        self.assertIn("nothing in it could be used", text)
        self.assertIn("torch_step.json: BROKEN", text)
        self.assertIn("train step: no Radius measurement", text)
        self.assertRegex(text, r"sgemm 4096x4096x4096 .*80%")

    def test_missing_files_and_benchmark_errors(self):
        rows = KERNEL_ROWS[:2] + [{"name": "conv1 fwd b32/ours/manual_time", "run_name": "conv1 fwd b32/ours/manual_time",
                                   "run_type": "iteration", "error_occurred": True,
                                   "error_message": "CUDA error: an illegal memory access"}]
        write(os.path.join(self.out, "bench_kernels.json"), json.dumps(bench_doc(rows)))
        text = self.summary()
        self.assertIn("benchmark error: conv1 fwd b32/ours: CUDA error: an illegal memory access", text)
        self.assertIn("bench_train_step.json: missing", text)
        self.assertIn("torch_step.json: missing", text)
        self.assertTrue(text.splitlines()[-1].startswith("=" * 10))

    def test_the_op_playgrounds_follow_the_sgemm_table(self):
        write(os.path.join(self.out, "playground.txt"),
              "check v1 naive 512x512x512 rel err 1.00e-07 ok\nv5 warp-tiled 2.900 47000 80.0%\n"
              "### op playgrounds\n### adam_playground\ndevice: NVIDIA H100\n"
              "check v1 three passes keras n=7 rel err 1.00e-08 ok\ncheck v2 fused keras n=7 rel err inf FAIL\n"
              "version ms rate % peak\nv4 backend      0.0400   2400 GB/s    71.6%\n")
        text = self.summary()
        self.assertIn("SGEMM playground (4096^3):\n  check v1 naive", text)
        self.assertIn("op playgrounds: 2 checks, 1 FAIL", text)
        self.assertIn("  ### adam_playground", text)
        self.assertRegex(text, r"\n  v4 backend +0.0400 +2400 GB/s +71.6%")
        # the op playgrounds' lines are not taken for the SGEMM table's
        self.assertNotIn("  check v1 three passes", text)

    def test_nothing_at_all(self):
        text = gpu_summary.summarize(self.out, None)
        self.assertIn("no benchmark results", text)
        self.assertIn("none measured", text)

    def test_sanitizer_sections(self):
        log = ("### memcheck\n========= ERROR SUMMARY: 0 errors\n"
               "### racecheck\n========= RACECHECK SUMMARY: 2 hazards displayed (1 error, 1 warning)\n"
               "### initcheck\n========= Program hit cudaErrorLaunchFailure\n")
        self.assertEqual(gpu_summary.sanitizer_sections(log), [
            ("memcheck", "0 errors"), ("racecheck", "2 hazards (1 errors, 1 warnings)"),
            ("initcheck", "no summary line (did the run finish?)")])


def bash(script, env=None, cwd=ROOT):
    """Runs script after sourcing gpu_lib.sh with a fresh LOG/STEPS; (rc, stdout, steps rows)."""
    with tempfile.TemporaryDirectory() as d:
        steps = os.path.join(d, "steps.tsv")
        e = dict(os.environ, LOG=os.path.join(d, "log"), STEPS=steps, BUDGET=str(BUDGET),
                 PLAN=os.path.join(SCRIPTS, "gpu_plan.tsv"), OUTDIR=d)
        e.update(env or {})
        p = subprocess.run(["bash", "-c", "START=$SECONDS; source scripts/gpu_lib.sh; " + script],
                           cwd=cwd, env=e, capture_output=True, text=True, timeout=30)
        rows = []
        if os.path.exists(steps):
            with open(steps) as f:
                rows = [line.split("\t") for line in f.read().splitlines()]
        return p.returncode, p.stdout + p.stderr, rows


def plan_rows(path=os.path.join(SCRIPTS, "gpu_plan.tsv")):
    rows = []
    with open(path) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                name, cap, kind, what = line.rstrip("\n").split("\t")
                rows.append((name, int(cap), kind, what))
    return rows


class PlanTest(unittest.TestCase):
    def test_required_caps_fit_the_budget(self):
        required = sum(cap for _, cap, kind, _ in plan_rows() if kind == "required")
        self.assertLessEqual(required + RESERVE, BUDGET)

    def test_order_by_value(self):
        names = [n for n, *_ in plan_rows()]
        self.assertEqual(names[:5], ["configure", "build tests", "cuda tests", "memcheck", "racecheck"])
        first_bench = min(i for i, n in enumerate(names) if n.startswith(("bench", "pytorch", "sgemm")))
        for sanitizer in ("memcheck", "racecheck", "synccheck", "initcheck"):
            self.assertLess(names.index(sanitizer), first_bench)
        self.assertLess(names.index("bench kernels"), names.index("bench train step"))
        self.assertLess(names.index("bench train step"), names.index("pytorch eager step"))
        self.assertEqual(names[-2:], ["sgemm playground", "op playgrounds"])  # op playgrounds append to its file
        self.assertEqual([n for n, _, kind, _ in plan_rows() if kind == "required"][-1], "sgemm playground")
        self.assertNotIn("cpu tests", names)  # CI runs the CPU suite

    def test_plan_check_accepts_ours_and_refuses_bad_plans(self):
        rc, out, _ = bash("plan_check")
        self.assertEqual(rc, 0, out)
        with tempfile.TemporaryDirectory() as d:
            too_long = os.path.join(d, "long.tsv")
            write(too_long, "".join(f"{n}\t{c * 2}\t{k}\t{w}\n" for n, c, k, w in plan_rows()))
            rc, out, _ = bash("plan_check", {"PLAN": too_long})
            self.assertNotEqual(rc, 0)
            self.assertIn("exceed the budget", out)
            late = os.path.join(d, "late.tsv")
            rows = [r for r in plan_rows() if r[0] != "memcheck"] + [r for r in plan_rows() if r[0] == "memcheck"]
            write(late, "".join(f"{n}\t{c}\t{k}\t{w}\n" for n, c, k, w in rows))
            rc, out, _ = bash("plan_check", {"PLAN": late})
            self.assertNotEqual(rc, 0)
            self.assertIn("a sanitizer runs after a benchmark", out)


class RunStepTest(unittest.TestCase):
    def test_status_is_the_programs_even_when_its_output_is_copied(self):
        rc, out, rows = bash('run_step --copy "$OUTDIR/pg.txt" "sgemm playground" bash -c "echo v1 table; exit 3"; '
                             'echo "rc=$?"; cat "$OUTDIR/pg.txt"')
        self.assertIn("rc=3", out)
        self.assertEqual(rows[0][:2], ["sgemm playground", "FAILED"])
        self.assertEqual(rows[0][3], "exit 3")
        self.assertEqual(out.count("v1 table"), 2)  # on the terminal and in the copy

    def test_ok_timeout_and_step_output(self):
        rc, out, rows = bash('run_step "cuda tests" echo "no CUDA device: skipped"; grep -c skipped "$STEP_OUTPUT"; '
                             'fail_step "cuda tests" "skipped although a GPU is present"')
        self.assertEqual(rows[0][:2], ["cuda tests", "FAILED"])
        self.assertIn("skipped although a GPU is present", rows[0][3])
        self.assertIn("\n1\n", out)
        # A limit reached: a budget that leaves 1 s makes the limit 1 s (below the playground's cap).
        rc, out, rows = bash('MIN_STEP_S=1; BUDGET=$((SUMMARY_RESERVE_S + 1)); run_step "sgemm playground" sleep 20')
        self.assertEqual(rows[0][:2], ["sgemm playground", "FAILED"])
        self.assertIn("timed out", rows[0][3])

    def test_budget_spent_and_optional_steps(self):
        rc, out, rows = bash('BUDGET=$SUMMARY_RESERVE_S; run_step "bench kernels" true')
        self.assertEqual(rows[0][:2], ["bench kernels", "SKIPPED"])
        # The whole budget: an optional sanitizer fits only when the required steps after it still do.
        rc, out, rows = bash('run_step synccheck true')
        self.assertEqual(rows[0][:2], ["synccheck", "OK"])
        # 290 s gone: 145 s left, of which the required steps after it may take 140.
        rc, out, rows = bash('START=$((SECONDS - 290)); run_step synccheck true')
        self.assertEqual(rows[0][:2], ["synccheck", "SKIPPED"])
        self.assertIn("optional", rows[0][3])

    def test_sanitizer_clean(self):
        with tempfile.TemporaryDirectory() as d:
            cases = {"========= ERROR SUMMARY: 0 errors\n": 0,
                     "========= RACECHECK SUMMARY: 0 hazards displayed (0 errors, 0 warnings)\n": 0,
                     "========= ERROR SUMMARY: 3 errors\n": 1,
                     "========= Invalid __global__ read of size 4 bytes\n": 1,  # crashed before its summary
                     "": 1}
            for text, want in cases.items():
                path = os.path.join(d, "report")
                write(path, text)
                rc, out, _ = bash(f'sanitizer_clean "{path}"')
                self.assertEqual(rc, want, text)


def find_libs(*roots):
    out = subprocess.run([sys.executable, os.path.join(SCRIPTS, "gpu_find_libs.py")] +
                         [a for r in roots for a in ("--root", r)], capture_output=True, text=True, check=True).stdout
    values = dict(l.split("=", 1) for l in out.splitlines() if not l.startswith("#"))
    return {k: v.strip("'") for k, v in values.items()}, out


def touch(root, *paths):
    for p in paths:
        write(os.path.join(root, p), "")


class FindLibsTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.d = self.dir.name

    def tearDown(self):
        self.dir.cleanup()

    def test_per_package_wheels(self):  # nvidia/cudnn/{include,lib}, nvidia/cublas/{include,lib}
        nv = os.path.join(self.d, "site-packages", "nvidia")
        touch(nv, "cudnn/include/cudnn.h", "cudnn/include/cudnn_version.h", "cudnn/lib/libcudnn.so.9",
              "cudnn/lib/libcudnn_ops.so.9", "cublas/include/cublas_v2.h", "cublas/lib/libcublas.so.12",
              "cublas/lib/libcublasLt.so.12")
        v, out = find_libs(nv)
        self.assertEqual(v["CUDNN_INCLUDE_DIR"], os.path.join(nv, "cudnn/include"))
        self.assertEqual(v["CUDNN_LIBRARY"], os.path.join(nv, "cudnn/lib/libcudnn.so.9"))  # not libcudnn_ops
        self.assertEqual(v["CUBLAS_LIBRARY"], os.path.join(nv, "cublas/lib/libcublas.so.12"))  # not libcublasLt
        self.assertEqual(v["CUBLAS_IN_TOOLKIT"], "0")
        self.assertIn("cuDNN: found", out)
        self.assertIn("cuBLAS: found", out)
        self.assertEqual(set(v["BASELINE_LIB_DIRS"].split(":")),
                         {os.path.join(nv, "cudnn/lib"), os.path.join(nv, "cublas/lib")})

    def test_cuda13_shared_folder_layout(self):  # nvidia/cu13/{include,lib} holds cuBLAS, cuDNN elsewhere
        nv = os.path.join(self.d, "nvidia")
        touch(nv, "cu13/include/cublas_v2.h", "cu13/include/cublas_api.h", "cu13/lib/libcublas.so.13",
              "cu13/lib/libcublasLt.so.13", "cudnn/include/cudnn.h", "cudnn/lib/libcudnn.so.9",
              "cudnn/lib/libcudnn.so.9.10.2")
        v, _ = find_libs(nv)
        self.assertEqual(v["CUBLAS_INCLUDE_DIR"], os.path.join(nv, "cu13/include"))
        self.assertEqual(v["CUBLAS_LIBRARY"], os.path.join(nv, "cu13/lib/libcublas.so.13"))
        self.assertEqual(v["CUDNN_LIBRARY"], os.path.join(nv, "cudnn/lib/libcudnn.so.9"))  # the SONAME, not .9.10.2

    def test_a_root_with_both_beats_a_root_with_only_the_header(self):
        headers_only = os.path.join(self.d, "copied")
        wheel = os.path.join(self.d, "wheel")
        touch(headers_only, "include/cudnn.h")
        touch(wheel, "nvidia/cudnn/include/cudnn.h", "nvidia/cudnn/lib/libcudnn.so.9")
        v, _ = find_libs(headers_only, wheel)
        self.assertEqual(v["CUDNN_INCLUDE_DIR"], os.path.join(wheel, "nvidia/cudnn/include"))

    def test_split_header_and_library_and_nothing(self):
        a, b = os.path.join(self.d, "a"), os.path.join(self.d, "b")
        touch(a, "include/cudnn.h")
        touch(b, "lib64/libcudnn.so")
        v, out = find_libs(a, b)
        self.assertEqual(v["CUDNN_INCLUDE_DIR"], os.path.join(a, "include"))
        self.assertEqual(v["CUDNN_LIBRARY"], os.path.join(b, "lib64/libcudnn.so"))
        self.assertIn("cuBLAS: not found", out)
        self.assertIn("baseline absent", out)
        self.assertNotIn("CUBLAS_LIBRARY", v)
        touch(a, "include/cublas_v2.h")  # a header alone is not enough
        v, out = find_libs(a)
        self.assertIn("cuBLAS: INCOMPLETE", out)
        self.assertNotIn("CUBLAS_LIBRARY", v)


# ---- the whole script on a fake GPU machine -----------------------------------------------
# Stubs stand in for nvidia-smi, cmake (configure writes a build.ninja naming the
# targets; build writes each target as a small program), compute-sanitizer (a
# clean report) and the built programs (the benchmarks write their JSON), so the
# GPU path of gpu_check.sh runs end to end in a second or two.
STUBS = {
    "nvidia-smi": 'echo "NVIDIA H100 80GB HBM3, 81559 MiB, 580.65.06, 1980 MHz, 1980 MHz"',
    "compute-sanitizer": r"""
[ "$1" = --version ] && { echo "compute-sanitizer 2025.3"; exit 0; }
echo "$RADIUS_CUDA_EXACT_ALLOC $*" >>"$FAKE_CALLS"
while [ $# -gt 0 ]; do
  case $1 in --tool) tool=$2; shift 2 ;; --log-file) log=$2; shift 2 ;; --error-exitcode) shift 2 ;; *) break ;; esac
done
if [ "$tool" = racecheck ]; then echo "========= RACECHECK SUMMARY: 0 hazards displayed (0 errors, 0 warnings)" >"$log"
else echo "========= ERROR SUMMARY: 0 errors" >"$log"; fi
"$@" >/dev/null""",
    "cmake": r"""
[ "$1" = --version ] && { echo "cmake version 3.28.3"; exit 0; }
if [ "$1" = --build ]; then
  dir=$2; shift 2; targets=()
  while [ $# -gt 0 ]; do case $1 in --target) shift; targets+=("$@"); break ;; *) shift ;; esac; done
  for t in "${targets[@]}"; do cp "$FAKE_PROGRAMS/$t" "$dir/$t"; chmod +x "$dir/$t"; done
  exit 0
fi
while [ $# -gt 0 ]; do case $1 in -B) dir=$2; shift 2 ;; *) shift ;; esac; done
mkdir -p "$dir"
for t in radius_tests $FAKE_CONFIGURED; do echo "build $t: phony" >>"$dir/build.ninja"; done""",
}
PROGRAMS = {
    "radius_tests": 'echo "radius_tests $*"; echo "[doctest] test cases: 25 | 25 passed"',
    "bench_cuda_kernels": r"""for a in "$@"; do case $a in --benchmark_out=*) out=${a#*=} ;; esac; done
printf '%s' "$FAKE_KERNELS_JSON" >"$out"; exit "${FAKE_KERNELS_RC:-0}" """,
    "bench_cuda_train_step": r"""for a in "$@"; do case $a in --benchmark_out=*) out=${a#*=} ;; esac; done
printf '%s' "$FAKE_TRAIN_JSON" >"$out" """,
    "sgemm_playground": 'echo "v5 warp-tiled 4096^3: 2.9 ms"; exit "${FAKE_PLAYGROUND_RC:-0}"',
}


class FakeGpuMachineTest(unittest.TestCase):
    def run_check(self, **env):
        with tempfile.TemporaryDirectory() as d:
            bin_dir, programs, out = (os.path.join(d, x) for x in ("bin", "programs", "out"))
            for folder, table in ((bin_dir, STUBS), (programs, PROGRAMS)):
                for name, body in table.items():
                    write(os.path.join(folder, name), "#!/usr/bin/env bash\n" + body + "\n")
                    os.chmod(os.path.join(folder, name), 0o755)
            e = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ["PATH"], OUT=out,
                     BUILD_DIR=os.path.join(d, "build"), FAKE_PROGRAMS=programs, FAKE_CALLS=os.path.join(d, "calls"),
                     FAKE_CONFIGURED="bench_cuda_kernels bench_cuda_train_step sgemm_playground",
                     FAKE_KERNELS_JSON=json.dumps(bench_doc(KERNEL_ROWS)),
                     FAKE_TRAIN_JSON=json.dumps(bench_doc(TRAIN_ROWS)))
            e.update(env)
            p = subprocess.run(["bash", os.path.join(SCRIPTS, "gpu_check.sh")], cwd=ROOT, env=e,
                               capture_output=True, text=True, timeout=60)
            calls = ""
            if os.path.exists(e["FAKE_CALLS"]):
                with open(e["FAKE_CALLS"]) as f:
                    calls = f.read()
            files = sorted(os.listdir(out))
            return p.returncode, p.stdout + p.stderr, calls, files

    def test_a_clean_run(self):
        rc, out, calls, files = self.run_check()
        self.assertEqual(rc, 0, out)
        summary = out[out.index("GPU CHECK SUMMARY"):]
        for step in ("configure", "build tests", "cuda tests", "memcheck", "racecheck", "build benchmarks",
                     "bench kernels", "bench train step", "pytorch eager step", "sgemm playground"):
            self.assertRegex(summary, rf"\n{step} +OK ", step)
        self.assertRegex(summary, r"synccheck +(OK|SKIPPED)")
        self.assertIn("memcheck 0 errors; racecheck 0 hazards", summary)
        self.assertRegex(summary, r"sgemm 4096x4096x4096 .*80%")
        self.assertTrue(out.rstrip().endswith("=" * 100))  # the summary is the last thing printed
        self.assertEqual(files, ["bench_kernels.json", "bench_train_step.json", "gpu_check.log", "playground.txt",
                                 "sanitizer.log", "summary.txt", "torch_step.json"])  # 7, nothing else
        memcheck = [l for l in calls.splitlines() if "--tool memcheck" in l][0]
        self.assertTrue(memcheck.startswith("1 "), "memcheck without RADIUS_CUDA_EXACT_ALLOC=1")
        for line in calls.splitlines():
            self.assertIn("-tse=provokes-cuda-errors", line)
        self.assertLess(out.index("=== racecheck"), out.index("=== bench kernels"))

    def test_failures_are_the_programs_and_absent_targets_are_skipped(self):
        cut = json.dumps(bench_doc(KERNEL_ROWS))[:300]
        rc, out, _, _ = self.run_check(FAKE_PLAYGROUND_RC="1", FAKE_KERNELS_RC="134", FAKE_KERNELS_JSON=cut,
                                       FAKE_CONFIGURED="bench_cuda_kernels sgemm_playground")
        self.assertEqual(rc, 1)
        summary = out[out.index("GPU CHECK SUMMARY"):]
        self.assertRegex(summary, r"bench kernels +FAILED +\d+ +exit 134")
        self.assertRegex(summary, r"sgemm playground +FAILED +\d+ +exit 1")
        self.assertRegex(summary, r"bench train step +SKIPPED +0 +bench_cuda_train_step not built")
        self.assertRegex(summary, r"cuda tests +OK")  # the tests never depend on the benchmarks
        self.assertIn("bench_kernels.json: BROKEN", summary)
        self.assertRegex(summary, r"total +FAILED")


if __name__ == "__main__":
    unittest.main(verbosity=1)
