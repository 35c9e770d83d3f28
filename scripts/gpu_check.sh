#!/usr/bin/env bash
# The GPU check: one command for a lent GPU machine (see kernels/README.md).
#
#   bash scripts/gpu_check.sh            # OUT must be set (the device tool sets it)
#
# On the GPU machine it: prints the card and tool versions; configures with the
# carried dependencies (.gpu-deps, from scripts/gpu_deps.sh) and builds for sm_90;
# runs the CUDA tests (they must run, not skip); times our kernels against
# cuBLAS/cuDNN/device copies and the training step against PyTorch eager (TF32
# off and on); runs the SGEMM playground; compute-sanitizer memcheck and
# racecheck on the CUDA tests at small sizes; the rest of the test suite; and
# prints the summary table LAST. Every step has a time cap and the whole run a
# budget (GPU_CHECK_BUDGET_S, default 450 s) so it ends inside 8 minutes; a step
# that would not fit is skipped and says so. Files written under $OUT (at most
# 8, the device tool's limit): gpu_check.log, bench_kernels.json,
# bench_train_step.json, torch_step.json, playground.txt, sanitizer.log, summary.txt.
#
# Without a GPU (here) it still configures, builds and runs the tests (the CUDA
# ones skip), says clearly what it could not do, and exits 2: it is not a green
# GPU check. BUILD_DIR (default build-gpu) lets a test run reuse a build.
set -uo pipefail
cd "$(dirname "$0")/.."
: "${OUT:?set OUT to the folder for results (the device tool sets it)}"
mkdir -p "$OUT"
BUILD_DIR=${BUILD_DIR:-build-gpu}
BUDGET=${GPU_CHECK_BUDGET_S:-450}
START=$SECONDS
STEPS=$(mktemp)
LOG="$OUT/gpu_check.log"
: >"$LOG"
failed=0

log() { echo "$*" | tee -a "$LOG"; }
record() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "${4:-}" >>"$STEPS"; }

# run_step NAME CAP_S COMMAND...: runs with a timeout of min(CAP, what the budget
# leaves after a 25 s reserve for the summary), output appended to the log.
run_step() {
  local name=$1 cap=$2
  shift 2
  local left=$((BUDGET - (SECONDS - START) - 25))
  if ((left < 10)); then
    log "=== $name: SKIPPED (time budget spent)"
    record "$name" SKIPPED 0 "time budget"
    return 1
  fi
  local limit=$((cap < left ? cap : left)) t0=$SECONDS rc
  log "=== $name (limit ${limit}s)"
  timeout --kill-after=5 "$limit" "$@" 2>&1 | tee -a "$LOG"
  rc=${PIPESTATUS[0]}
  local dt=$((SECONDS - t0))
  if ((rc == 0)); then
    record "$name" OK "$dt"
  elif ((rc == 124 || rc == 137)); then
    record "$name" TIMEOUT "$dt" "cap ${limit}s"
    failed=1
  else
    record "$name" FAILED "$dt" "exit $rc"
    failed=1
  fi
  return "$rc"
}

# ---- 0. the machine ------------------------------------------------------------------
export PATH="/usr/local/cuda/bin:$PATH"
have_gpu=1
if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi >/dev/null 2>&1; then
  have_gpu=0
fi
log "=== machine: $(uname -m), $(nproc) cores, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
if ((have_gpu)); then
  nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv 2>&1 | tee -a "$LOG"
else
  log "no GPU visible (nvidia-smi missing or failing): building and running the CPU-side parts only;"
  log "CUDA tests will skip, and sanitizer, benchmarks, playground and the PyTorch reference are skipped."
  record "gpu" ABSENT 0 "no nvidia-smi / no device"
fi
{ nvcc --version | tail -2; cmake --version | head -1; ninja --version; g++ --version | head -1; } 2>&1 | tee -a "$LOG"
command -v compute-sanitizer >/dev/null && have_sanitizer=1 || have_sanitizer=0

# ---- 1. dependencies: carried headers/libs, cuDNN and cuBLAS wherever they are ----------
if [ ! -d .gpu-deps/include/eigen3 ]; then
  log "missing .gpu-deps: run 'bash scripts/gpu_deps.sh' here and name .gpu-deps in the device tool's carry"
  record "deps" FAILED 0 ".gpu-deps missing"
  failed=1
fi
py_pkg_dir() { python3 -c "import os, $1 as m; print(os.path.dirname(m.__file__))" 2>/dev/null; }
cudnn_root=""
if ls /usr/local/cuda/include/cudnn.h /usr/include/cudnn.h >/dev/null 2>&1; then
  :
elif d=$(py_pkg_dir nvidia.cudnn) && [ -n "$d" ]; then
  cudnn_root=$d  # PyTorch's wheel: include/ and lib/libcudnn.so.9
  export LD_LIBRARY_PATH="$d/lib:${LD_LIBRARY_PATH:-}"
