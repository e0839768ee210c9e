#!/usr/bin/env bash
# Builds the large and medium datasets from your own recordings.
# Usage: pipelines/run-manifest.sh MANIFEST.csv OUT_DIR [RECIPE...]
#   MANIFEST.csv: scan_id,video[,audio,audio_offset_ms,crop] (see data-manifests/README.md)
#   RECIPE: dataset recipes (default data-manifests/recipes/large.toml and medium.toml)
# Every stage is resumable: run the same command again after an interruption.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { sed -n '2,6p' "$0"; exit 1; }
MANIFEST="$1"; OUT="$2"; shift 2
RECIPES=("$@"); [ ${#RECIPES[@]} -gt 0 ] || RECIPES=(data-manifests/recipes/large.toml data-manifests/recipes/medium.toml)
bash scripts/setup.sh
swift build -c release
BIN="$(swift build -c release --show-bin-path)"
mkdir -p "$OUT"
CATALOG="$OUT/catalog.sqlite"
status=0
"$BIN/sono-ingest" --catalog "$CATALOG" --manifest "$MANIFEST" || status=$?
names=()
for r in "${RECIPES[@]}"; do
  "$BIN/sono-segment" --catalog "$CATALOG" --recipe "$r" || status=$?
  names+=("$(sed -n 's/^name *= *"\(.*\)".*/\1/p' "$r")")
done
"$BIN/sono-extract" --catalog "$CATALOG" --datasets "$(IFS=,; echo "${names[*]}")" --out "$OUT/datasets" || status=$?
"$BIN/sono-inspect" summary --catalog "$CATALOG"
exit $status
