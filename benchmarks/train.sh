#!/usr/bin/env bash
# One training step (forward + backward + Adam) of the tiny and the full dual model at batch 8
# (Swift's release sono-train) against PyTorch CPU, same threads and inputs: step time and
# peak RSS with the Swift/PyTorch ratios (see benchmarks/train.py). Usage: benchmarks/train.sh [THREADS=2]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release --product sono-train >/dev/null
swift build -c release --product sono-bench >/dev/null
python3 benchmarks/train.py "$(swift build -c release --show-bin-path)" "${1:-2}"
