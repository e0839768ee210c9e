#!/usr/bin/env bash
# Benchmark (issues 5 and 18): extracting BOTH datasets (large 2 s + medium 6 s) from a generated
# 1008x784 30 fps recording, divided by `ffmpeg -threads 2 -i X -f null -` on the same file in the
# same run: the default (planned) decode, `--decode all`, and the packets decoded / total; with the
# default recipes and with every window selected (selection mode "none"); on the generated x264
# recording (B-frames on) and on the same content with B-frames off. Also the peak RSS, and the
# gain and PSNR of skipping H.264 deblocking. Best of RUNS for each timing (the 2 cores are shared).
# Usage: benchmarks/extract.sh [SECONDS=600] [RUNS=2]
set -euo pipefail
cd "$(dirname "$0")/.."
LEN="${1:-600}"; RUNS="${2:-2}"
bash scripts/setup.sh
swift build -c release >/dev/null
BIN="$(swift build -c release --show-bin-path)"
mkdir -p out/bench
VIDEO="out/bench/bench_${LEN}s.mp4"
NOB="out/bench/bench_${LEN}s_nob.mp4"
[ -f "$VIDEO" ] || "$BIN/sono-sample" --out out/bench --name "bench_${LEN}s" --seconds "$LEN" >/dev/null
[ -f "$NOB" ] || ffmpeg -hide_banner -loglevel error -i "$VIDEO" -c:v libx264 -preset veryfast -bf 0 -c:a copy "$NOB"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/sonodual-extract.XXXXXX")"; trap 'rm -rf "$WORK"' EXIT

# Every window selected: the default recipes with selection mode "none", under other names.
for r in large medium; do
  sed -e "s/^name = \"$r\"/name = \"$r-all\"/" -e 's/^mode = .*/mode = "none"/' "data-manifests/recipes/$r.toml" > "$WORK/$r-all.toml"
done

now() { date +%s.%N; }
best() { python3 -c "import sys; print(min(float(x) for x in sys.argv[1:]))" "$@"; }
ratio() { python3 -c "import sys; print('%.3f' % (float(sys.argv[1]) / float(sys.argv[2])))" "$1" "$2"; }

# One catalog per recording, with both recipe pairs segmented.
for v in "$VIDEO" "$NOB"; do
  name=$(basename "$v" .mp4)
  printf 'scan_id,video\nbench,%s\n' "$(realpath "$v")" > "$WORK/$name.csv"
  "$BIN/sono-ingest" --catalog "$WORK/$name.sqlite" --manifest "$WORK/$name.csv" --quiet >/dev/null
  for r in data-manifests/recipes/large.toml data-manifests/recipes/medium.toml "$WORK/large-all.toml" "$WORK/medium-all.toml"; do
    "$BIN/sono-segment" --catalog "$WORK/$name.sqlite" --recipe "$r" --quiet >/dev/null
  done
done

# extract VIDEO NAME DATASETS ARGS...: seconds of one extraction into a fresh copy of the catalog;
# its summary in $WORK/last.txt.
extract() {
  local name=$1 sets=$2; shift 2
  rm -rf "$WORK/run"; mkdir -p "$WORK/run"; cp "$WORK/$name.sqlite" "$WORK/run/c.sqlite"
  local t0 t1; t0=$(now)
  "$BIN/sono-extract" --catalog "$WORK/run/c.sqlite" --datasets "$sets" --out "$WORK/run/out" --quiet "$@" > "$WORK/last.txt"
  t1=$(now); python3 -c "print($t1 - $t0)"
}

printf "recording: %s (%s s, 1008x784, 30 fps); the same content re-encoded with -bf 0: %s\n" "$VIDEO" "$LEN" "$NOB"
printf "%-12s %-18s %-30s %8s %7s  %s\n" recording recipes mode seconds ratio "packets decoded / total"
for v in "$VIDEO" "$NOB"; do
  name=$(basename "$v" .mp4)
  cat "$v" > /dev/null
  ff=(); for i in $(seq "$RUNS"); do t0=$(now); ffmpeg -hide_banner -loglevel error -threads 2 -i "$v" -f null -; t1=$(now); ff+=("$(python3 -c "print($t1 - $t0)")"); done
  F=$(best "${ff[@]}")
  printf "%-12s %-18s %-30s %8.2f %7s\n" "${name#bench_}" - "ffmpeg -threads 2 -f null" "$F" 1.000
  for sets in large,medium large-all,medium-all; do
    for mode in "--decode planned" "--decode all" "--decode planned --skip-loop-filter"; do
      # shellcheck disable=SC2086
      ts=(); for i in $(seq "$RUNS"); do ts+=("$(extract "$name" "$sets" $mode)"); done
      T=$(best "${ts[@]}")
      packets=$(sed -n 's/.*decode planned on [0-9]* scans: \([0-9]* of [0-9]*\) packets decoded (\([0-9]*\) %).*/\1 (\2 %)/p' "$WORK/last.txt")
      rss=$(sed -n 's/.*peak RSS \([0-9]*\) MiB.*/\1 MiB/p' "$WORK/last.txt")
      printf "%-12s %-18s %-30s %8.2f %7s  %s  peak RSS %s\n" "${name#bench_}" "$sets" "${mode#--decode }" "$T" "$(ratio "$T" "$F")" "${packets:--}" "$rss"
    done
  done
done
grep -E "records" "$WORK/last.txt" | sed 's/^ */last run: /'
printf "skip-loop-filter PSNR vs exact (128x128) : %s\n" "$("$BIN/sono-bench" loopfilter "$VIDEO" --every 30)"
