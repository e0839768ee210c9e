#!/usr/bin/env bash
# Python shard reader records/s per process against a copy of the same bytes (benchmarks/python_reader.py).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release --product sono-bench >/dev/null
python3 benchmarks/python_reader.py "$(swift build -c release --show-bin-path)" "${1:-400}"
