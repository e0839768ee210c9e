#!/usr/bin/env bash
# The labelled sample set that shows whether a pretraining learns (issue 14): pretraining
# recordings and, apart from them, probe recordings no objective sees, each in its own catalog.
#   WORK/pre.sqlite    SCANS labelled recordings of SECONDS s (seeds 100…): the speech-aligned
#                      4 s clips of data-manifests/recipes/learning.toml ("clips"), split by scan
#   WORK/probe.sqlite  PROBE_SCANS labelled recordings of 40 s (seeds 200…) with their plane and
#                      gaze label sets: the 64 px frames of data-manifests/recipes/learning-planes.toml
#                      ("planes", four folds by scan)
# pipelines/demo.sh, benchmarks/learning.py and LearningTests all build it here, so they judge
# on the same recordings. A rerun keeps what is done and finishes the rest.
# Usage: pipelines/learning-set.sh BIN WORK [SCANS=48] [SECONDS=60] [PROBE_SCANS=8]
set -euo pipefail
[ $# -ge 2 ] || { sed -n '2,11p' "$0"; exit 1; }
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="$1"; WORK="$2"; SCANS="${3:-48}"; SECONDS_EACH="${4:-60}"; PROBE_SCANS="${5:-8}"
mkdir -p "$WORK/rec"
# A folder holds one set: a rerun with other sizes would mix two.
SET="scans=$SCANS seconds=$SECONDS_EACH probe_scans=$PROBE_SCANS"
if [ -e "$WORK/learning-set.txt" ] && [ "$(cat "$WORK/learning-set.txt")" != "$SET" ]; then
  echo "error: $WORK holds the learning set with $(cat "$WORK/learning-set.txt"), not $SET: give another folder" >&2
  exit 1
fi
echo "$SET" > "$WORK/learning-set.txt"

# sample PREFIX COUNT SECONDS SEED0: labelled recordings WORK/rec/PREFIX0… (as many at once as
# there are cores) and their manifest WORK/PREFIX.csv. The gaze CSV is written last, so a
# recording that has it is complete.
sample() {
  local prefix="$1" count="$2" seconds="$3" seed0="$4" k pids=()
  for ((k = 0; k < count; k++)); do
    [ -e "$WORK/rec/$prefix$k.gaze.csv" ] && continue
    "$BIN/sono-sample" --out "$WORK/rec" --name "$prefix$k" --seconds "$seconds" --size 320x256 --fps 15 \
      --seed $((seed0 + k)) --labelled >/dev/null &
    pids+=($!)
    if ((${#pids[@]} >= $(nproc))); then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
  done
  for pid in "${pids[@]}"; do wait "$pid"; done
  { echo "scan_id,video"; for ((k = 0; k < count; k++)); do echo "$prefix$k,$WORK/rec/$prefix$k.mp4"; done; } > "$WORK/$prefix.csv"
}

# labels KIND: every probe recording's KIND CSV (planes, gaze) as one, under one header.
labels() {
  local k
  head -n 1 "$WORK/rec/q0.$1.csv"
  for ((k = 0; k < PROBE_SCANS; k++)); do tail -n +2 "$WORK/rec/q$k.$1.csv"; done
}

if [ ! -e "$WORK/pre.done" ]; then
  sample p "$SCANS" "$SECONDS_EACH" 100
  "$BIN/sono-ingest" --catalog "$WORK/pre.sqlite" --manifest "$WORK/p.csv" --quiet
  "$BIN/sono-segment" --catalog "$WORK/pre.sqlite" --recipe "$ROOT/data-manifests/recipes/learning.toml" --quiet
  "$BIN/sono-extract" --catalog "$WORK/pre.sqlite" --datasets clips --out "$WORK/pre-shards" --quiet
  touch "$WORK/pre.done"
fi
if [ ! -e "$WORK/probe.done" ]; then
  sample q "$PROBE_SCANS" 40 200
  "$BIN/sono-ingest" --catalog "$WORK/probe.sqlite" --manifest "$WORK/q.csv" --quiet
  labels planes > "$WORK/planes.csv"
  labels gaze > "$WORK/gaze.csv"
  "$BIN/sono-ingest" labels --catalog "$WORK/probe.sqlite" --planes "$WORK/planes.csv" --name planes
  "$BIN/sono-ingest" labels --catalog "$WORK/probe.sqlite" --gaze "$WORK/gaze.csv" --name gaze
  "$BIN/sono-segment" --catalog "$WORK/probe.sqlite" --recipe "$ROOT/data-manifests/recipes/learning-planes.toml" --quiet
  "$BIN/sono-extract" --catalog "$WORK/probe.sqlite" --datasets planes --out "$WORK/probe-shards" --quiet
  touch "$WORK/probe.done"
fi
