#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/fuzz_*.cpp) in build-fuzz and runs each for
# SECONDS_PER_TARGET seconds (default 20), or for FUZZ_RUNS executions, from its seeds,
# one after the other, and writes a table (build-fuzz/fuzz_summary.txt): executions,
# exec/s, coverage (edges and features), corpus size, result.
#   bash scripts/fuzz.sh              # CI smoke: 20 s per target
#   nice -n 10 bash scripts/fuzz.sh 300  # 5 minutes per target
#   FUZZ_RUNS=10000000 nice -n 19 bash scripts/fuzz.sh   # the campaign: 10 million executions each
#   FUZZ_TARGETS="png jpeg" bash scripts/fuzz.sh 60   # some targets only
#   FUZZ_TIMEOUT=30 ...                               # seconds one input may take (default 10): more on a
#                                                     # machine shared with builds, where nice 19 starves it
#   FUZZ_KEEP=1 FUZZ_RUNS=0 bash scripts/fuzz.sh      # keep what the runs reached in the tree (below)
# Corpora: tests/fuzz/corpus/<target>/ (committed seeds, read only) and
# tests/fuzz/regressions/<target>/ (kept crash inputs) feed build-fuzz/corpus/<target>/,
# which keeps what the fuzzer finds between runs. A crash leaves its input in
# build-fuzz/findings/<target>/ and makes the script exit non-zero. Invocations may run side by
# side on different targets (FUZZ_TARGETS); a target being fuzzed is skipped.
# FUZZ_KEEP=1: after a target's run without a finding, the inputs of build-fuzz/corpus/<target>/
# that reach code the committed corpus does not (libFuzzer's -merge=1 on edges alone,
# -use_counters=0: a minimal set, each cut to 8 KB) are copied into tests/fuzz/corpus/<target>/,
# so the tree keeps a small corpus covering what the runs reached; the test suite replays it.
# Needs clang and its fuzzer runtime (Debian: clang, libclang-rt-dev or libclang-rt-14-dev).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
build=build-fuzz
start=$SECONDS

# clang and its fuzzer runtime, from Debian, when missing (as scripts/bootstrap.sh does).
if ! command -v "${FUZZ_CXX:-clang++}" >/dev/null || ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
  echo "== installing clang libclang-rt-dev"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends clang libclang-rt-dev
fi

if [ ! -f "$build/build.ninja" ]; then
  cmake -S . -B "$build" -G Ninja -DRADIUS_FUZZ=ON -DRADIUS_CUDA=OFF -DCMAKE_BUILD_TYPE=Debug \
        -DCMAKE_CXX_COMPILER="${FUZZ_CXX:-clang++}" >"$build.configure.log" 2>&1 || { cat "$build.configure.log"; exit 1; }
fi
echo "== building the fuzz targets ($build)"
# One build at a time in the folder (two ninjas in one build tree race); a second
# invocation waits for the first's build, then reuses it.
flock "$build/build.lock" cmake --build "$build" -j "$(nproc)" | tail -1
echo "== build done after $((SECONDS - start)) s"

targets=${FUZZ_TARGETS:-$(cd tests/fuzz && ls fuzz_*.cpp | sed 's/^fuzz_//; s/\.cpp$//')}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=()
budget=(-max_total_time="$seconds")
[ -n "${FUZZ_RUNS:-}" ] && budget=(-runs="$FUZZ_RUNS")
printf '%-12s %12s %8s %8s %8s %8s %7s  %s\n' target executions "exec/s" seconds edges features corpus result \
  > "$build/fuzz_summary.txt"
for t in $targets; do
  work="$build/corpus/$t" findings="$build/findings/$t/"
  mkdir -p "$work" "$findings"
  # One fuzzer per target at a time: two would share the log, the corpus folder and the
  # findings, and their counts would mix. Targets may run side by side in several
  # invocations (FUZZ_TARGETS=...); the lock goes with the process that holds it.
  exec 9>"$build/fuzz_$t.lock"
  if ! flock -n 9; then
    echo "== fuzz_$t: skipped, another scripts/fuzz.sh is fuzzing it ($build/fuzz_$t.lock)"
    printf '%-12s %12s %8s %8s %8s %8s %7s  %s\n' "$t" - - - - - - "skipped: fuzzed by another invocation" \
      | tee -a "$build/fuzz_summary.txt"
    continue
  fi
  dirs=("$work" "tests/fuzz/corpus/$t")
  [ -d "tests/fuzz/regressions/$t" ] && dirs+=("tests/fuzz/regressions/$t")
  dict=()
  [ -f "tests/fuzz/$t.dict" ] && dict=(-dict="tests/fuzz/$t.dict")
  if [ -n "${FUZZ_RUNS:-}" ]; then echo "== fuzz_$t for $FUZZ_RUNS executions"; else echo "== fuzz_$t for $seconds s"; fi
  log="$build/fuzz_$t.log"
  rc=0
  t0=$SECONDS
  "$build/fuzz_$t" "${budget[@]}" -timeout="${FUZZ_TIMEOUT:-10}" -rss_limit_mb=2560 -max_len=65536 \
      -print_final_stats=1 -artifact_prefix="$findings" "${dict[@]}" "${dirs[@]}" >"$log" 2>&1 || rc=$?
  execs=$(grep -oP 'stat::number_of_executed_units:\s*\K\d+' "$log" || echo "?")
  rate=$(grep -oP 'stat::average_exec_per_sec:\s*\K\d+' "$log" || echo "?")
  took=$((SECONDS - t0))
  # The last status line: "#N DONE cov: E ft: F corp: ..." (edges and features covered).
  edges=$(grep -oP '(DONE|pulse|NEW|REDUCE|INITED).*?cov: \K\d+' "$log" | tail -1 || echo "?")
  features=$(grep -oP '(DONE|pulse|NEW|REDUCE|INITED).*?ft: \K\d+' "$log" | tail -1 || echo "?")
  corpus=$(ls "$work" | wc -l)
  result=ok
  if [ "$rc" -ne 0 ]; then
    result="CRASH (rc $rc): $(ls "$findings" | head -3 | tr '\n' ' ')"
    failed+=("$t")
    grep -E "ERROR|runtime error|uncaught|SUMMARY" "$log" | head -5 || true
  fi
  printf '%-12s %12s %8s %8s %8s %8s %7s  %s\n' "$t" "$execs" "$rate" "$took" "${edges:-?}" "${features:-?}" "$corpus" \
    "$result" | tee -a "$build/fuzz_summary.txt"
  if [ -n "${FUZZ_KEEP:-}" ] && [ "$rc" -eq 0 ]; then
    kept="tests/fuzz/corpus/$t" before=$(ls "tests/fuzz/corpus/$t" | wc -l)
    "$build/fuzz_$t" -merge=1 -use_counters=0 -max_len=8192 -timeout="${FUZZ_TIMEOUT:-10}" -rss_limit_mb=2560 \
        "${dict[@]}" "$kept" "$work" >"$build/merge_$t.log" 2>&1 || echo "   merge failed: $build/merge_$t.log"
    echo "   kept $(($(ls "$kept" | wc -l) - before)) new inputs in $kept ($(cat "$kept"/* | wc -c) bytes in all)"
  fi
  exec 9>&-
done
echo "== fuzzing finished after $((SECONDS - start)) s (summary: $build/fuzz_summary.txt)"
cat "$build/fuzz_summary.txt"
if ((${#failed[@]})); then
  echo "crashes in: ${failed[*]} (inputs under $build/findings/; logs $build/fuzz_<target>.log)"
  exit 1
fi
