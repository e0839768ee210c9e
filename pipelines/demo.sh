#!/usr/bin/env bash
# The main job end to end on a sample recording it makes itself:
# sample → ingest → decode summary (segment, extract and training join as they land).
# Usage: pipelines/demo.sh [OUT_DIR]   (default out/demo)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-out/demo}"
bash scripts/setup.sh
swift build -c release
BIN="$(swift build -c release --show-bin-path)"
mkdir -p "$OUT"

echo "== sample recording (60 s, 1008x784, 30 fps, stereo speech)"
"$BIN/sono-sample" --out "$OUT/recordings" --name demo_scan --seconds 60 --manifest "$OUT/manifest.csv"

echo "== ingest"
"$BIN/sono-ingest" --catalog "$OUT/catalog.sqlite" --manifest "$OUT/manifest.csv"

echo "== decode summary (128x128 gray, 32 kHz mono)"
"$BIN/sono-inspect" decode --catalog "$OUT/catalog.sqlite"

echo "== done: catalog $OUT/catalog.sqlite, recordings in $OUT/recordings"
