#!/usr/bin/env bash
# The main job: install dependencies, build, generate the built-in synthetic
# fracture data set, train the seed paper's model on it, evaluate on the test
# split and write the report (runs/main/report.html).
#   bash scripts/main.sh [extra radius train options...]   e.g. --epochs 20 --threads 4
# Environment: RADIUS_DATA (default data-synth/main), RADIUS_RUN (default runs/main).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh build

data=${RADIUS_DATA:-data-synth/main}
run=${RADIUS_RUN:-runs/main}
if [ ! -d "$data/train" ]; then
  # Small enough to train in a few minutes on 2 CPU cores (the paper model trains at
  # about 10-15 images/s there): 480 train, 120 val, 200 test images, balanced.
  ./build/radius synth --out "$data" --train 480 --val 120 --test 200 --seed 1
fi
rm -rf "$run"
start=$(date +%s)
# The paper's recipe (paper.spec, 150x150x3, batch 32, Adam in Keras' form, the paper's
# augmentation on train, early stopping on val loss) for 5 epochs, at lr 3e-4: at the
# paper's 1e-3 the model collapses to a constant output on this data within 2 epochs
# (loss ln 2). Measured (README, "The main job"): 5 epochs are NOT enough for the model
# to learn this synthetic task; the run demonstrates the pipeline and its report.
./build/radius train "$data" --out "$run" --epochs 5 --patience 3 --lr 3e-4 "$@"
echo "== main job: training + evaluation took $(( $(date +%s) - start )) s; report: $run/report.html"
echo "== note: on this synthetic data the paper model stays near chance within the demo's 5 epochs"
echo "   (see README, 'The main job'); longer runs: bash scripts/main.sh --epochs 50 --patience 5"
