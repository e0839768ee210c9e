#!/usr/bin/env bash
# Benchmark (issue 6): clips/s and GB/s of Float32 batches from the page cache with 1 and 2
# worker threads, the time to the first batch, and memcpy of the same record bytes.
# Usage: benchmarks/loader.sh [RECORDS=2000]
set -euo pipefail
cd "$(dirname "$0")/.."
RECORDS="${1:-2000}"
bash scripts/setup.sh
swift build -c release --product sono-bench >/dev/null
BIN="$(swift build -c release --show-bin-path)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/sonodual-loader.XXXXXX")"; trap 'rm -rf "$WORK"' EXIT
"$BIN/sono-bench" shards --catalog "$WORK/c.sqlite" --root "$WORK/ds" --records "$RECORDS" --layout clip2s --pool 16 --name large >/dev/null
cat "$WORK"/ds/*.shard > /dev/null
"$BIN/sono-bench" loader --catalog "$WORK/c.sqlite" --dataset large --batch-size 32 | python3 -c '
import json, sys
r = json.loads(sys.stdin.read())
for w in (1, 2):
    x = r["workers_%d" % w]
    print("%d worker(s): %8.0f clips/s (2 s clips), batches %.2f GB/s float32, records %.2f GB/s, first batch %.3f s"
          % (w, x["clips_per_s"], x["batch_gbps"], x["source_gbps"], x["first_batch_s"]))
print("memcpy of the same record bytes: %.2f GB/s" % r["memcpy_gbps"])
'
