#!/usr/bin/env bash
# Issue 14's learning check at the scale this machine allows (benchmarks/learning.py): learning
# curves of the frozen image probe and validation retrieval against steps, for the paper's
# objective and the defaults, against random initialisation. Release build.
# Usage: benchmarks/learning.sh [WORK=/tmp/sonodual-learning] [learning.py options…]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release >/dev/null
work="${1:-/tmp/sonodual-learning}"
shift || true
python3 benchmarks/learning.py "$(swift build -c release --show-bin-path)" "$work" "$@"
