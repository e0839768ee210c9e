#!/usr/bin/env bash
# Benchmark (issue 4): shard write throughput (GB/s, fsync included) and random-order record
# reads from the page cache (records/s, GB/s) against memcpy of the same bytes, in one run.
# Usage: benchmarks/shards.sh [RECORDS=2000] [LAYOUT=clip2s]
set -euo pipefail
cd "$(dirname "$0")/.."
RECORDS="${1:-2000}"; LAYOUT="${2:-clip2s}"
bash scripts/setup.sh
swift build -c release --product sono-bench >/dev/null
BIN="$(swift build -c release --show-bin-path)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/sonodual-shards.XXXXXX")"; trap 'rm -rf "$WORK"' EXIT
"$BIN/sono-bench" shards --catalog "$WORK/c.sqlite" --root "$WORK/ds" --records "$RECORDS" --layout "$LAYOUT" --pool 16 --read \
  | python3 -c '
import json, sys
r = json.loads(sys.stdin.read())
print("records %d (%.2f GB in %d shards)" % (r["records"], r["bytes"] / 1e9, r["shards"]))
print("write (incl. fsync, CRC, catalog index): %.2f GB/s" % r["write_gbps"])
print("random-order read from page cache:       %.0f records/s, %.2f GB/s" % (r["read_records_per_s"], r["read_gbps"]))
print("memcpy of the same bytes:                %.2f GB/s  -> read/memcpy = %.2f" % (r["memcpy_gbps"], r["read_vs_memcpy"]))
'
