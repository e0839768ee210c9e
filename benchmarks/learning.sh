#!/usr/bin/env bash
# Issue 14's learning check at the scale this machine allows, in a release build:
#   1. LearningTests (Tests/SonoTrainTests/LearningTests.swift: a short pretraining must lift the
#      frozen probe above random initialisation and validation retrieval above chance);
#   2. learning curves (benchmarks/learning.py): the frozen image probe and validation retrieval
#      against steps, for the paper's objective and the learning run (data-manifests/runs/learning.toml),
#      against random initialisation; `--config defaults` adds sono-train's defaults, `--seeds 0,1` a run per seed.
# Usage: benchmarks/learning.sh [WORK=/tmp/sonodual-learning] [learning.py options…]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release --build-tests -Xswiftc -enable-testing >/dev/null
swift test -c release --skip-build --disable-swift-testing -Xswiftc -enable-testing --filter LearningTests
work="${1:-/tmp/sonodual-learning}"
shift || true
python3 benchmarks/learning.py "$(swift build -c release --show-bin-path)" "$work" "$@"
