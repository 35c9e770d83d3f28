#!/usr/bin/env bash
# The main job: install dependencies, build, generate the built-in synthetic
# fracture data set, train the seed paper's model on it, evaluate on the test
# split and write the report (runs/main/report.html).
#   bash scripts/main.sh [extra radius train options...]   e.g. --epochs 8 --threads 4
# Environment: RADIUS_DATA (default data/synth-main), RADIUS_RUN (default runs/main).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh build

data=${RADIUS_DATA:-data/synth-main}
run=${RADIUS_RUN:-runs/main}
if [ ! -d "$data/train" ]; then
  # Small enough to train in a few minutes on 2 CPU cores (the paper model trains at
  # about 15 images/s there): 480 train, 120 val, 200 test images.
  ./build/radius synth --out "$data" --train 480 --val 120 --test 200 --seed 1
fi
rm -rf "$run"
start=$(date +%s)
# The paper's recipe (paper.spec, 150x150x3, batch 32, Adam in Keras' form, the paper's
# augmentation on train, early stopping on val loss) for a few epochs. See README
# ("The main job") for the learning rate chosen for this small demo.
./build/radius train "$data" --out "$run" --epochs 6 --patience 3 --lr 1e-3 "$@"
echo "== main job: $(( $(date +%s) - start )) s; report: $run/report.html"
