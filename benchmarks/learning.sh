#!/usr/bin/env bash
# Issue 14's learning check at the scale this machine allows: a short pretraining of the tiny
# model on labelled sample recordings, then validation retrieval and the frozen probe against
# random initialisation (Tests/SonoTrainTests/LearningTests.swift), in a release build.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release --build-tests -Xswiftc -enable-testing >/dev/null
SONO_LEARNING_PROBE="${SONO_LEARNING_PROBE:-0}" \
  swift test -c release --skip-build --disable-swift-testing -Xswiftc -enable-testing --filter LearningTests
