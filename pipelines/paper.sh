#!/usr/bin/env bash
# The paper's Tables 1–3 on labelled sample recordings this script makes (issue 15):
# sample → ingest → segment "large" and "medium" → extract → pretrain (ours-large, ours-medium,
# and the ablations mmcl-only, mmsl-only, no-image on medium) → labelled evaluation scans in a
# catalog of their own → planes and saliency frame datasets with folds by scan → fine-tune
# planes and saliency from random init, ImageNet init (when IMAGENET names a torchvision
# resnet18 safetensors file; else skipped with a note) and each pretrained checkpoint →
# `sono-eval tables` → OUT/tables.md.
#
# Usage: pipelines/paper.sh [OUT_DIR]   (default out/paper)
# Settings (environment): MODEL=tiny|full, SCANS (pretraining recordings), SECONDS_PER_SCAN,
# EVAL_SCANS, STEPS, BATCH, EPOCHS, SEED (pretraining and fine-tuning; the recordings stay),
# IMAGENET=FILE (torchvision resnet18 safetensors).
# Your own data instead of samples: PRETRAIN_MANIFEST (sono-ingest manifest of the pretraining
# recordings), EVAL_MANIFEST with PLANES and GAZE (label CSVs, docs/evaluation.md) for the
# labelled evaluation scans; see docs/evaluation.md, "The paper's tables".
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-out/paper}"
MODEL="${MODEL:-tiny}"; SCANS="${SCANS:-6}"; SECONDS_PER_SCAN="${SECONDS_PER_SCAN:-60}"; EVAL_SCANS="${EVAL_SCANS:-4}"
STEPS="${STEPS:-60}"; BATCH="${BATCH:-8}"; EPOCHS="${EPOCHS:-6}"; SEED="${SEED:-0}"
bash scripts/setup.sh
swift build -c release
BIN="$(swift build -c release --show-bin-path)"
started=$(date +%s)
mkdir -p "$OUT/rec" "$OUT/eval-rec" "$OUT/finetune"
PRE="$OUT/pretrain.sqlite"; EVAL="$OUT/eval.sqlite"

if [ -n "${PRETRAIN_MANIFEST:-}" ]; then
  echo "== pretraining recordings: $PRETRAIN_MANIFEST"
  "$BIN/sono-ingest" --catalog "$PRE" --manifest "$PRETRAIN_MANIFEST" --quiet
else
  echo "== pretraining recordings: $SCANS labelled sample scans of $SECONDS_PER_SCAN s"
  printf 'scan_id,video\n' > "$OUT/pretrain.csv"
  for i in $(seq 1 "$SCANS"); do
    [ -f "$OUT/rec/pre_$i.mp4" ] || "$BIN/sono-sample" --out "$OUT/rec" --name "pre_$i" --seconds "$SECONDS_PER_SCAN" --size 320x256 --fps 15 --seed $((100 + i)) --labelled >/dev/null
    printf 'pre_%s,rec/pre_%s.mp4\n' "$i" "$i" >> "$OUT/pretrain.csv"
  done
  "$BIN/sono-ingest" --catalog "$PRE" --manifest "$OUT/pretrain.csv" --quiet
fi
"$BIN/sono-segment" --catalog "$PRE" --recipe data-manifests/recipes/large.toml --quiet
"$BIN/sono-segment" --catalog "$PRE" --recipe data-manifests/recipes/medium.toml --quiet
"$BIN/sono-extract" --catalog "$PRE" --datasets large,medium --out "$OUT/datasets" --quiet

pretrain() {  # NAME DATASET PRESET
  if [ ! -f "$OUT/runs/$1/encoders.safetensors" ]; then
    "$BIN/sono-train" --catalog "$PRE" --datasets "$2" --split train --model "$MODEL" --preset "$3" --steps "$STEPS" --seed "$SEED" \
      --batch-size "$BATCH" --validate-every "$STEPS" --out "$OUT/runs/$1" --log "$OUT/runs/$1.jsonl" --quiet
  fi
  echo "pretrained $1 ($2, $3): $(tail -n 1 "$OUT/runs/$1.jsonl" | head -c 300)"
}
echo "== pretrain ($MODEL model, $STEPS steps of $BATCH)"
pretrain ours-large large full
pretrain ours-medium medium full
for preset in mmcl-only mmsl-only no-image; do pretrain "$preset" medium "$preset"; done

