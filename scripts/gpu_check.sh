#!/usr/bin/env bash
# The GPU check: one command on a CUDA machine that validates every kernel and
# leaves numbers that can be trusted (see kernels/README.md, "GPU check").
#
#   bash scripts/gpu_check.sh --dry-run   # anywhere: the plan, its caps, the dependencies; exits 0
#   OUT=DIR bash scripts/gpu_check.sh     # on the CUDA machine: the check; results under DIR
#
# The plan (scripts/gpu_plan.tsv), most valuable first: configure and build the
# tests; the CUDA tests (they must run, not skip); compute-sanitizer memcheck
# (exact allocations: RADIUS_CUDA_EXACT_ALLOC=1) and racecheck, then synccheck
# and initcheck if time is left; build and run the kernel and train-step
# benchmarks against cuBLAS/cuDNN/device copies; the PyTorch eager step (TF32
# off and on); the SGEMM playground; the op playgrounds if time is left (their
# output appended to playground.txt). The CPU suite is not run here (CI runs it).
# Each step has a cap and the whole run a budget (GPU_CHECK_BUDGET_S, default
# 450 s) that the caps fit, so the run ends inside 8 minutes; the summary table
# is printed LAST. Files under $OUT (7; kept under 8 so a remote run can return them all):
# gpu_check.log, bench_kernels.json, bench_train_step.json, torch_step.json,
# playground.txt, sanitizer.log, summary.txt.
#
# Without a GPU it still configures and builds (the CUDA tests skip), says what
# it could not do, and exits 2: that is not a GPU check. BUILD_DIR (default
# build-gpu) lets a test reuse a build.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/cuda/bin:$PATH"
# Some toolkits keep compute-sanitizer in a folder of its own.
for d in /usr/local/cuda/compute-sanitizer /opt/nvidia/compute-sanitizer; do
  [ -x "$d/compute-sanitizer" ] && export PATH="$PATH:$d"
done

dry_run=0
case "${1:-}" in
  --dry-run) dry_run=1 ;;
  "") ;;
  *) echo "usage: bash scripts/gpu_check.sh [--dry-run]" >&2; exit 64 ;;
esac

BUDGET=${GPU_CHECK_BUDGET_S:-450}
PLAN=${GPU_CHECK_PLAN:-scripts/gpu_plan.tsv}
BUILD_DIR=${BUILD_DIR:-build-gpu}
START=$SECONDS
if ((dry_run)); then
  OUT=$(mktemp -d)
  trap 'rm -rf "$OUT"' EXIT
fi
: "${OUT:?set OUT to the folder for results (e.g. OUT=/tmp/gpu-check), or pass --dry-run}"
mkdir -p "$OUT"
LOG="$OUT/gpu_check.log"
WORK=$(mktemp -d)  # scratch outside OUT: only the 7 result files go there
STEPS="$WORK/steps.tsv"
: >"$LOG"
: >"$STEPS"
# shellcheck source=scripts/gpu_lib.sh
source scripts/gpu_lib.sh
trap 'rm -rf "$WORK" "$STEP_OUTPUT"; ((dry_run)) && rm -rf "$OUT"' EXIT

# ---- the plan, before anything runs -----------------------------------------------------------
plan_print
plan_ok=1
plan_check || plan_ok=0

# ---- the machine and the tools ------------------------------------------------------------------
have_gpu=0
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi >/dev/null 2>&1; then have_gpu=1; fi
log "=== machine: $(uname -m), $(nproc) cores, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
if ((have_gpu)); then
  nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv 2>&1 | tee -a "$LOG"
else
  log "GPU: none visible (nvidia-smi missing or failing)"
