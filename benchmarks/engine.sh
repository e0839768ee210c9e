#!/usr/bin/env bash
# Tensor engine convolution forward+backward against PyTorch CPU (see benchmarks/engine.py).
# Needs PyTorch in python3 (pip install torch, or Debian's python3-torch with /usr/bin/python3).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release --product sono-bench >/dev/null
python3 benchmarks/engine.py "$(swift build -c release --show-bin-path)/sono-bench" "${1:-2}"
