#!/usr/bin/env bash
# Builds Radius and runs the whole test suite (doctest cases through ctest).
#   bash scripts/test.sh            # release build in build/
#   bash scripts/test.sh build-asan -DRADIUS_SANITIZE=ON -DRADIUS_BUILD_BENCH=OFF
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}
bash scripts/bootstrap.sh "$@"
ctest --test-dir "$build_dir" -j "$(nproc)" --output-on-failure --timeout 600