fi
missing=()
tool() {  # tool NAME WHAT: reports where NAME is, or that it is missing
  local where
  if where=$(command -v "$1" 2>/dev/null); then
    log "  $1: $where ($("$1" --version 2>&1 | grep -m1 -oE '[0-9]+\.[0-9]+(\.[0-9]+)?' | head -1))"
  else
    log "  $1: MISSING ($2)"
    missing+=("$1")
  fi
}
log "tools:"
tool nvcc "the CUDA compiler: nothing builds"
tool cmake "nothing builds"
tool ninja "nothing builds"
tool g++ "nothing builds"
tool python3 "no summary, no PyTorch step"
tool compute-sanitizer "memcheck/racecheck skipped"

log "carried dependencies (.gpu-deps, from scripts/gpu_deps.sh):"
deps_missing=()
for dep in include/eigen3/Eigen/Core include/doctest/doctest.h include/CLI/CLI.hpp include/nlohmann/json.hpp \
           include/benchmark/benchmark.h lib/x86_64-linux-gnu/libbenchmark.so lib/x86_64-linux-gnu/libpng16.a \
           lib/x86_64-linux-gnu/libjpeg.a lib/x86_64-linux-gnu/libz.a lib/x86_64-linux-gnu/libcsv.a; do
  [ -e ".gpu-deps/$dep" ] || deps_missing+=("$dep")
