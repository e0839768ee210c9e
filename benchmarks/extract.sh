#!/usr/bin/env bash
# Benchmark (issue 5): extracting BOTH datasets (large 2 s + medium 6 s) from a generated
# 1008x784 30 fps recording, in one run, divided by `ffmpeg -threads 2 -i X -f null -` on the
# same file in the same run; the peak RSS of the extraction; the gain and PSNR of skipping
# H.264 deblocking. Best of RUNS for each timing (the 2 cores are shared).
# Usage: benchmarks/extract.sh [SECONDS=600] [RUNS=2]
set -euo pipefail
cd "$(dirname "$0")/.."
LEN="${1:-600}"; RUNS="${2:-2}"
bash scripts/setup.sh
swift build -c release >/dev/null
BIN="$(swift build -c release --show-bin-path)"
mkdir -p out/bench
VIDEO="out/bench/bench_${LEN}s.mp4"
[ -f "$VIDEO" ] || "$BIN/sono-sample" --out out/bench --name "bench_${LEN}s" --seconds "$LEN" >/dev/null
WORK="$(mktemp -d "${TMPDIR:-/tmp}/sonodual-extract.XXXXXX")"; trap 'rm -rf "$WORK"' EXIT
printf 'scan_id,video\nbench,%s\n' "$(realpath "$VIDEO")" > "$WORK/manifest.csv"
"$BIN/sono-ingest" --catalog "$WORK/planned.sqlite" --manifest "$WORK/manifest.csv" --quiet >/dev/null
"$BIN/sono-segment" --catalog "$WORK/planned.sqlite" --recipe data-manifests/recipes/large.toml --quiet | head -2
"$BIN/sono-segment" --catalog "$WORK/planned.sqlite" --recipe data-manifests/recipes/medium.toml --quiet | head -2

now() { date +%s.%N; }
best() { python3 -c "import sys; print(min(float(x) for x in sys.argv[1:]))" "$@"; }
cat "$VIDEO" > /dev/null
ff=(); ours=(); fast=(); rss=""
for i in $(seq "$RUNS"); do
  t0=$(now); ffmpeg -hide_banner -loglevel error -threads 2 -i "$VIDEO" -f null -; t1=$(now); ff+=("$(echo "$t1 - $t0" | bc -l)")
  for mode in exact fast; do
    rm -rf "$WORK/run"; mkdir -p "$WORK/run"; cp "$WORK/planned.sqlite" "$WORK/run/c.sqlite"
    extra=(); [ "$mode" = fast ] && extra=(--skip-loop-filter)
    t0=$(now)
    line=$("$BIN/sono-extract" --catalog "$WORK/run/c.sqlite" --datasets large,medium --out "$WORK/run/out" --quiet "${extra[@]}" | head -1)
    t1=$(now)
    if [ "$mode" = exact ]; then ours+=("$(echo "$t1 - $t0" | bc -l)"); rss="$line"; else fast+=("$(echo "$t1 - $t0" | bc -l)"); fi
  done
done
"$BIN/sono-extract" --catalog "$WORK/run/c.sqlite" --datasets large,medium --quiet >/dev/null  # (no-op: resumable)
"$BIN/sono-inspect" summary --catalog "$WORK/run/c.sqlite" | grep dataset
F=$(best "${ff[@]}"); O=$(best "${ours[@]}"); S=$(best "${fast[@]}")
psnr=$("$BIN/sono-bench" loopfilter "$VIDEO" --every 30)
printf "recording: %s (%s s, 1008x784, 30 fps)\n" "$VIDEO" "$LEN"
printf "ffmpeg -threads 2 -i X -f null -        : %.2f s\n" "$F"
printf "sono-extract large+medium (exact)        : %.2f s  -> ratio %.3f\n" "$O" "$(echo "$O / $F" | bc -l)"
printf "sono-extract --skip-loop-filter          : %.2f s  -> ratio %.3f\n" "$S" "$(echo "$S / $F" | bc -l)"
printf "peak RSS (exact run)                     : %s\n" "$(echo "$rss" | sed -n 's/.*peak RSS \([0-9]*\) MiB.*/\1 MiB/p')"
printf "skip-loop-filter PSNR vs exact (128x128) : %s\n" "$psnr"
