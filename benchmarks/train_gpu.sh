#!/usr/bin/env bash
# Issue 16's GPU check: the PyTorch trainer on SonoDual shards vs random tensors (benchmarks/train_gpu.py).
#   bash benchmarks/train_gpu.sh make DIR [RECORDS=200]   # where Swift is built: synthetic 2 s clip shards (~55 MB for 200)
#   bash benchmarks/train_gpu.sh run DIR [ARGS...]        # on the GPU machine: full model, bf16, batch 64, 8 workers
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  make)
    swift build -c release --product sono-bench >/dev/null
    rm -rf "$2"; mkdir -p "$2"
    "$(swift build -c release --show-bin-path)/sono-bench" shards --catalog "$2/c.sqlite" --root "$2/ds" --name clip2s \
      --records "${3:-200}" --layout clip2s --shard-mib 16 --seed 1 --scans 8 >/dev/null
    du -sh "$2" ;;
  run)
    dir="$2"; shift 2
    python3 benchmarks/train_gpu.py "$dir/c.sqlite" clip2s --size full --batch 64 --workers 8 --bf16 "$@" ;;
  *) echo "usage: $0 make DIR [RECORDS] | run DIR [ARGS...]" >&2; exit 1 ;;
esac