done
if ((${#deps_missing[@]})); then
  log "  MISSING in .gpu-deps: ${deps_missing[*]}"
  log "  (run 'bash scripts/gpu_deps.sh' on a machine with the Debian -dev packages and bring .gpu-deps along with the checkout)"
else
  log "  .gpu-deps: complete ($(du -sh .gpu-deps 2>/dev/null | cut -f1))"
fi

log "baselines (cuDNN, cuBLAS; searched, not assumed: scripts/gpu_find_libs.py):"
CUDNN_INCLUDE_DIR="" CUDNN_LIBRARY="" CUBLAS_INCLUDE_DIR="" CUBLAS_LIBRARY="" CUBLAS_IN_TOOLKIT=0 BASELINE_LIB_DIRS=""
if found=$(python3 scripts/gpu_find_libs.py 2>&1); then
  grep '^# ' <<<"$found" | sed 's/^# /  /' | tee -a "$LOG"
  eval "$(grep -v '^#' <<<"$found")"
else
  log "  search failed: $found"
fi
if [ -n "$BASELINE_LIB_DIRS" ]; then export LD_LIBRARY_PATH="$BASELINE_LIB_DIRS:${LD_LIBRARY_PATH:-}"; fi
export LD_LIBRARY_PATH="$PWD/.gpu-deps/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}"
if python3 -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('torch') is None)" 2>/dev/null; then
  log "  PyTorch: installed (the eager reference step)"
else
  log "  PyTorch: not installed (the eager reference step will say so)"
fi

if ((dry_run)); then
  log "dry run: nothing built or run.$( ((${#missing[@]})) && echo " Missing tools: ${missing[*]}.")$( ((have_gpu)) || echo " No GPU here: a real run would build and skip the GPU steps.")"
  ((plan_ok)) || { log "dry run: the plan does not fit (see above)"; exit 1; }
  exit 0
fi
((plan_ok)) || { log "the plan does not fit its budget: fix scripts/gpu_plan.tsv"; exit 1; }

# ---- configure and build the tests ---------------------------------------------------------------------
T="$BUILD_DIR/radius_tests"
cmake_args=(-S . -B "$BUILD_DIR" -G Ninja -DRADIUS_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 -DCMAKE_BUILD_TYPE=Release
            -DCMAKE_PREFIX_PATH="$PWD/.gpu-deps" -DCMAKE_POLICY_VERSION_MINIMUM=3.5)
[ -n "$CUDNN_LIBRARY" ] && cmake_args+=(-DCUDNN_INCLUDE_DIR="$CUDNN_INCLUDE_DIR" -DCUDNN_LIBRARY="$CUDNN_LIBRARY")
[ -n "$CUBLAS_LIBRARY" ] && [ "$CUBLAS_IN_TOOLKIT" != 1 ] &&
  cmake_args+=(-DCUBLAS_INCLUDE_DIR="$CUBLAS_INCLUDE_DIR" -DCUBLAS_LIBRARY="$CUBLAS_LIBRARY")
run_step configure cmake "${cmake_args[@]}"
run_step "build tests" cmake --build "$BUILD_DIR" -j "$(nproc)" --target radius_tests

# ---- the CUDA tests: they must run here, not skip -----------------------------------------------------------
if [ -x "$T" ]; then
  run_step "cuda tests" "$T" -tc="cuda:*"
  if ((have_gpu)) && grep -q "no CUDA device: skipped" "$STEP_OUTPUT"; then
    log "CUDA tests SKIPPED on a GPU machine: the runtime saw no device"
    fail_step "cuda tests" "skipped although a GPU is present"
  fi
else
  skip_step "cuda tests" "no test binary (build failed)"
fi

# ---- compute-sanitizer, small sizes, before any benchmark ----------------------------------------------------
# The test suite "provokes-cuda-errors" makes CUDA fail on purpose: left out.
# memcheck and initcheck run with exact allocations, so an overrun past a
# tensor's end is past the allocation's end (tensor/device_allocator.h).
SHARED_MEMORY_TESTS="cuda: SGEMM*,cuda: conv2d*,cuda: dense*,cuda: BCE*,cuda: moments*,cuda: augment*,cuda: max and average*,cuda: batchnorm2d*"
sanitize() {  # sanitize TOOL TEST_FILTER [ENV...]
  local tool=$1 filter=$2 report="$WORK/sanitizer.$1.log"
  shift 2
  : >"$report"
  run_step "$tool" env RADIUS_TEST_SMALL=1 "$@" compute-sanitizer --tool "$tool" --error-exitcode 9 \
    --log-file "$report" "$T" -tc="$filter" -tse="provokes-cuda-errors"
  local rc=$?
  if [ -s "$report" ]; then
    { echo "### $tool"; cat "$report"; } >>"$OUT/sanitizer.log"
    grep -E "SUMMARY" "$report" | tee -a "$LOG"
  fi
  if grep -q "^$tool"$'\t'"OK" "$STEPS" && ! sanitizer_clean "$report"; then
    fail_step "$tool" "no clean summary in the report"
  fi
  rm -f "$report"
  return $rc
}
can_sanitize=0
if ((have_gpu)) && [ -x "$T" ] && command -v compute-sanitizer >/dev/null; then can_sanitize=1; fi
: >"$OUT/sanitizer.log"
for tool in memcheck racecheck synccheck initcheck; do
  if ((!can_sanitize)); then
    skip_step "$tool" "$( ((have_gpu)) || echo 'no GPU')$( [ -x "$T" ] || echo ' no test binary')$(command -v compute-sanitizer >/dev/null || echo ' no compute-sanitizer')"
    continue
  fi
  case $tool in
    memcheck) sanitize memcheck "cuda:*" RADIUS_CUDA_EXACT_ALLOC=1 ;;
    racecheck) sanitize racecheck "$SHARED_MEMORY_TESTS" ;;
    synccheck) sanitize synccheck "$SHARED_MEMORY_TESTS" ;;
    initcheck) sanitize initcheck "cuda:*" RADIUS_CUDA_EXACT_ALLOC=1 ;;
  esac
done
[ -s "$OUT/sanitizer.log" ] || rm -f "$OUT/sanitizer.log"

# ---- benchmarks: built separately, so a missing baseline never stops the tests -------------------------------------
have_target() { [ -f "$BUILD_DIR/build.ninja" ] && grep -qE "^build $1(:| )" "$BUILD_DIR/build.ninja"; }
bench_targets=()
for t in bench_cuda_kernels bench_cuda_train_step sgemm_playground; do
  if have_target "$t"; then bench_targets+=("$t"); else log "target $t: not configured (see the configure step's output)"; fi
