#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build --build-tests
# Python reader of the shard format, against shards the Swift writer makes during the run.
SONODUAL_BIN="$(swift build --show-bin-path)" python3 -m pytest -q python/tests
# Every test but the learning check, in the debug build.
swift test --skip-build --disable-swift-testing --skip LearningTests
# The learning check (LearningTests: a real pretraining and probe, issue 14) in a release build,
# where it takes about 25 minutes on 2 cores instead of hours.
swift build -c release --build-tests -Xswiftc -enable-testing
swift test -c release --skip-build --disable-swift-testing -Xswiftc -enable-testing --filter LearningTests