fi
cublas_root=""
if ! ls /usr/local/cuda/lib64/libcublas.so* >/dev/null 2>&1 && d=$(py_pkg_dir nvidia.cublas) && [ -n "$d" ]; then
  cublas_root=$d
  export LD_LIBRARY_PATH="$d/lib:${LD_LIBRARY_PATH:-}"
fi
export LD_LIBRARY_PATH="$PWD/.gpu-deps/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}"
log "cuDNN root: ${cudnn_root:-/usr/local/cuda}; cuBLAS root: ${cublas_root:-/usr/local/cuda}"

# ---- 2. configure and build -------------------------------------------------------------------
run_step "configure" 90 cmake -S . -B "$BUILD_DIR" -G Ninja -DRADIUS_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$PWD/.gpu-deps" -DCMAKE_POLICY_VERSION_MINIMUM=3.5 \
  ${cudnn_root:+-DCUDNN_ROOT="$cudnn_root"} ${cublas_root:+-DCUBLAS_ROOT="$cublas_root"}
targets=(radius_tests)
((have_gpu)) && targets+=(sgemm_playground bench_cuda_kernels bench_cuda_train_step)
if ! run_step "build (${targets[*]})" 240 cmake --build "$BUILD_DIR" -j "$(nproc)" --target "${targets[@]}"; then
  log "build failed: nothing else can run"
fi
T="$BUILD_DIR/radius_tests"

# ---- 3. the CUDA tests: they must run here, not skip ---------------------------------------------
if [ -x "$T" ]; then
  run_step "cuda tests" 120 "$T" -tc="cuda:*" -s=false
  if ((have_gpu)) && grep -q "no CUDA device: skipped" "$LOG"; then
    log "CUDA tests SKIPPED on a GPU machine: the runtime saw no device"
    record "cuda tests ran" FAILED 0 "skipped although a GPU is present"
    failed=1
  fi
fi

if ((have_gpu)) && [ -x "$T" ]; then
  # ---- 4. benchmarks and the PyTorch reference (the numbers) -----------------------------------
  run_step "bench kernels" 150 "$BUILD_DIR/bench_cuda_kernels" --benchmark_min_time=0.1 --benchmark_repetitions=3 \
    --benchmark_report_aggregates_only=true --benchmark_out="$OUT/bench_kernels.json" --benchmark_out_format=json
  run_step "bench train step" 40 "$BUILD_DIR/bench_cuda_train_step" --benchmark_repetitions=3 \
    --benchmark_report_aggregates_only=true --benchmark_out="$OUT/bench_train_step.json" --benchmark_out_format=json
  run_step "pytorch eager step" 90 env PYTHONUNBUFFERED=1 python3 scripts/torch_step.py --out "$OUT/torch_step.json"
  run_step "sgemm playground" 45 bash -c "'$BUILD_DIR/sgemm_playground' 4096 512 10 | tee '$OUT/playground.txt'"

  # ---- 5. compute-sanitizer on the CUDA tests at small sizes ------------------------------------
  if ((have_sanitizer)); then
    : >"$OUT/sanitizer.log"
    run_step "memcheck" 90 env RADIUS_TEST_SMALL=1 compute-sanitizer --tool memcheck --error-exitcode 9 \
      --log-file "$OUT/sanitizer.log" "$T" -tc="cuda:*"
    run_step "racecheck" 90 env RADIUS_TEST_SMALL=1 compute-sanitizer --tool racecheck --error-exitcode 9 \
      --log-file "$OUT/sanitizer.racecheck.tmp" "$T" -tc="cuda: SGEMM*,cuda: conv2d*,cuda: dense*,cuda: BCE*,cuda: moments*,cuda: augment*"
    cat "$OUT/sanitizer.racecheck.tmp" >>"$OUT/sanitizer.log" 2>/dev/null
    rm -f "$OUT/sanitizer.racecheck.tmp"
  else
    log "compute-sanitizer not found: memcheck/racecheck skipped"
    record "sanitizer" SKIPPED 0 "compute-sanitizer not on PATH"
  fi
fi

# ---- 6. the rest of the test suite (CPU) --------------------------------------------------------------
[ -x "$T" ] && run_step "cpu tests" 150 "$T" -tce="cuda:*"

# ---- 7. the summary, last ---------------------------------------------------------------------------
record "total" "$([ $failed = 0 ] && echo OK || echo FAILED)" "$((SECONDS - START))"
python3 scripts/gpu_summary.py "$OUT" --steps "$STEPS" --write "$OUT/summary.txt" 2>&1 | tee -a "$LOG"
rm -f "$STEPS"
if ((!have_gpu)); then
  echo "gpu_check: no GPU here, so this was NOT a GPU check (CPU-side parts only)"
  exit 2
fi
exit $failed
