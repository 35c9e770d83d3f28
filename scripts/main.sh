#!/usr/bin/env bash
# The main job: install dependencies, build, and run Radius end to end.
#   bash scripts/main.sh [radius demo options...]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh build
./build/radius demo "$@"