done
if ((have_gpu)) && ((${#bench_targets[@]})); then
  run_step "build benchmarks" cmake --build "$BUILD_DIR" -j "$(nproc)" --target "${bench_targets[@]}"
else
  skip_step "build benchmarks" "$( ((have_gpu)) && echo 'no benchmark target configured' || echo 'no GPU')"
fi
bench() {  # bench STEP BINARY ARGS...: runs BINARY if it was built
  local name=$1 bin="$BUILD_DIR/$2"
  shift 2
  if ((!have_gpu)); then skip_step "$name" "no GPU"; return; fi
  if [ ! -x "$bin" ]; then skip_step "$name" "$(basename "$bin") not built"; return; fi
  run_step "$name" "$bin" "$@"
}
bench "bench kernels" bench_cuda_kernels --benchmark_min_time=0.1 --benchmark_repetitions=3 \
  --benchmark_report_aggregates_only=true --benchmark_out="$OUT/bench_kernels.json" --benchmark_out_format=json
bench "bench train step" bench_cuda_train_step --benchmark_repetitions=3 \
  --benchmark_report_aggregates_only=true --benchmark_out="$OUT/bench_train_step.json" --benchmark_out_format=json
if ((have_gpu)); then
  run_step "pytorch eager step" env PYTHONUNBUFFERED=1 python3 scripts/torch_step.py --out "$OUT/torch_step.json"
else
  skip_step "pytorch eager step" "no GPU"
fi
if ((have_gpu)) && [ -x "$BUILD_DIR/sgemm_playground" ]; then
  # --copy: the playground's own exit status is the step's (no pipe inside the step).
  run_step --copy "$OUT/playground.txt" "sgemm playground" "$BUILD_DIR/sgemm_playground" 4096 512 10
else
  skip_step "sgemm playground" "$( ((have_gpu)) && echo 'sgemm_playground not built' || echo 'no GPU')"
fi
# The op playgrounds (kernels/playground/*_playground.cu): their library was built with the
# tests; here the executables are linked, then each runs its checks and a short timing at
# small sizes (batch 8, 5 repeats). Last, because their output is appended to playground.txt,
# which the SGEMM step writes; optional, so it runs only on spare time.
op_playgrounds=()
for t in conv2d_forward_playground conv2d_backward_filter_playground maxpool_playground reduce_playground adam_playground; do
  have_target "$t" && op_playgrounds+=("$t")
done
if ((have_gpu)) && ((${#op_playgrounds[@]})); then
  run_step --copy "$WORK/op_playgrounds.txt" "op playgrounds" bash -c '
    dir=$1; shift
    cmake --build "$dir" -j "$(nproc)" --target "$@" || exit 1
    rc=0
    for p in "$@"; do
      echo "### $p"
      case $p in reduce_playground | adam_playground) "$dir/$p" 1000000 5 ;; *) "$dir/$p" 8 5 ;; esac || rc=1
    done
    exit $rc' _ "$BUILD_DIR" "${op_playgrounds[@]}"
  { echo "### op playgrounds"; cat "$WORK/op_playgrounds.txt"; } >>"$OUT/playground.txt"
else
  skip_step "op playgrounds" "$( ((have_gpu)) && echo 'no op playground configured' || echo 'no GPU')"
fi

# ---- the summary, last ------------------------------------------------------------------------------------------
failed=0
grep -q $'\tFAILED\t' "$STEPS" && failed=1
record "total" "$([ $failed = 0 ] && echo OK || echo FAILED)" "$((SECONDS - START))" "budget ${BUDGET} s"
python3 scripts/gpu_summary.py "$OUT" --steps "$STEPS" --write "$OUT/summary.txt" 2>&1 | tee -a "$LOG"
rm -f "$STEPS"
if ((!have_gpu)); then
  echo "gpu_check: no GPU here, so this was NOT a GPU check (built and listed what a GPU would run)"
  exit 2
fi
exit $failed
