#!/usr/bin/env bash
# The main job: install dependencies, build, generate the built-in synthetic
# fracture data set, train the advised recipe's model on it (scripts/main_recipe.sh),
# evaluate on the test split and write the report (runs/main/report.html).
#   bash scripts/main.sh [extra radius train options...]   e.g. --epochs 20 --threads 4
# Environment: RADIUS_DATA (default data-synth/main), RADIUS_RUN (default runs/main).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh build

source scripts/main_recipe.sh
data=${RADIUS_DATA:-data-synth/main}
run=${RADIUS_RUN:-runs/main}
prepare_main_data "$data" "$([ -n "${RADIUS_DATA:-}" ] && echo 1 || echo 0)"
start=$(date +%s)
# The recipe: scripts/main_recipe.sh.
mapfile -t args < <(recipe_with "$@")
# --overwrite: a new main job replaces the last one (never a folder that is not a run).
./build/radius train "$data" --out "$run" --overwrite "${args[@]}"
echo "== main job: training + evaluation took $(( $(date +%s) - start )) s; report: $run/report.html"
