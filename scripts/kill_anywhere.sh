#!/usr/bin/env bash
# Kill anywhere, finish the same: trains the tiny model while SIGKILLing it at N random
# moments (default 20; CI's test suite runs 3), resuming after each, and checks that the
# finished run's weights, history (but its wall times), health.csv and predictions are
# bit-identical to an uninterrupted run of the same seed.
#   bash scripts/kill_anywhere.sh [N] [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
RADIUS_KILLS=${1:-20} "${2:-build}/radius_tests" -tc="crash safety: killed anywhere*" -s 2>&1 | grep -E "MESSAGE|Status|ERROR"
