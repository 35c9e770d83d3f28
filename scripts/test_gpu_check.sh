#!/usr/bin/env bash
# Tests the CPU-side parts of the GPU check here, where there is no GPU:
#  1. scripts/gpu_deps.sh builds .gpu-deps;
#  2. CMake configures from .gpu-deps alone: /usr is taken away from every
#     find_package/find_library/find_path (CMAKE_IGNORE_PREFIX_PATH), and each
#     dependency must then resolve inside .gpu-deps;
#  3. scripts/gpu_check.sh, run with a fake OUT, degrades cleanly without a GPU:
#     says so, still builds and runs the CUDA tests (they skip), skips every GPU
#     step with its reason, writes its summary, exits 2.
# The fast checks (plan, summary, library search, step status) are in
# scripts/test_gpu_scripts.py (ctest); this one builds, so it is run by hand.
#
#   bash scripts/test_gpu_check.sh [BUILD_DIR]   # BUILD_DIR: an existing CUDA build to reuse (default build)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/cuda/bin:$PATH"
build=${1:-build}
fail() { echo "test_gpu_check: FAIL: $*" >&2; exit 1; }

echo "== 1. gpu_deps.sh"
bash scripts/gpu_deps.sh
[ -f .gpu-deps/include/eigen3/Eigen/Core ] || fail "no Eigen in .gpu-deps"
size_kb=$(du -sk .gpu-deps | cut -f1)
((size_kb < 40000)) || fail ".gpu-deps is ${size_kb} KB: too much to bring along (keep it well under 64 MiB)"

echo "== 2. configure from .gpu-deps with /usr hidden"
cfg=$(mktemp -d)
trap 'rm -rf "$cfg"' EXIT
cmake -S . -B "$cfg" -G Ninja -DRADIUS_CUDA=ON -DCMAKE_PREFIX_PATH="$PWD/.gpu-deps" -DCMAKE_IGNORE_PREFIX_PATH=/usr \
  -DCUDNN_ROOT="$PWD/.gpu-deps/cudnn" >"$cfg/configure.log" 2>&1 || { cat "$cfg/configure.log"; fail "configure"; }
for var in Eigen3_DIR doctest_DIR CLI11_DIR nlohmann_json_DIR benchmark_DIR PNG_LIBRARY_RELEASE PNG_PNG_INCLUDE_DIR \
           JPEG_LIBRARY_RELEASE JPEG_INCLUDE_DIR ZLIB_LIBRARY_RELEASE ZLIB_INCLUDE_DIR CSV_LIBRARY CSV_INCLUDE_DIR; do
  value=$(grep -E "^$var:" "$cfg/CMakeCache.txt" | cut -d= -f2-)
  case "$value" in
    "$PWD/.gpu-deps"/*) echo "   $var = ${value#$PWD/}" ;;
    *) fail "$var resolved outside .gpu-deps: '$value'" ;;
  esac
done

echo "== 3. gpu_check.sh without a GPU, fake OUT, reusing $build"
out=$(mktemp -d)
set +e
OUT="$out" BUILD_DIR="$build" bash scripts/gpu_check.sh >"$cfg/check.out" 2>&1
rc=$?
set -e
tail -30 "$cfg/check.out"
((rc == 2)) || fail "gpu_check.sh exited $rc without a GPU (expected 2)"
grep -q "GPU: none visible" "$out/gpu_check.log" || fail "no clear no-GPU message"
grep -q "NOT a GPU check" "$cfg/check.out" || fail "no final no-GPU line"
[ -s "$out/summary.txt" ] || fail "no summary.txt"
grep -q "GPU CHECK SUMMARY" "$cfg/check.out" || fail "summary not printed"
grep -qE "^cuda tests +OK" "$out/summary.txt" || fail "cuda tests step did not pass (skipping) without a GPU"
for step in memcheck racecheck "bench kernels" "pytorch eager step" "sgemm playground"; do
  grep -qE "^$step +SKIPPED +0 +no GPU" "$out/summary.txt" || fail "step '$step' not SKIPPED for want of a GPU"
done
grep -qE "^plan check: OK" "$out/gpu_check.log" || fail "no plan check"
n=$(find "$out" -type f | wc -l)
((n <= 8)) || fail "$n files under OUT (a remote run returns at most 8)"
echo "test_gpu_check: OK ($n files under a fake OUT; exit 2 = not a GPU check, as intended)"
rm -rf "$out"
