#!/usr/bin/env bash
# The main job end to end on sample recordings it makes itself:
# sample → ingest → segment (large, medium) → extract both in one pass per scan → inspect →
# a few pretraining steps of a small (narrow) dual model from the shards → labelled sample scans
# → plane and gaze labels → labelled frame datasets → frozen features → linear probe against
# random initialisation → saliency fine-tuning (pretrained against random initialisation).
# Usage: pipelines/demo.sh [OUT_DIR]   (default out/demo)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-out/demo}"
bash scripts/setup.sh
swift build -c release
BIN="$(swift build -c release --show-bin-path)"
mkdir -p "$OUT/recordings"
CATALOG="$OUT/catalog.sqlite"
# The labelled evaluation scans live in a catalog of their own: a rerun segments the pretraining
# recipes over every recording of its catalog, and must not pull them into pretraining.
EVAL="$OUT/eval.sqlite"

echo "== sample recordings (2 scans of 60 s, 1008x784, 30 fps, stereo speech)"
"$BIN/sono-sample" --out "$OUT/recordings" --name demo_scan_a --seconds 60 --seed 1 >/dev/null
"$BIN/sono-sample" --out "$OUT/recordings" --name demo_scan_b --seconds 60 --seed 2 --snr-db 10 --hum >/dev/null
printf 'scan_id,video\ndemo_scan_a,recordings/demo_scan_a.mp4\ndemo_scan_b,recordings/demo_scan_b.mp4\n' > "$OUT/manifest.csv"

echo "== ingest"
"$BIN/sono-ingest" --catalog "$CATALOG" --manifest "$OUT/manifest.csv"

echo "== segment"
"$BIN/sono-segment" --catalog "$CATALOG" --recipe data-manifests/recipes/large.toml
"$BIN/sono-segment" --catalog "$CATALOG" --recipe data-manifests/recipes/medium.toml

echo "== extract (one decode pass per scan serves both datasets)"
"$BIN/sono-extract" --catalog "$CATALOG" --datasets large,medium --out "$OUT/datasets"

echo "== inspect"
"$BIN/sono-inspect" summary --catalog "$CATALOG"
"$BIN/sono-inspect" verify --catalog "$CATALOG"
"$BIN/sono-inspect" show --catalog "$CATALOG" 1 --png "$OUT/previews"
echo "== pretrain: 3 steps of the tiny dual model (R(2+1)D-18, ResNet-18, CNN14 narrowed; MMCL + MMSL)"
"$BIN/sono-train" --catalog "$CATALOG" --datasets large --split all --model tiny --steps 3 --batch-size 4 --out "$OUT/checkpoints" --quiet --log "$OUT/train.jsonl"
tail -n 1 "$OUT/train.jsonl"

echo "== evaluate: labelled sample scans (synthetic standard views, plane labels, gaze) never seen in pretraining"
for i in 1 2 3; do
  "$BIN/sono-sample" --out "$OUT/labelled" --name demo_labelled_$i --seconds 30 --size 320x256 --fps 15 --seed $((10 + i)) --labelled >/dev/null
done
printf 'scan_id,video\n' > "$OUT/labelled.csv"
for i in 1 2 3; do printf 'demo_labelled_%s,labelled/demo_labelled_%s.mp4\n' $i $i >> "$OUT/labelled.csv"; done
"$BIN/sono-ingest" --catalog "$EVAL" --manifest "$OUT/labelled.csv" --quiet
merge_csv() { head -1 "$1"; for f in "$@"; do tail -n +2 "$f"; done; }
merge_csv "$OUT"/labelled/demo_labelled_*.planes.csv > "$OUT/planes.csv"
merge_csv "$OUT"/labelled/demo_labelled_*.gaze.csv > "$OUT/gaze.csv"
"$BIN/sono-ingest" labels --catalog "$EVAL" --planes "$OUT/planes.csv" --name planes
"$BIN/sono-ingest" labels --catalog "$EVAL" --gaze "$OUT/gaze.csv" --name gaze
"$BIN/sono-segment" --catalog "$EVAL" --recipe data-manifests/recipes/planes.toml --quiet
"$BIN/sono-segment" --catalog "$EVAL" --recipe data-manifests/recipes/saliency.toml --quiet
"$BIN/sono-extract" --catalog "$EVAL" --datasets planes,saliency --out "$OUT/eval-datasets" --quiet
"$BIN/sono-embed" --catalog "$EVAL" --dataset planes --checkpoint "$OUT/checkpoints/encoders.safetensors" --out "$OUT/eval/pretrained.npy"
"$BIN/sono-embed" --catalog "$EVAL" --dataset planes --model tiny --seed 0 --out "$OUT/eval/random.npy"
echo "-- linear probe, folds by scan (pretrained image encoder, then the same network at its random initialisation):"
"$BIN/sono-eval" probe --catalog "$EVAL" --dataset planes --features "$OUT/eval/pretrained.npy" --out "$OUT/eval/probe-pretrained"
"$BIN/sono-eval" probe --catalog "$EVAL" --dataset planes --features "$OUT/eval/random.npy" --out "$OUT/eval/probe-random"
echo "-- saliency: the image encoder + an upsampling decoder fine-tuned on the gaze maps, folds by scan (pretrained, then random init):"
"$BIN/sono-finetune" saliency --catalog "$EVAL" --dataset saliency --init "checkpoint:$OUT/checkpoints/encoders.safetensors" --epochs 3 --quiet --out "$OUT/eval/saliency-pretrained"
"$BIN/sono-finetune" saliency --catalog "$EVAL" --dataset saliency --init random:tiny --epochs 3 --quiet --out "$OUT/eval/saliency-random"

echo "== report: one page of the dataset, the pretraining run and the evaluations"
"$BIN/sono-report" --catalog "$CATALOG" --log "pretrain=$OUT/train.jsonl" \
  --eval "probe, pretrained=$OUT/eval/probe-pretrained/probe.json" --eval "probe, random init=$OUT/eval/probe-random/probe.json" \
  --eval "saliency, pretrained=$OUT/eval/saliency-pretrained/report.json" --eval "saliency, random init=$OUT/eval/saliency-random/report.json" \
  --out "$OUT/report" --title "SonoDual demo"

echo "== done: report $OUT/report/report.html; catalogs $CATALOG (pretraining) and $EVAL (evaluation), shards under $OUT/datasets and $OUT/eval-datasets, previews in $OUT/previews, checkpoint in $OUT/checkpoints, probe and saliency tables in $OUT/eval"
