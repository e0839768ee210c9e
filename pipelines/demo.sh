#!/usr/bin/env bash
# The main job end to end on sample recordings it makes itself, in two parts.
#  1. The paper's data plane: sample → ingest → segment (large, medium) → extract both in one pass
#     per scan → inspect → three steps of the dual model on the large dataset's shards.
#  2. Does pretraining learn? pipelines/learning-set.sh's labelled sample recordings (48 to
#     pretrain on, 8 others with plane and gaze labels) → the learning run
#     (data-manifests/runs/learning.toml, about 17 minutes on 2 cores) → frozen features → linear
#     probe of the pretrained and the randomly initialised image encoder → their paired gain over
#     the folds → saliency fine-tuning from both → one HTML report of it all.
# Usage: pipelines/demo.sh [--quick] [OUT_DIR]   (default out/demo; --quick: 8 short recordings
#   and 30 steps, every stage in a few minutes, too short to learn; default folder out/demo-quick)
set -euo pipefail
cd "$(dirname "$0")/.."
QUICK=0
if [ "${1:-}" = "--quick" ]; then QUICK=1; shift; fi
case "${1:-}" in -*) echo "error: unknown option $1 (usage: pipelines/demo.sh [--quick] [OUT_DIR])" >&2; exit 1 ;; esac
if [ $QUICK = 1 ]; then OUT="${1:-out/demo-quick}"; SET=(8 30 8); STEPS=(--steps 30 --batch-size 8 --set validation.every=15 --set checkpoints.every=15)
else OUT="${1:-out/demo}"; SET=(48 60 8); STEPS=(); fi
bash scripts/setup.sh
swift build -c release
BIN="$(swift build -c release --show-bin-path)"
mkdir -p "$OUT/recordings"
CATALOG="$OUT/catalog.sqlite"
LEARNING="$OUT/learning"

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
echo "== pretrain: 3 steps of the tiny dual model on the large dataset (R(2+1)D-18, ResNet-18, CNN14 narrowed; MMCL + MMSL)"
# A rerun trains again: its log starts empty (sono-train appends, so that --resume continues one).
rm -f "$OUT/train-large.jsonl" "$OUT/train.jsonl"
"$BIN/sono-train" --catalog "$CATALOG" --datasets large --split all --model tiny --steps 3 --batch-size 4 --out "$OUT/checkpoints-large" --quiet --log "$OUT/train-large.jsonl"

echo "== learning set: ${SET[0]} labelled recordings of ${SET[1]} s to pretrain on, ${SET[2]} others to evaluate on (synthetic standard views, plane labels, gaze)"
bash pipelines/learning-set.sh "$BIN" "$LEARNING" "${SET[@]}"
EVAL="$LEARNING/probe.sqlite"

echo "== pretrain: the learning run (data-manifests/runs/learning.toml; validation retrieval every 300 steps)"
"$BIN/sono-train" --catalog "$LEARNING/pre.sqlite" --config data-manifests/runs/learning.toml ${STEPS[@]+"${STEPS[@]}"} \
  --out "$OUT/checkpoints" --log "$OUT/train.jsonl"

echo "== evaluate: the frozen image encoder on the labelled frames of the evaluation recordings, never seen in pretraining"
"$BIN/sono-embed" --catalog "$EVAL" --dataset planes --checkpoint "$OUT/checkpoints/encoders.safetensors" --out "$OUT/eval/pretrained.npy"
echo "-- linear probe, four folds by scan (pretrained image encoder, then the same network at two random initialisations):"
"$BIN/sono-eval" probe --catalog "$EVAL" --dataset planes --features "$OUT/eval/pretrained.npy" --out "$OUT/eval/probe-pretrained"
for seed in 0 1; do
  "$BIN/sono-embed" --catalog "$EVAL" --dataset planes --model tiny --seed $seed --out "$OUT/eval/random-$seed.npy"
  "$BIN/sono-eval" probe --catalog "$EVAL" --dataset planes --features "$OUT/eval/random-$seed.npy" --out "$OUT/eval/probe-random-$seed"
done
echo "-- the pretrained probe against random init, fold by fold:"
"$BIN/sono-eval" compare --candidate "$OUT/eval/probe-pretrained/probe.json" \
  --baseline "$OUT/eval/probe-random-0/probe.json" --baseline "$OUT/eval/probe-random-1/probe.json" --out "$OUT/eval/probe-gain"
echo "-- saliency: the image encoder + an upsampling decoder fine-tuned on the gaze maps, folds by scan (pretrained, then random init):"
"$BIN/sono-segment" --catalog "$EVAL" --recipe data-manifests/recipes/saliency.toml --quiet
"$BIN/sono-extract" --catalog "$EVAL" --datasets saliency --out "$LEARNING/probe-shards" --quiet
"$BIN/sono-finetune" saliency --catalog "$EVAL" --dataset saliency --init "checkpoint:$OUT/checkpoints/encoders.safetensors" --epochs 3 --quiet --out "$OUT/eval/saliency-pretrained"
"$BIN/sono-finetune" saliency --catalog "$EVAL" --dataset saliency --init random:tiny --epochs 3 --quiet --out "$OUT/eval/saliency-random"

echo "== report: one page of the dataset, the pretraining run and the evaluations"
"$BIN/sono-report" --catalog "$CATALOG" --log "large, 3 steps=$OUT/train-large.jsonl" --log "learning run=$OUT/train.jsonl" \
  --eval "probe, pretrained=$OUT/eval/probe-pretrained/probe.json" --eval "probe, random init 0=$OUT/eval/probe-random-0/probe.json" \
  --eval "probe, random init 1=$OUT/eval/probe-random-1/probe.json" --eval "probe, pretrained − random init=$OUT/eval/probe-gain/comparison.json" \
  --eval "saliency, pretrained=$OUT/eval/saliency-pretrained/report.json" --eval "saliency, random init=$OUT/eval/saliency-random/report.json" \
  --out "$OUT/report" --title "SonoDual demo"

echo "== done: report $OUT/report/report.html; catalogs $CATALOG (large, medium), $LEARNING/pre.sqlite (learning run) and $EVAL (evaluation), shards under $OUT/datasets and $LEARNING, previews in $OUT/previews, checkpoints in $OUT/checkpoints, probe, gain and saliency tables in $OUT/eval"
