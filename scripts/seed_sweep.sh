#!/usr/bin/env bash
# The main job's recipe at several seeds, and the table that says whether it learns
# every time: the step at which each run left the class prior, its best validation
# accuracy, the test accuracy and MCC, the hairline fractures found, and the time.
#   bash scripts/seed_sweep.sh                       # seeds 1 2 3 4 5
#   bash scripts/seed_sweep.sh 1 2 3 -- --epochs 10  # some seeds, extra `radius train` options
# Runs go to runs/sweep/seed-N (RADIUS_SWEEP_DIR); RADIUS_SWEEP_PARALLEL runs at a time
# (default: one per 2 cores), each on cores / parallel threads. Results do not depend on
# the thread count (README, "Determinism"), so running them side by side changes no
# number. The table is printed and written to runs/sweep/sweep.md.
set -euo pipefail
cd "$(dirname "$0")/.."

seeds=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do seeds+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
[ ${#seeds[@]} -eq 0 ] && seeds=(1 2 3 4 5)

bash scripts/bootstrap.sh build
source scripts/main_recipe.sh
data=${RADIUS_DATA:-data-synth/main}
prepare_main_data "$data" "$([ -n "${RADIUS_DATA:-}" ] && echo 1 || echo 0)"

out=${RADIUS_SWEEP_DIR:-runs/sweep}
cores=$(nproc)
parallel=${RADIUS_SWEEP_PARALLEL:-$(( cores / 2 > 0 ? cores / 2 : 1 ))}
threads=$(( cores / parallel > 0 ? cores / parallel : 1 ))
mkdir -p "$out"
echo "== ${#seeds[@]} seeds, $parallel at a time, $threads threads each: $out/seed-N"

train_one() {  # train_one SEED [extra options...]
  local seed=$1 run="$out/seed-$1"
  shift
  local args
  mapfile -t args < <(recipe_with "$@")
  local start=$SECONDS
  if ./build/radius train "$data" --out "$run" --overwrite "${args[@]}" --seed "$seed" --threads "$threads" --quiet > "$out/seed-$seed.log" 2>&1; then
    echo $(( SECONDS - start )) > "$run/sweep-seconds"
    echo "   seed $seed: done in $(( SECONDS - start )) s"
  else
    echo "   seed $seed: FAILED (see $out/seed-$seed.log)"
  fi
}

running=0
for seed in "${seeds[@]}"; do
  train_one "$seed" "$@" &
  running=$(( running + 1 ))
  if [ "$running" -ge "$parallel" ]; then wait -n; running=$(( running - 1 )); fi
done
wait

python3 scripts/sweep_table.py "$out" "${seeds[@]}" | tee "$out/sweep.md"
