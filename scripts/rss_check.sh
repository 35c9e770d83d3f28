#!/usr/bin/env bash
# No growth under long load: resident memory (VmRSS) of `radius predict` over IMAGES
# images (the folder given 5 times: 5 x IMAGES predictions) and of `radius train` over
# EPOCHS epochs, sampled every 0.05 s, reported after start-up (the first sample past 10 %
# of the run), half-way, at 90 %, at exit and at the peak. The growth reported is 90 %
# vs 10 %: what the steady work adds (train's exit includes its test evaluation and
# report; predict keeps every result for its output file, about 330 bytes each).
#   bash scripts/rss_check.sh [IMAGES=20000] [EPOCHS=10] [BUILD_DIR=build]
# The model is models/tiny.spec (32x32 inputs) on small synthetic radiographs, so the
# run takes minutes; what is measured is the program's bookkeeping, not the model's size.
set -euo pipefail
cd "$(dirname "$0")/.."
images=${1:-20000}
epochs=${2:-10}
radius="$(realpath "${3:-build}")/radius"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Samples the VmRSS of pid $1 (kB) into file $2 until the process ends.
sample_rss() {
  while kill -0 "$1" 2>/dev/null; do
    awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null >>"$2" || true
    sleep 0.05
  done
}

# Runs a radius command in the background, samples it, prints one table row.
measure() {
  local name=$1
  shift
  local log="$work/$name.log" rss="$work/$name.rss"
  : >"$rss"
  local start=$SECONDS
  "$radius" "$@" >"$log" 2>&1 &
  local pid=$!
  sample_rss "$pid" "$rss"
  wait "$pid" || { echo "$name failed:"; tail -5 "$log"; exit 1; }
  local n
  n=$(wc -l <"$rss")
  ((n > 0)) || { echo "$name: no samples"; exit 1; }
  local first half late last peak
  first=$(sed -n "$((n / 10 + 1))p" "$rss")
  half=$(sed -n "$((n / 2 + 1))p" "$rss")
  late=$(sed -n "$((n * 9 / 10 + 1))p" "$rss")
  last=$(tail -1 "$rss")
  peak=$(sort -n "$rss" | tail -1)
  mb() { echo "$1 / 1000" | bc -l; }
  printf '| %s | %d s | %d | %.1f MB | %.1f MB | %.1f MB | %.1f MB | %.1f MB | %+.1f %% |\n' "$name" \
    $((SECONDS - start)) "$n" "$(mb "$first")" "$(mb "$half")" "$(mb "$late")" "$(mb "$last")" "$(mb "$peak")" \
    "$(echo "($late - $first) * 100 / $first" | bc -l)"
}

echo "== data: $images synthetic radiographs (40-64 px) in $work/data"
"$radius" synth --out "$work/data" --count "$images" --min-side 40 --max-side 64 --model-side 32 --seed 4 >/dev/null
echo "== measuring (machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GB", $2 / 1e6}' /proc/meminfo) memory)"
echo "| run | time | samples | RSS at 10 % | 50 % | 90 % | at exit | peak | 90 % vs 10 % |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
measure "train, $epochs epochs of $((images * 8 / 10)) images" train "$work/data" --model models/tiny.spec \
  --epochs "$epochs" --patience 0 --batch 32 --threads 1 --quiet --out "$work/run"
measure "predict, 5 x $images images" predict "$work/run" "$work/data" "$work/data" "$work/data" "$work/data" \
  "$work/data" --batch 64 --threads 1 -q --out "$work/p.csv"
rows=$(($(wc -l <"$work/p.csv") - 1))
echo "predict wrote $rows rows"
