#!/usr/bin/env bash
# Benchmark (issue 18, item 5): many scans. SCANS generated 1008x784 recordings of SECONDS each,
# both datasets (large + medium, default recipes, planned decode), extracted with scans in
# parallel (--jobs) and frame threads per scan (--threads) in every combination that fills the
# machine's cores, against one scan at a time with frame threads, in the same run. Best of RUNS.
# Usage: benchmarks/extract_jobs.sh [SCANS=4] [SECONDS=60] [RUNS=2]
set -euo pipefail
cd "$(dirname "$0")/.."
SCANS="${1:-4}"; LEN="${2:-60}"; RUNS="${3:-2}"
CORES=$(nproc)
bash scripts/setup.sh
swift build -c release >/dev/null
BIN="$(swift build -c release --show-bin-path)"
mkdir -p out/bench
WORK="$(mktemp -d "${TMPDIR:-/tmp}/sonodual-jobs.XXXXXX")"; trap 'rm -rf "$WORK"' EXIT
echo "scan_id,video" > "$WORK/manifest.csv"
for k in $(seq "$SCANS"); do
  v="out/bench/jobs_${LEN}s_$k.mp4"
  [ -f "$v" ] || "$BIN/sono-sample" --out out/bench --name "jobs_${LEN}s_$k" --seconds "$LEN" --seed "$k" >/dev/null
  echo "scan$k,$(realpath "$v")" >> "$WORK/manifest.csv"
  cat "$v" > /dev/null
done
"$BIN/sono-ingest" --catalog "$WORK/c.sqlite" --manifest "$WORK/manifest.csv" --quiet >/dev/null
for r in large medium; do "$BIN/sono-segment" --catalog "$WORK/c.sqlite" --recipe "data-manifests/recipes/$r.toml" --quiet >/dev/null; done

now() { date +%s.%N; }
run() {
  rm -rf "$WORK/run"; mkdir -p "$WORK/run"; cp "$WORK/c.sqlite" "$WORK/run/c.sqlite"
  local t0 t1; t0=$(now)
  "$BIN/sono-extract" --catalog "$WORK/run/c.sqlite" --datasets large,medium --out "$WORK/run/out" --quiet "$@" > "$WORK/last.txt"
  t1=$(now); python3 -c "print($t1 - $t0)"
}
printf "%d scans of %s s, %d cores\n%-24s %8s %7s\n" "$SCANS" "$LEN" "$CORES" "setting" seconds "ratio"
base=""
for setting in "1 $CORES" "$CORES 1" "$CORES 2" "default"; do
  if [ "$setting" = default ]; then args=(--jobs "$CORES"); label="--jobs $CORES (default threads)"
  else set -- $setting; args=(--jobs "$1" --threads "$2"); label="--jobs $1 --threads $2"; fi
  ts=(); for i in $(seq "$RUNS"); do ts+=("$(run "${args[@]}")"); done
  T=$(python3 -c "import sys; print(min(float(x) for x in sys.argv[1:]))" "${ts[@]}")
  [ -n "$base" ] || base=$T
  printf "%-24s %8.2f %7.3f\n" "$label" "$T" "$(python3 -c "print($T / $base)")"
done