if [ -n "${EVAL_MANIFEST:-}" ]; then
  echo "== evaluation: $EVAL_MANIFEST, planes $PLANES, gaze $GAZE"
  "$BIN/sono-ingest" --catalog "$EVAL" --manifest "$EVAL_MANIFEST" --quiet
  cp "$PLANES" "$OUT/planes.csv"; cp "$GAZE" "$OUT/gaze.csv"
else
  echo "== evaluation: $EVAL_SCANS labelled scans no pretraining saw, planes and gaze"
  printf 'scan_id,video\n' > "$OUT/eval.csv"
  for i in $(seq 1 "$EVAL_SCANS"); do
    [ -f "$OUT/eval-rec/eval_$i.mp4" ] || "$BIN/sono-sample" --out "$OUT/eval-rec" --name "eval_$i" --seconds 40 --size 320x256 --fps 15 --seed $((500 + i)) --labelled >/dev/null
    printf 'eval_%s,eval-rec/eval_%s.mp4\n' "$i" "$i" >> "$OUT/eval.csv"
  done
  "$BIN/sono-ingest" --catalog "$EVAL" --manifest "$OUT/eval.csv" --quiet
  merge_csv() { head -1 "$1"; for f in "$@"; do tail -n +2 "$f"; done; }
  merge_csv "$OUT"/eval-rec/eval_*.planes.csv > "$OUT/planes.csv"
  merge_csv "$OUT"/eval-rec/eval_*.gaze.csv > "$OUT/gaze.csv"
fi
"$BIN/sono-ingest" labels --catalog "$EVAL" --planes "$OUT/planes.csv" --name planes
"$BIN/sono-ingest" labels --catalog "$EVAL" --gaze "$OUT/gaze.csv" --name gaze
"$BIN/sono-segment" --catalog "$EVAL" --recipe data-manifests/recipes/planes.toml --quiet
"$BIN/sono-segment" --catalog "$EVAL" --recipe data-manifests/recipes/saliency.toml --quiet
"$BIN/sono-extract" --catalog "$EVAL" --datasets planes,saliency --out "$OUT/eval-datasets" --quiet

finetune() {  # NAME INIT
  "$BIN/sono-finetune" planes --catalog "$EVAL" --dataset planes --init "$2" --epochs "$EPOCHS" --seed "$SEED" --quiet --out "$OUT/finetune/$1/planes"
  "$BIN/sono-finetune" saliency --catalog "$EVAL" --dataset saliency --init "$2" --epochs "$EPOCHS" --seed "$SEED" --quiet --out "$OUT/finetune/$1/saliency"
}
echo "== fine-tune, folds by scan"
rows=(--run "random=$OUT/finetune/random")
finetune random "random:$MODEL"
if [ -n "${IMAGENET:-}" ]; then
  finetune imagenet "imagenet:$IMAGENET"; rows+=(--run "ImageNet=$OUT/finetune/imagenet")
else
  echo "note: ImageNet initialisation skipped (set IMAGENET to a torchvision resnet18 safetensors file)"
fi
for run in ours-large ours-medium; do finetune "$run" "checkpoint:$OUT/runs/$run/encoders.safetensors"; rows+=(--run "$run=$OUT/finetune/$run"); done
ablations=(--ablation "full (MMCL + MMSL)=$OUT/finetune/ours-medium")
for preset in mmcl-only mmsl-only no-image; do
  finetune "$preset" "checkpoint:$OUT/runs/$preset/encoders.safetensors"; ablations+=(--ablation "$preset=$OUT/finetune/$preset")
done

echo "== tables"
"$BIN/sono-eval" tables "${rows[@]}" "${ablations[@]}" --out "$OUT/tables.md" \
  --note "no-image never runs the image encoder, so its image encoder is its initialisation: the same weights as random's (same seed), and its rows equal random's."
echo "== report"
evals=()
for dir in "$OUT"/finetune/*/; do
  name=$(basename "$dir")
  for task in planes saliency; do if [ -f "$dir/$task/report.json" ]; then evals+=(--eval "$name, $task=$dir/$task/report.json"); fi; done
done
logs=()
for log in "$OUT"/runs/*.jsonl; do if [ -f "$log" ]; then logs+=(--log "$(basename "$log" .jsonl)=$log"); fi; done
"$BIN/sono-report" --catalog "$PRE" "${logs[@]}" "${evals[@]}" --out "$OUT/report" --title "SonoDual: the paper's tables"
echo "== done in $(( $(date +%s) - started )) s: $OUT/tables.md, $OUT/report/report.html"
