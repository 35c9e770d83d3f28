#!/usr/bin/env bash
# Data-parallel scaling on this machine (docs/scaling.md): the paper model trained on
# synthetic radiographs, one process against 2 MPI ranks, the same global batch.
#   bash scripts/scaling_bench.sh [BUILD_DIR] [TRAIN_IMAGES] [EPOCHS]
# Runs (each prints images/s over the training epochs, validation excluded):
#   1 process, 2 threads                     the ordinary run
#   1 process, 2 threads, --micro-batches 2  the computation 2 ranks do, in one process
#   2 ranks (mpirun), 1 thread each          data parallel: the all-reduce's share is printed by rank 0
# Needs a build with -DRADIUS_MPI=ON and mpirun (Debian: openmpi-bin).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
images=${2:-192}
epochs=${3:-2}
radius="$PWD/$build/radius"
[ -x "$radius" ] || { echo "no $radius: build first" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

"$radius" synth --out "$work/data" --train "$images" --val 32 --test 0 --seed 3 >/dev/null
recipe=(--epochs "$epochs" --batch 32 --quiet --health-every 0)

# images/s: training images x epochs / the epochs' seconds (validation included: it is sharded too).
rate() {  # RUN_DIR
  python3 - "$1" "$images" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1] + "/history.csv")))
seconds = sum(float(r["seconds"]) for r in rows)
print(f"{int(sys.argv[2]) * len(rows) / seconds:.1f} images/s ({seconds:.1f} s for {len(rows)} epochs, validation included)")
PY
}

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $(date -u +%Y-%m-%d)"
echo "data: $images training images (+32 validation), paper.spec (150x150), batch 32, $epochs epochs"
"$radius" train "$work/data" "${recipe[@]}" --threads 2 --out "$work/one" >"$work/one.log"
echo "1 process, 2 threads:                     $(rate "$work/one")"
"$radius" train "$work/data" "${recipe[@]}" --threads 2 --micro-batches 2 --out "$work/micro" >"$work/micro.log"
echo "1 process, 2 threads, --micro-batches 2:  $(rate "$work/micro")"
mpirun -n 2 --oversubscribe --bind-to none "$radius" train "$work/data" "${recipe[@]}" --threads 1 \
  --out "$work/two" >"$work/two.log"
echo "2 ranks x 1 thread (mpirun -n 2):         $(rate "$work/two")"
grep "data parallel" "$work/two.log" | sed 's/^/  /'
