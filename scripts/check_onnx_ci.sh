#!/usr/bin/env bash
# CI's ONNX check: a small synthetic run of models/tiny.spec exported to ONNX and run
# in onnxruntime beside `radius predict` (scripts/check_onnx.py). Python lives in a
# dev virtualenv only; where it cannot be made (no network, no venv module), the
# check says so and is skipped: Radius itself never needs it.
#   bash scripts/check_onnx_ci.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
venv=build-dev-venv
if ! { [ -x $venv/bin/python ] || python3 -m venv $venv; } ||
   ! $venv/bin/pip install -q onnxruntime numpy pillow; then
  echo "check_onnx_ci: skipped: the virtualenv with onnxruntime could not be made"
  exit 0
fi
work=$build/ci-onnx
rm -rf "$work"
"$build/radius" synth --out "$work/data" --count 200 --seed 1 > /dev/null
"$build/radius" train "$work/data" --out "$work/run" --model models/tiny.spec --epochs 2 --patience 0 -q > /dev/null
$venv/bin/python scripts/check_onnx.py "$work/run" "$work/data/test" --radius "$build/radius"
