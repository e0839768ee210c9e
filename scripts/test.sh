#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build --build-tests
# Python reader of the shard format, against shards the Swift writer makes during the run.
SONODUAL_BIN="$(swift build --show-bin-path)" python3 -m pytest -q python/tests
# The learning check (LearningTests) takes minutes and its margin rests on one seed:
# benchmarks/learning.sh runs it (release) until its margins come from several seeds.
swift test --skip-build --disable-swift-testing --skip LearningTests
