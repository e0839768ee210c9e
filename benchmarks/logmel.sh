#!/usr/bin/env bash
# Log-mel throughput against librosa on the same 10-minute signal (see benchmarks/logmel.py).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release --product sono-bench >/dev/null
python3 benchmarks/logmel.py "$(swift build -c release --show-bin-path)/sono-bench" "${1:-10}"
